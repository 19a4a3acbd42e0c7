//! The order's state machine and its history.
//!
//! ```text
//! placed ──► confirmed ──► in_fulfilment ──► partially_shipped ──► shipped ──► delivered ──► completed
//!   │            │              │  └───────────────────────────────► shipped
//!   │            │              └──► ready_for_pickup ──► collected ──► completed
//!   │            │              │           └──► cancelled (not collected in time)
//!   └────────────┴──────────────┴──► on_hold ──► (back to the state it was held in)
//!   └────────────┴──► cancelled (the customer too)   in_fulfilment, on_hold ──► cancelled (staff)
//! ```
//!
//! A shopper may cancel an order only before it is in fulfilment; everything else is for staff
//! and the system. An order on hold goes back only to the state it was held in, or is cancelled.

use serde::{Deserialize, Serialize};

use crate::OrderError;
use crate::machine::{Edge, Machine, Record, Request, Roles};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Accepted, stock reserved and payment authorized.
    Placed,
    /// Checked by the retailer (or automatically) and released for fulfilment.
    Confirmed,
    /// At least one location is working on it.
    InFulfilment,
    /// Some shipments have left, some have not.
    PartiallyShipped,
    /// Every shipment has left.
    Shipped,
    /// Waiting in the pickup store.
    ReadyForPickup,
    /// Every shipment has arrived.
    Delivered,
    /// The shopper has taken it from the store.
    Collected,
    /// Nothing more will happen to it (the return window has passed).
    Completed,
    Cancelled,
    /// Stopped by staff or the system (fraud check, payment question, customer request).
    OnHold,
}

use OrderState::*;

const fn edge(from: OrderState, to: OrderState, by: Roles) -> Edge<OrderState> {
    Edge { from, to, by }
}

impl Machine for OrderState {
    const EDGES: &'static [Edge<OrderState>] = &[
        edge(Placed, Confirmed, Roles::OPERATIONS),
        edge(Placed, Cancelled, Roles::ANYONE),
        edge(Placed, OnHold, Roles::OPERATIONS),
        edge(Confirmed, InFulfilment, Roles::OPERATIONS),
        edge(Confirmed, Cancelled, Roles::ANYONE),
        edge(Confirmed, OnHold, Roles::OPERATIONS),
        edge(InFulfilment, PartiallyShipped, Roles::OPERATIONS),
        edge(InFulfilment, Shipped, Roles::OPERATIONS),
        edge(InFulfilment, ReadyForPickup, Roles::OPERATIONS),
        edge(InFulfilment, Cancelled, Roles::OPERATIONS),
        edge(InFulfilment, OnHold, Roles::OPERATIONS),
        edge(PartiallyShipped, Shipped, Roles::OPERATIONS),
        edge(Shipped, Delivered, Roles::OPERATIONS),
        edge(ReadyForPickup, Collected, Roles::OPERATIONS),
        edge(ReadyForPickup, Cancelled, Roles::OPERATIONS),
        edge(Delivered, Completed, Roles::OPERATIONS),
        edge(Collected, Completed, Roles::OPERATIONS),
        edge(OnHold, Placed, Roles::OPERATIONS),
        edge(OnHold, Confirmed, Roles::OPERATIONS),
        edge(OnHold, InFulfilment, Roles::OPERATIONS),
        edge(OnHold, Cancelled, Roles::OPERATIONS),
    ];

    fn name(self) -> &'static str {
        match self {
            Placed => "placed",
            Confirmed => "confirmed",
            InFulfilment => "in_fulfilment",
            PartiallyShipped => "partially_shipped",
            Shipped => "shipped",
            ReadyForPickup => "ready_for_pickup",
            Delivered => "delivered",
            Collected => "collected",
            Completed => "completed",
            Cancelled => "cancelled",
            OnHold => "on_hold",
        }
    }
}

/// Where an order stands and how it got there. Only [`OrderStatus::transition`] changes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderStatus {
    state: OrderState,
    /// While on hold: the state it was held in, the only one it may go back to.
    held_from: Option<OrderState>,
    history: Vec<Record<OrderState>>,
}

impl OrderStatus {
    /// A new order, placed by `request`'s actor.
    pub fn placed(request: Request) -> OrderStatus {
        OrderStatus {
            state: Placed,
            held_from: None,
            history: vec![request.record(Placed, Placed)],
        }
    }

    pub fn state(&self) -> OrderState {
        self.state
    }

    /// Every transition, oldest first; the first is the placement.
    pub fn history(&self) -> &[Record<OrderState>] {
        &self.history
    }

    /// Whether the shopper may still cancel it themselves.
    pub fn customer_may_cancel(&self) -> bool {
        matches!(self.state, Placed | Confirmed)
    }

    /// Takes the order to `to` if the table allows it for the actor's role, and records it.
    pub fn transition(&mut self, to: OrderState, request: Request) -> Result<(), OrderError> {
        OrderState::check(self.state, to, request.actor.role)?;
        if let Some(held_from) = self.held_from
            && to != Cancelled
            && to != held_from
        {
            return Err(OrderError::ResumeElsewhere {
                held_from: held_from.name(),
                to: to.name(),
            });
        }
        self.held_from = (to == OnHold).then_some(self.state);
        self.history.push(request.record(self.state, to));
        self.state = to;
        Ok(())
    }
}
