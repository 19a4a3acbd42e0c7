//! omnicart-order: the order domain's rules that need no I/O.
//!
//! - [`OrderNumber`]: a number a person can read out on the phone, with a check digit.
//! - [`OrderStatus`]: the order's state machine ([`OrderState`]), its transitions a table of
//!   data with who may take each ([`Machine::EDGES`]), and the record of every transition
//!   taken (actor, time, reason).
//! - [`Order`]: the aggregate built at placement from the final quote and the delivery plan,
//!   and [`StockDemand`], what placement reserves per stock record.
//! - [`FulfilmentOrder`]: what one location ships or hands over in store, its state machine
//!   ([`FulfilmentState`]), line rejection, pickup codes' attempts, and the rule of what
//!   shipping a parcel captures ([`parcel_capture`]).
//! - [`Return`]: a return's state machine ([`ReturnState`]), what may be returned, and the
//!   written rule of what it refunds ([`units_share`], delivery with the last goods).
//! - [`EditScope`] and [`Settlement`]: what an edit after placement may change, what is
//!   sourced again and how the payment follows the difference.
//! - [`Appointment`]: an installer's visit for a service the order bought, its state machine
//!   ([`AppointmentState`]), moves, and the free repeat visit a complaint books.
//! - [`Claim`]: a backordered line's claim on incoming supply, who an arrival serves
//!   ([`allocate_arrival`]) and what a slipped date does ([`broken`], [`repromise`]).
//! - [`Payment`]: the payment's state machine ([`PaymentState`]) and its ledger, where every
//!   authorization, capture, refund and void is recorded once under its idempotency key.
//!
//! Like the engine it stands on, it has no I/O, no clock (the time of a transition is a
//! parameter), no randomness (an order number is made from the caller's seed) and no `f64`
//! money; it is tested without a database. It is its own crate, not part of the engine,
//! because the engine ships to every shopper's phone as Wasm and these rules run on the server
//! (the page only shows their results).

pub mod appointment;
pub mod backorder;
pub mod edit;
pub mod exchange;
pub mod fulfilment;
pub mod machine;
pub mod number;
pub mod order;
pub mod payment;
pub mod returns;
pub mod status;

pub use appointment::{Appointment, AppointmentState, Complaint, SLOTS, Visit, area_of};
pub use backorder::{Claim, Repromise, allocate_arrival, broken, claimable, repromise};
pub use edit::{Change, EditError, EditScope, Part, Settlement};
pub use exchange::{ExchangeError, ExchangeSettlement};
pub use fulfilment::{
    Applied, FulfilmentError, FulfilmentKind, FulfilmentLine, FulfilmentOrder, FulfilmentState,
    Parcel, RejectReason, parcel_capture,
};
pub use machine::{Actor, Edge, Machine, Record, Request, Role, Roles};
pub use number::OrderNumber;
pub use order::{
    Address, Contact, Fulfilment, Order, Placement, PlannedLine, PlannedShipment, StockDemand,
    Totals,
};
pub use payment::{Entry, EntryKind, Outcome, Payment, PaymentState};
pub use returns::{
    Asked, Disposition, LineFacts, Return, ReturnError, ReturnLine, ReturnState, units_share,
};
pub use status::{OrderState, OrderStatus};

use omnicart_engine::ErrorCode;

/// Why an order or payment change was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("{0:?} is not an order number (eleven digits, like 4829-1034-775)")]
    InvalidNumber(String),
    #[error("cannot go from {from} to {to}")]
    InvalidTransition {
        from: &'static str,
        to: &'static str,
    },
    #[error("a {role:?} may not go from {from} to {to}")]
    Forbidden {
        from: &'static str,
        to: &'static str,
        role: Role,
    },
    #[error(
        "an order held while {held_from} goes back to {held_from} (or is cancelled), not to {to}"
    )]
    ResumeElsewhere {
        held_from: &'static str,
        to: &'static str,
    },
    #[error("{0} is not an amount that can move (it must be above zero)")]
    InvalidAmount(String),
    #[error("the payment is in {expected}, not {found}")]
    CurrencyMismatch {
        expected: &'static str,
        found: &'static str,
    },
    #[error("cannot capture {asked}: {left} is left to capture")]
    OverCapture { asked: String, left: String },
    #[error("cannot refund {asked}: {left} is left to refund")]
    OverRefund { asked: String, left: String },
    #[error("the key {0:?} was used for another movement of money")]
    IdempotencyMismatch(String),
}

impl ErrorCode for OrderError {
    fn code(&self) -> &'static str {
        match self {
            OrderError::InvalidNumber(_) => "invalid_order_number",
            OrderError::InvalidTransition { .. } => "invalid_transition",
            OrderError::Forbidden { .. } => "transition_forbidden",
            OrderError::ResumeElsewhere { .. } => "invalid_transition",
            OrderError::InvalidAmount(_) => "invalid_amount",
            OrderError::CurrencyMismatch { .. } => "currency_mismatch",
            OrderError::OverCapture { .. } => "over_capture",
            OrderError::OverRefund { .. } => "over_refund",
            OrderError::IdempotencyMismatch(_) => "idempotency_mismatch",
        }
    }
}
