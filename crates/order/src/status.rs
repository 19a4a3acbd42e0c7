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
//! Once placed, the order follows its fulfilment orders ([`OrderState::following`],
//! [`OrderStatus::follow`]): the first one a location starts takes it into fulfilment, the
//! first parcel out makes it partially shipped, and so on; rejected and expired fulfilment
//! orders do not count. An order on hold, cancelled or completed does not follow.
//!
//! A shopper may cancel an order only before it is in fulfilment; everything else is for staff
//! and the system. An order on hold goes back only to the state it was held in, or is cancelled.

use serde::{Deserialize, Serialize};

use crate::OrderError;
use crate::fulfilment::FulfilmentState;
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

impl OrderState {
    /// The state an order's fulfilment orders (their states) put it in, or `None` while none
    /// has started (or none counts: all rejected or expired). An order of parcels and a
    /// pickup is partially shipped until every part is handed over, then delivered.
    pub fn following(parts: &[FulfilmentState]) -> Option<OrderState> {
        use FulfilmentState as F;
        let live: Vec<F> = parts
            .iter()
            .copied()
            .filter(|s| !matches!(s, F::Rejected | F::Expired))
            .collect();
        let all = |ok: &dyn Fn(F) -> bool| !live.is_empty() && live.iter().all(|s| ok(*s));
        let any = |ok: &dyn Fn(F) -> bool| live.iter().any(|s| ok(*s));
        let state = if all(&|s| s == F::Collected) {
            Collected
        } else if all(&|s| matches!(s, F::Delivered | F::Collected)) {
            Delivered
        } else if all(&|s| matches!(s, F::Shipped | F::Delivered)) {
            Shipped
        } else if any(&|s| matches!(s, F::Shipped | F::Delivered | F::Collected)) {
            PartiallyShipped
        } else if all(&|s| matches!(s, F::ReadyForPickup | F::Collected)) {
            ReadyForPickup
        } else if any(&|s| s != F::Open) {
            InFulfilment
        } else {
            return None;
        };
        Some(state)
    }

    /// The next state on the way from `self` to `target` along the fulfilment path, if
    /// `target` lies ahead on it.
    fn towards(self, target: OrderState) -> Option<OrderState> {
        let pickup = matches!(target, ReadyForPickup | Collected);
        let next = match self {
            _ if self == target => return None,
            Placed => Confirmed,
            Confirmed => InFulfilment,
            InFulfilment if pickup => ReadyForPickup,
            InFulfilment if target == PartiallyShipped => PartiallyShipped,
            InFulfilment | PartiallyShipped if matches!(target, Shipped | Delivered) => Shipped,
            Shipped if target == Delivered => Delivered,
            ReadyForPickup if target == Collected => Collected,
            _ => return None,
        };
        Some(next)
    }
}

impl OrderStatus {
    /// Moves the order along the fulfilment path to `target` (from [`OrderState::following`]),
    /// recording each step as `request`'s; a target behind it, or off its branch, moves
    /// nothing. Whether it moved.
    pub fn follow(&mut self, target: OrderState, request: Request) -> Result<bool, OrderError> {
        let mut moved = false;
        while let Some(next) = self.state.towards(target) {
            self.transition(next, request.clone())?;
            moved = true;
        }
        Ok(moved)
    }
}

#[cfg(test)]
mod following_tests {
    use super::*;
    use crate::machine::{Actor, Role};
    use FulfilmentState as F;

    fn system() -> Request {
        Request::new(
            Actor::new(Role::System, "fulfilment"),
            omnicart_engine::Timestamp::from_unix(1),
            "",
        )
    }

    #[test]
    fn the_order_state_follows_its_fulfilment_orders() {
        assert_eq!(OrderState::following(&[F::Open, F::Open]), None);
        assert_eq!(
            OrderState::following(&[F::Picking, F::Open]),
            Some(InFulfilment)
        );
        assert_eq!(
            OrderState::following(&[F::Shipped, F::Packed]),
            Some(PartiallyShipped)
        );
        assert_eq!(
            OrderState::following(&[F::Shipped, F::Delivered]),
            Some(Shipped)
        );
        assert_eq!(
            OrderState::following(&[F::Delivered, F::Rejected]),
            Some(Delivered)
        );
        assert_eq!(
            OrderState::following(&[F::ReadyForPickup]),
            Some(ReadyForPickup)
        );
        assert_eq!(OrderState::following(&[F::Collected]), Some(Collected));
        assert_eq!(
            OrderState::following(&[F::Collected, F::Shipped]),
            Some(PartiallyShipped)
        );
        assert_eq!(
            OrderState::following(&[F::Collected, F::Delivered]),
            Some(Delivered)
        );
        assert_eq!(OrderState::following(&[F::Rejected, F::Expired]), None);
    }

    #[test]
    fn following_walks_the_path_and_never_back() {
        let mut status = OrderStatus::placed(system());
        assert!(status.follow(Shipped, system()).unwrap());
        let path: Vec<OrderState> = status.history().iter().map(|r| r.to).collect();
        assert_eq!(path, [Placed, Confirmed, InFulfilment, Shipped]);
        assert!(
            !status.follow(PartiallyShipped, system()).unwrap(),
            "never back"
        );
        assert!(
            !status.follow(Collected, system()).unwrap(),
            "not across branches"
        );
        assert!(status.follow(Delivered, system()).unwrap());
        assert_eq!(status.state(), Delivered);

        let mut pickup = OrderStatus::placed(system());
        pickup.follow(Collected, system()).unwrap();
        assert_eq!(pickup.state(), Collected);
        let mut cancelled = OrderStatus::placed(system());
        cancelled.transition(Cancelled, system()).unwrap();
        assert!(
            !cancelled.follow(Shipped, system()).unwrap(),
            "a cancelled order stays so"
        );
    }
}
