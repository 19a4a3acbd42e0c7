//! A payment and its ledger: what was authorized, captured and refunded, each movement once.
//!
//! The state follows from the amounts (nothing captured: `authorized`; some: `partially_captured`;
//! all: `captured`; some given back: `partially_refunded`; all of it: `refunded`), and every
//! change of state must still be an edge of the table, so an impossible sequence (a capture
//! after a void, a refund of a failed payment) is refused with a code. Every movement carries
//! an idempotency key: the same key with the same movement again is a replay and changes
//! nothing; the same key with another movement is refused (`idempotency_mismatch`). A void
//! releases what is not captured: with nothing captured the payment is `voided`; otherwise it
//! keeps what was captured and cannot capture more. An edit after placement moves the hold
//! itself: an increment holds more, a release gives up part of what is not captured
//! (`increment`, `release`), each once per key like every movement.

use omnicart_engine::{Currency, Money, Timestamp};
use serde::{Deserialize, Serialize};

use crate::OrderError;
use crate::machine::{Edge, Machine, Record, Request, Roles};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Asked of the provider, no answer yet (a timeout stays here until it is voided).
    Pending,
    Authorized,
    PartiallyCaptured,
    Captured,
    PartiallyRefunded,
    Refunded,
    Voided,
    Failed,
}

use PaymentState::*;

const fn edge(from: PaymentState, to: PaymentState) -> Edge<PaymentState> {
    Edge {
        from,
        to,
        by: Roles::ANYONE,
    }
}

impl Machine for PaymentState {
    const EDGES: &'static [Edge<PaymentState>] = &[
        edge(Pending, Authorized),
        edge(Pending, Failed),
        edge(Pending, Voided),
        edge(Authorized, PartiallyCaptured),
        edge(Authorized, Captured),
        edge(Authorized, Voided),
        // An edit's incremental authorization or partial release keeps what is captured.
        edge(Authorized, Authorized),
        edge(Captured, PartiallyCaptured),
        edge(PartiallyCaptured, PartiallyCaptured),
        edge(PartiallyCaptured, Captured),
        edge(PartiallyCaptured, PartiallyRefunded),
        edge(Captured, PartiallyRefunded),
        edge(Captured, Refunded),
        edge(PartiallyRefunded, PartiallyRefunded),
        edge(PartiallyRefunded, Refunded),
    ];

    fn name(self) -> &'static str {
        match self {
            Pending => "pending",
            Authorized => "authorized",
            PartiallyCaptured => "partially_captured",
            Captured => "captured",
            PartiallyRefunded => "partially_refunded",
            Refunded => "refunded",
            Voided => "voided",
            Failed => "failed",
        }
    }
}

/// A movement of money, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub kind: EntryKind,
    pub amount: Money,
    /// The idempotency key it was made with.
    pub key: String,
    pub at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Authorize,
    Fail,
    Capture,
    Refund,
    Void,
    /// More held on top of the authorization (an edit's incremental authorization).
    Increment,
    /// Part of the hold given up, not captured (an edit's partial release).
    Release,
}

/// What a movement did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It was recorded and the payment changed.
    Applied,
    /// The same movement with this key was recorded before: nothing changed.
    Replayed,
}

/// One payment of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    state: PaymentState,
    /// What the provider holds for the order (less what a void released).
    authorized: Money,
    captured: Money,
    refunded: Money,
    entries: Vec<Entry>,
    history: Vec<Record<PaymentState>>,
}

impl Payment {
    /// A payment of `amount` asked of the provider.
    pub fn pending(amount: Money) -> Result<Payment, OrderError> {
        if amount.is_negative() || amount.to_minor() == Some(0) {
            return Err(OrderError::InvalidAmount(amount.to_string()));
        }
        let zero = Money::zero(amount.currency());
        Ok(Payment {
            state: Pending,
            authorized: amount,
            captured: zero,
            refunded: zero,
            entries: Vec::new(),
            history: Vec::new(),
        })
    }

    pub fn state(&self) -> PaymentState {
        self.state
    }

    pub fn currency(&self) -> Currency {
        self.authorized.currency()
    }

    pub fn authorized(&self) -> Money {
        self.authorized
    }

    pub fn captured(&self) -> Money {
        self.captured
    }

    pub fn refunded(&self) -> Money {
        self.refunded
    }

    /// What may still be captured.
    pub fn capturable(&self) -> Money {
        match self.state {
            Authorized | PartiallyCaptured | PartiallyRefunded => {
                self.minus(self.authorized, self.captured)
            }
            _ => Money::zero(self.currency()),
        }
    }

    /// What may still be refunded.
    pub fn refundable(&self) -> Money {
        self.minus(self.captured, self.refunded)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn history(&self) -> &[Record<PaymentState>] {
        &self.history
    }

    /// The provider authorized the whole amount.
    pub fn authorize(&mut self, key: &str, request: Request) -> Result<Outcome, OrderError> {
        self.settle_pending(EntryKind::Authorize, Authorized, key, request)
    }

    /// The provider declined, or the authorization failed otherwise.
    pub fn fail(&mut self, key: &str, request: Request) -> Result<Outcome, OrderError> {
        self.settle_pending(EntryKind::Fail, Failed, key, request)
    }

    /// Captures `amount` of what is authorized (a shipment's share, or all of it).
    pub fn capture(
        &mut self,
        amount: Money,
        key: &str,
        request: Request,
    ) -> Result<Outcome, OrderError> {
        if let Some(outcome) = self.replay(EntryKind::Capture, amount, key)? {
            return Ok(outcome);
        }
        self.positive(amount)?;
        if amount.amount() > self.capturable().amount() {
            return Err(OrderError::OverCapture {
                asked: amount.to_string(),
                left: self.capturable().to_string(),
            });
        }
        let captured = self.plus(self.captured, amount);
        let to = derived(self.authorized, captured, self.refunded);
        self.apply(to, EntryKind::Capture, amount, key, request)?;
        self.captured = captured;
        Ok(Outcome::Applied)
    }

    /// Gives back `amount` of what was captured.
    pub fn refund(
        &mut self,
        amount: Money,
        key: &str,
        request: Request,
    ) -> Result<Outcome, OrderError> {
        if let Some(outcome) = self.replay(EntryKind::Refund, amount, key)? {
            return Ok(outcome);
        }
        self.positive(amount)?;
        if amount.amount() > self.refundable().amount() {
            return Err(OrderError::OverRefund {
                asked: amount.to_string(),
                left: self.refundable().to_string(),
            });
        }
        let refunded = self.plus(self.refunded, amount);
        let to = derived(self.authorized, self.captured, refunded);
        self.apply(to, EntryKind::Refund, amount, key, request)?;
        self.refunded = refunded;
        Ok(Outcome::Applied)
    }

    /// The provider holds `amount` more under the authorization (an edit added to the order).
    pub fn increment(
        &mut self,
        amount: Money,
        key: &str,
        request: Request,
    ) -> Result<Outcome, OrderError> {
        if let Some(outcome) = self.replay(EntryKind::Increment, amount, key)? {
            return Ok(outcome);
        }
        self.positive(amount)?;
        // A voided hold is given up for good: a void of a partly captured payment leaves it
        // `captured`, and holding more there would let capturing start again.
        let voided = self.entries.iter().any(|e| e.kind == EntryKind::Void);
        if voided
            || !matches!(
                self.state,
                Authorized | PartiallyCaptured | Captured | PartiallyRefunded
            )
        {
            return Err(OrderError::InvalidTransition {
                from: self.state.name(),
                to: Authorized.name(),
            });
        }
        let authorized = self.plus(self.authorized, amount);
        let to = derived(authorized, self.captured, self.refunded);
        self.apply(to, EntryKind::Increment, amount, key, request)?;
        self.authorized = authorized;
        Ok(Outcome::Applied)
    }

    /// Gives up `amount` of the hold that is not captured (an edit took lines off); the
    /// rest stays capturable.
    pub fn release(
        &mut self,
        amount: Money,
        key: &str,
        request: Request,
    ) -> Result<Outcome, OrderError> {
        if let Some(outcome) = self.replay(EntryKind::Release, amount, key)? {
            return Ok(outcome);
        }
        self.positive(amount)?;
        if amount.amount() > self.capturable().amount() {
            return Err(OrderError::OverCapture {
                asked: amount.to_string(),
                left: self.capturable().to_string(),
            });
        }
        let authorized = self.minus(self.authorized, amount);
        let to = derived(authorized, self.captured, self.refunded);
        self.apply(to, EntryKind::Release, amount, key, request)?;
        self.authorized = authorized;
        Ok(Outcome::Applied)
    }

    /// Releases what is authorized and not captured (see the module docs).
    pub fn void(&mut self, key: &str, request: Request) -> Result<Outcome, OrderError> {
        let released = self.minus(self.authorized, self.captured);
        if let Some(outcome) = self.replay(EntryKind::Void, released, key)? {
            return Ok(outcome);
        }
        let to = match self.state {
            Pending | Authorized => Voided,
            PartiallyCaptured | PartiallyRefunded => {
                derived(self.captured, self.captured, self.refunded)
            }
            _ => {
                return Err(OrderError::InvalidTransition {
                    from: self.state.name(),
                    to: Voided.name(),
                });
            }
        };
        self.apply(to, EntryKind::Void, released, key, request)?;
        self.authorized = self.captured;
        Ok(Outcome::Applied)
    }

    fn settle_pending(
        &mut self,
        kind: EntryKind,
        to: PaymentState,
        key: &str,
        request: Request,
    ) -> Result<Outcome, OrderError> {
        if let Some(outcome) = self.replay(kind, self.authorized, key)? {
            return Ok(outcome);
        }
        self.apply(to, kind, self.authorized, key, request)?;
        Ok(Outcome::Applied)
    }

    /// `Some(Replayed)` if `key` recorded this very movement, an error if it recorded another.
    fn replay(
        &self,
        kind: EntryKind,
        amount: Money,
        key: &str,
    ) -> Result<Option<Outcome>, OrderError> {
        match self.entries.iter().find(|e| e.key == key) {
            Some(e) if e.kind == kind && (e.amount == amount || kind == EntryKind::Void) => {
                Ok(Some(Outcome::Replayed))
            }
            Some(_) => Err(OrderError::IdempotencyMismatch(key.to_owned())),
            None => Ok(None),
        }
    }

    /// Checks the edge, then records the entry and the transition.
    fn apply(
        &mut self,
        to: PaymentState,
        kind: EntryKind,
        amount: Money,
        key: &str,
        request: Request,
    ) -> Result<(), OrderError> {
        PaymentState::check(self.state, to, request.actor.role)?;
        self.entries.push(Entry {
            kind,
            amount,
            key: key.to_owned(),
            at: request.at,
        });
        self.history.push(request.record(self.state, to));
        self.state = to;
        Ok(())
    }

    fn positive(&self, amount: Money) -> Result<(), OrderError> {
        if amount.currency() != self.currency() {
            return Err(OrderError::CurrencyMismatch {
                expected: self.currency().code(),
                found: amount.currency().code(),
            });
        }
        if amount.is_negative() || amount.to_minor() == Some(0) {
            return Err(OrderError::InvalidAmount(amount.to_string()));
        }
        Ok(())
    }

    fn plus(&self, a: Money, b: Money) -> Money {
        a.checked_add(b)
            .expect("amounts of one currency, bounded by the authorization")
    }

    fn minus(&self, a: Money, b: Money) -> Money {
        a.checked_sub(b).expect("amounts of one currency")
    }
}

/// The state the amounts describe, for a payment that was authorized.
fn derived(authorized: Money, captured: Money, refunded: Money) -> PaymentState {
    let zero = |m: Money| m.to_minor() == Some(0);
    match (zero(captured), zero(refunded)) {
        (true, _) => Authorized,
        (false, true) if captured == authorized => Captured,
        (false, true) => PartiallyCaptured,
        (false, false) if refunded == captured && captured == authorized => Refunded,
        (false, false) => PartiallyRefunded,
    }
}
