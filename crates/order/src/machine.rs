//! State machines whose allowed transitions are data: a table of [`Edge`]s (from, to, who may
//! take it). Anything not in the table is refused with a code; every transition taken is kept
//! as a [`Record`] (who, when, why).

use std::fmt::Debug;

use omnicart_engine::Timestamp;
use serde::{Deserialize, Serialize};

use crate::OrderError;

/// Who acts on an order. The order's own machine decides by [`Role`] what each may do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub role: Role,
    /// The customer's, staff member's or job's id (`cus_…`, `staff_…`, `sweeper`).
    pub id: String,
}

impl Actor {
    pub fn new(role: Role, id: impl Into<String>) -> Actor {
        Actor {
            role,
            id: id.into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The shopper the order belongs to.
    Customer,
    /// A person serving shoppers: call centre, store associate, warehouse.
    Staff,
    /// The server itself or an integration acting for it (sweepers, payment results, a WMS).
    System,
}

/// A set of [`Role`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles(u8);

impl Roles {
    pub const CUSTOMER: Roles = Roles(1);
    pub const STAFF: Roles = Roles(2);
    pub const SYSTEM: Roles = Roles(4);
    /// Staff or the system: everything that is not the shopper's own doing.
    pub const OPERATIONS: Roles = Roles(2 | 4);
    pub const ANYONE: Roles = Roles(1 | 2 | 4);

    pub fn contains(self, role: Role) -> bool {
        let bit = match role {
            Role::Customer => Roles::CUSTOMER.0,
            Role::Staff => Roles::STAFF.0,
            Role::System => Roles::SYSTEM.0,
        };
        self.0 & bit != 0
    }
}

/// One allowed transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge<S> {
    pub from: S,
    pub to: S,
    pub by: Roles,
}

/// A state machine's states and its table of allowed transitions.
pub trait Machine: Copy + Eq + Debug + 'static {
    /// Every allowed transition. A state with no edge out of it is final.
    const EDGES: &'static [Edge<Self>];

    /// The state's wire name (`in_fulfilment`): stable, as stored and as clients see it.
    fn name(self) -> &'static str;

    /// Whether the machine can never leave this state.
    fn is_final(self) -> bool {
        !Self::EDGES.iter().any(|e| e.from == self)
    }

    /// Checks that `role` may take the machine from `from` to `to`.
    fn check(from: Self, to: Self, role: Role) -> Result<(), OrderError> {
        match Self::EDGES.iter().find(|e| e.from == from && e.to == to) {
            Some(edge) if edge.by.contains(role) => Ok(()),
            Some(_) => Err(OrderError::Forbidden {
                from: from.name(),
                to: to.name(),
                role,
            }),
            None => Err(OrderError::InvalidTransition {
                from: from.name(),
                to: to.name(),
            }),
        }
    }
}

/// A transition that was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record<S> {
    pub from: S,
    pub to: S,
    pub actor: Actor,
    pub at: Timestamp,
    /// Why, in words a colleague can read later ("customer asked on the phone").
    pub reason: String,
}

/// The facts of a transition someone asks for: who, when, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub actor: Actor,
    pub at: Timestamp,
    pub reason: String,
}

impl Request {
    pub fn new(actor: Actor, at: Timestamp, reason: impl Into<String>) -> Request {
        Request {
            actor,
            at,
            reason: reason.into(),
        }
    }

    pub(crate) fn record<S>(self, from: S, to: S) -> Record<S> {
        Record {
            from,
            to,
            actor: self.actor,
            at: self.at,
            reason: self.reason,
        }
    }
}
