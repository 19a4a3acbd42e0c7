//! The services: what each request *does*, between the HTTP layer ([`crate::http`]) and the
//! SQL ([`crate::store`]). [`carts`] (create, read, edit at a version), [`sync`] (push and
//! pull a cart's log), [`accounts`] (sign-up, sign-in and the guest cart, sessions),
//! [`checkout`] (placement: reserve, authorize, place; the sweeper), [`orders`] (the
//! shopper's orders and cancel), [`live`] (watching a cart for its next versions), [`tokens`]
//! (bearer tokens), [`mail`] (the confirmation and its sender), [`stock`] (the database's stock
//! for the placement's re-quote and the live snapshot feed), [`limits`] (rate limits per client
//! address and per account, and who the client is). A write
//! is one transaction; a cart changes only through its locked log
//! ([`crate::store::cart_log::LockedCart`]).

pub mod accounts;
pub mod appointments;
pub mod carts;
pub mod checkout;
pub mod edits;
pub mod fulfilment;
pub mod inventory;
pub mod limits;
pub mod live;
pub mod mail;
pub mod messages;
pub mod orders;
pub mod pickup;
pub mod resourcing;
pub mod stock;
pub mod substitutions;
pub mod sync;
pub mod tokens;
pub mod webhooks;

use omnicart_api::Profile;
use omnicart_engine::{QuoteContext, Timestamp};

use crate::ids::now_unix;
use crate::store::orders::History;

/// Who is asking: a signed-in customer, or nobody in particular.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub customer_id: Option<String>,
    /// The customer's segments, read with the session (promotions may target them).
    pub segments: Vec<String>,
    /// The customer's orders, read with the session (first order, used coupons); none for a
    /// guest, who is always at their first order and has used no code.
    pub history: History,
}

impl Caller {
    /// What promotions may know about the caller.
    pub fn profile(&self) -> Profile {
        customer_profile(self.segments.clone(), &self.history)
    }

    /// The caller with their history read again (in a transaction, under a lock).
    pub fn with_history(&self, history: History) -> Caller {
        Caller {
            history,
            ..self.clone()
        }
    }

    /// The context the caller's carts are quoted in: their [`Profile`] at the server's clock.
    /// The page builds the same context from `GET /api/me`, so both agree.
    pub fn quote_context(&self) -> QuoteContext {
        self.profile()
            .quote_context(Timestamp::from_unix(now_unix()))
    }

    /// Whether the caller may see a cart owned by `owner`: anonymous carts to whoever holds
    /// the id, a customer's cart to that customer only.
    pub fn may_see(&self, owner: Option<&str>) -> bool {
        owner.is_none_or(|owner| self.customer_id.as_deref() == Some(owner))
    }
}

/// What promotions may know about a shopper with these segments and orders: at their first
/// order until one is placed and not cancelled; the codes those orders used (a
/// once-per-customer coupon is refused by the engine when listed; cancelling the order gives
/// it back).
pub(crate) fn customer_profile(segments: Vec<String>, history: &History) -> Profile {
    Profile {
        segments,
        first_order: history.orders == 0,
        used_coupons: history.used_coupons.clone(),
    }
}
