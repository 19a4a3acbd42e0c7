//! Payment providers: [`PaymentProvider`] is what a Stripe or Adyen adapter implements
//! (authorize, complete a challenge, capture, void, refund), and [`TestGateway`] is the
//! built-in one, the default, answering by the documented test cards
//! (`omnicart_api::checkout::test_cards`).
//!
//! An authorization may need the shopper first, as a Stripe PaymentIntent's
//! `requires_action`: it answers [`Authorization::ActionRequired`] with a [`Challenge`] the
//! page presents (a 3-D Secure step), and [`PaymentProvider::complete`] with the shopper's
//! result is the authorization's answer (authorized, or declined as `authentication_failed`).
//!
//! Every call carries the server's idempotency key: an authorization is keyed by its checkout
//! attempt's id, so the same call again (a retry, the sweeper) is the same movement, and a void
//! names the authorization by that key even when the answer to the authorization was lost.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use omnicart_api::checkout::{CHALLENGE_CONFIRMED, CHALLENGE_TEST, test_cards};
use omnicart_engine::Money;

/// A boxed future, so providers can sit behind `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An authorization asked of a provider.
#[derive(Clone, Debug)]
pub struct Authorize {
    /// The checkout attempt's id: the provider's idempotency key for it.
    pub key: String,
    pub amount: Money,
    /// The token the page's payment form produced.
    pub token: String,
}

/// What an authorization came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authorization {
    /// Held, with the provider's reference.
    Authorized(String),
    /// Nothing held yet: the shopper must pass the challenge, then
    /// [`PaymentProvider::complete`] answers.
    ActionRequired(Challenge),
}

/// How the page presents a provider's challenge (`omnicart_api::Challenge` without what the
/// server adds: its id and amount, its expiry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// `omnicart_api::checkout::CHALLENGE_TEST` or `CHALLENGE_REDIRECT`.
    pub kind: &'static str,
    /// Where a redirect challenge is presented (the provider's, for the bank's page).
    pub url: Option<String>,
}

/// Why a provider call did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentError {
    /// Refused, with the provider's machine reason (`card_declined`, `insufficient_funds`).
    Declined(String),
    /// No answer in time: whether it took effect is unknown (void it).
    Timeout,
    /// Anything else (network, provider outage).
    Failed(String),
}

pub trait PaymentProvider: Send + Sync {
    /// Holds `amount` on the shopper's method, or asks for a challenge first.
    fn authorize<'a>(
        &'a self,
        request: &'a Authorize,
    ) -> BoxFuture<'a, Result<Authorization, PaymentError>>;
    /// The answer to the authorization `key` that asked for a challenge, given the page
    /// step's `result`: the provider's reference once held, or `Declined`
    /// (`authentication_failed`). Asked again, the same answer.
    fn complete<'a>(
        &'a self,
        key: &'a str,
        result: &'a str,
    ) -> BoxFuture<'a, Result<String, PaymentError>>;
    /// Takes `amount` of what the authorization `key` holds (at shipment), as the movement
    /// `capture_key`: asked again with the same `capture_key` (a retry after a lost answer or
    /// a failed commit), the same answer and no second movement.
    fn capture<'a>(
        &'a self,
        key: &'a str,
        capture_key: &'a str,
        amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>>;
    /// Releases what the authorization `key` holds. Voiding what was never authorized, or
    /// was voided already, succeeds.
    fn void<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), PaymentError>>;
    /// Gives back `amount` captured under `key`, as the movement `refund_key` (asked again
    /// with the same `refund_key`: the same answer, no second movement).
    fn refund<'a>(
        &'a self,
        key: &'a str,
        refund_key: &'a str,
        amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>>;
    /// Holds `amount` more under the authorization `key`, as the movement `more_key` (an
    /// edit added to the order: Stripe's incremental authorization, Adyen's adjust
    /// authorisation). Asked again with the same `more_key`: the same answer, nothing held
    /// twice. A provider that cannot answers `Failed`; the edit is then refused.
    fn authorize_more<'a>(
        &'a self,
        key: &'a str,
        more_key: &'a str,
        amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        let _ = (key, more_key, amount);
        Box::pin(async { Err(PaymentError::Failed("no incremental authorization".into())) })
    }
    /// Gives up `amount` of what the authorization `key` holds and has not captured, as the
    /// movement `release_key` (an edit took lines off before they shipped). Asked again with
    /// the same `release_key`: the same answer, nothing released twice.
    fn release<'a>(
        &'a self,
        key: &'a str,
        release_key: &'a str,
        amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        let _ = (key, release_key, amount);
        Box::pin(async { Err(PaymentError::Failed("no partial release".into())) })
    }
}

/// The providers by name (`omnicart_api::CheckoutRequest::payment.provider`).
#[derive(Clone, Default)]
pub struct Providers {
    by_name: HashMap<String, Arc<dyn PaymentProvider>>,
    /// The built-in gateway, kept typed for tests and the developer pages.
    pub test: Arc<TestGateway>,
}

impl Providers {
    /// The built-in test gateway only.
    pub fn with_test_gateway() -> Providers {
        let test = Arc::new(TestGateway::default());
        let mut by_name: HashMap<String, Arc<dyn PaymentProvider>> = HashMap::new();
        by_name.insert(
            omnicart_api::checkout::TEST_GATEWAY.to_owned(),
            test.clone(),
        );
        Providers { by_name, test }
    }

    /// Adds (or replaces) the provider `name` (an adapter, or a test's own).
    pub fn insert(&mut self, name: &str, provider: Arc<dyn PaymentProvider>) {
        self.by_name.insert(name.to_owned(), provider);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn PaymentProvider>> {
        self.by_name.get(name)
    }
}

/// What the test gateway holds per authorization key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// Waiting for the shopper's challenge: nothing held yet.
    Challenged,
    /// The shopper did not pass the challenge: nothing held.
    Refused,
    Authorized,
    Captured,
    Voided,
}

/// The built-in gateway: in memory, answering by card number (see `test_cards`). A
/// [`test_cards::TIMEOUT`] card authorizes and then loses the answer, as a real timeout may,
/// so the caller must void it. A [`test_cards::CHALLENGE`] card asks for a challenge the page
/// presents itself ([`CHALLENGE_TEST`]), passed by the result [`CHALLENGE_CONFIRMED`]; a
/// void while it waits records the void (and holds nothing).
///
/// It keeps the money as a real provider does: what each authorization holds, and every
/// capture and refund by its movement key, so a repeated key moves nothing and a capture
/// past the authorized amount (or a refund past what was captured) is refused.
#[derive(Default)]
pub struct TestGateway {
    held: Mutex<HashMap<String, Held>>,
    money: Mutex<HashMap<String, Ledger>>,
    /// Authorizations made with [`test_cards::REFUND_FAILS`], and the refund keys already
    /// refused once under them.
    refunds_fail: Mutex<HashMap<String, Vec<String>>>,
    /// While set, every refund is refused (a test's switch: the provider is down for refunds).
    refusing_refunds: std::sync::atomic::AtomicBool,
}

/// The money of one authorization at the test gateway, in minor units.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    pub authorized: i64,
    /// Captures by movement key.
    pub captures: HashMap<String, i64>,
    /// Refunds by movement key.
    pub refunds: HashMap<String, i64>,
    /// Incremental authorizations by movement key (already counted in `authorized`).
    pub increments: HashMap<String, i64>,
    /// Partial releases by movement key (already taken off `authorized`).
    pub releases: HashMap<String, i64>,
}

impl Ledger {
    pub fn captured(&self) -> i64 {
        self.captures.values().sum()
    }

    pub fn refunded(&self) -> i64 {
        self.refunds.values().sum()
    }
}

impl TestGateway {
    /// Keys of authorizations that still hold money (authorized, not voided or captured).
    pub fn live_authorizations(&self) -> Vec<String> {
        let held = self.held.lock().expect("the test gateway's lock");
        let mut keys: Vec<String> = held
            .iter()
            .filter(|(_, h)| **h == Held::Authorized)
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    }

    pub fn state(&self, key: &str) -> Option<Held> {
        self.held
            .lock()
            .expect("the test gateway's lock")
            .get(key)
            .copied()
    }

    /// The money of the authorization `key`: what it holds, captured and refunded.
    pub fn ledger(&self, key: &str) -> Ledger {
        self.money
            .lock()
            .expect("the test gateway's lock")
            .get(key)
            .cloned()
            .unwrap_or_default()
    }

    /// Records the movement `movement` of `amount` under `key` once: `Ok(false)` when the
    /// key was recorded before (nothing moves again), an error when the amount is more than
    /// `room` leaves.
    fn record(
        &self,
        key: &str,
        movement: &str,
        amount: Money,
        refund: bool,
    ) -> Result<bool, PaymentError> {
        let minor = amount
            .to_minor()
            .filter(|m| *m > 0)
            .ok_or_else(|| PaymentError::Failed(format!("{amount:?} is not an amount to move")))?;
        let mut money = self.money.lock().expect("the test gateway's lock");
        let ledger = money.entry(key.to_owned()).or_default();
        let (moves, room) = if refund {
            let room = ledger.captured() - ledger.refunded();
            (&mut ledger.refunds, room)
        } else {
            let room = ledger.authorized - ledger.captured();
            (&mut ledger.captures, room)
        };
        if let Some(earlier) = moves.get(movement) {
            // A provider refuses an idempotency key reused for another movement.
            return if *earlier == minor {
                Ok(false)
            } else {
                Err(PaymentError::Failed(format!(
                    "{movement} moved {earlier} before, not {minor}"
                )))
            };
        }
        if minor > room {
            let what = if refund { "captured" } else { "authorized" };
            return Err(PaymentError::Failed(format!(
                "{minor} is more than the {room} left {what} under {key}"
            )));
        }
        moves.insert(movement.to_owned(), minor);
        Ok(true)
    }

    /// Refuses every refund while `refuse` is set (refunds later succeed by their keys).
    pub fn refuse_refunds(&self, refuse: bool) {
        self.refusing_refunds
            .store(refuse, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether this refund is refused: the switch is on, or the authorization was made with
    /// [`test_cards::REFUND_FAILS`] and this refund key was not refused before.
    fn refund_refused(&self, key: &str, refund_key: &str) -> bool {
        // A refund already made answers its replay, as a provider does, whatever is refused.
        if self.ledger(key).refunds.contains_key(refund_key) {
            return false;
        }
        if self
            .refusing_refunds
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return true;
        }
        let mut failing = self.refunds_fail.lock().expect("the test gateway's lock");
        match failing.get_mut(key) {
            Some(refused) if !refused.iter().any(|k| k == refund_key) => {
                refused.push(refund_key.to_owned());
                true
            }
            _ => false,
        }
    }

    /// Moves the hold of `key` by `amount` (more, or released) as the movement `movement`,
    /// once: a repeated key moves nothing, one reused for another amount is refused, as is a
    /// release of more than is held and not captured.
    fn adjust(
        &self,
        key: &str,
        movement: &str,
        amount: Money,
        more: bool,
    ) -> Result<(), PaymentError> {
        if !matches!(self.state(key), Some(Held::Authorized | Held::Captured)) {
            return Err(PaymentError::Failed(format!("no live authorization {key}")));
        }
        let minor = amount
            .to_minor()
            .filter(|m| *m > 0)
            .ok_or_else(|| PaymentError::Failed(format!("{amount:?} is not an amount to move")))?;
        let mut money = self.money.lock().expect("the test gateway's lock");
        let ledger = money.entry(key.to_owned()).or_default();
        let room = ledger.authorized - ledger.captured();
        let moves = if more {
            &mut ledger.increments
        } else {
            &mut ledger.releases
        };
        if let Some(earlier) = moves.get(movement) {
            return if *earlier == minor {
                Ok(())
            } else {
                Err(PaymentError::Failed(format!(
                    "{movement} moved {earlier} before, not {minor}"
                )))
            };
        }
        if !more && minor > room {
            return Err(PaymentError::Failed(format!(
                "{minor} is more than the {room} held and not captured under {key}"
            )));
        }
        moves.insert(movement.to_owned(), minor);
        ledger.authorized += if more { minor } else { -minor };
        Ok(())
    }

    fn hold(&self, key: &str, amount: Money) {
        let mut money = self.money.lock().expect("the test gateway's lock");
        money.entry(key.to_owned()).or_default().authorized = amount.to_minor().unwrap_or(0);
    }

    fn set(&self, key: &str, to: Held) {
        self.held
            .lock()
            .expect("the test gateway's lock")
            .insert(key.to_owned(), to);
    }
}

fn reference(key: &str) -> String {
    format!("test_auth_{key}")
}

impl PaymentProvider for TestGateway {
    fn authorize<'a>(
        &'a self,
        request: &'a Authorize,
    ) -> BoxFuture<'a, Result<Authorization, PaymentError>> {
        Box::pin(async move {
            let card: String = request
                .token
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            match card.as_str() {
                test_cards::SUCCESS | test_cards::REFUND_FAILS => {
                    if card == test_cards::REFUND_FAILS {
                        self.refunds_fail
                            .lock()
                            .expect("the test gateway's lock")
                            .insert(request.key.clone(), Vec::new());
                    }
                    self.set(&request.key, Held::Authorized);
                    self.hold(&request.key, request.amount);
                    Ok(Authorization::Authorized(reference(&request.key)))
                }
                test_cards::CHALLENGE => {
                    self.set(&request.key, Held::Challenged);
                    self.hold(&request.key, request.amount);
                    Ok(Authorization::ActionRequired(Challenge {
                        kind: CHALLENGE_TEST,
                        url: None,
                    }))
                }
                test_cards::TIMEOUT => {
                    self.set(&request.key, Held::Authorized);
                    self.hold(&request.key, request.amount);
                    Err(PaymentError::Timeout)
                }
                test_cards::INSUFFICIENT_FUNDS => {
                    Err(PaymentError::Declined("insufficient_funds".into()))
                }
                _ => Err(PaymentError::Declined("card_declined".into())),
            }
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        result: &'a str,
    ) -> BoxFuture<'a, Result<String, PaymentError>> {
        Box::pin(async move {
            let refused = || Err(PaymentError::Declined("authentication_failed".into()));
            match self.state(key) {
                Some(Held::Challenged) if result == CHALLENGE_CONFIRMED => {
                    self.set(key, Held::Authorized);
                    Ok(reference(key))
                }
                Some(Held::Challenged) => {
                    self.set(key, Held::Refused);
                    refused()
                }
                Some(Held::Authorized | Held::Captured) => Ok(reference(key)),
                Some(Held::Refused) => refused(),
                Some(Held::Voided) | None => Err(PaymentError::Failed(format!(
                    "no challenge waiting under {key}"
                ))),
            }
        })
    }

    fn capture<'a>(
        &'a self,
        key: &'a str,
        capture_key: &'a str,
        amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            match self.state(key) {
                Some(Held::Authorized | Held::Captured) => {
                    self.record(key, capture_key, amount, false)?;
                    self.set(key, Held::Captured);
                    Ok(())
                }
                _ => Err(PaymentError::Failed(format!("no authorization {key}"))),
            }
        })
    }

    fn void<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            if matches!(self.state(key), Some(Held::Authorized | Held::Challenged)) {
                self.set(key, Held::Voided);
            }
            Ok(())
        })
    }

    fn refund<'a>(
        &'a self,
        key: &'a str,
        refund_key: &'a str,
        amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            match self.state(key) {
                Some(Held::Captured) if self.refund_refused(key, refund_key) => {
                    Err(PaymentError::Declined("refund_refused".into()))
                }
                Some(Held::Captured) => self.record(key, refund_key, amount, true).map(|_| ()),
                _ => Err(PaymentError::Failed(format!(
                    "nothing captured under {key}"
                ))),
            }
        })
    }

    fn authorize_more<'a>(
        &'a self,
        key: &'a str,
        more_key: &'a str,
        amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move { self.adjust(key, more_key, amount, true) })
    }

    fn release<'a>(
        &'a self,
        key: &'a str,
        release_key: &'a str,
        amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move { self.adjust(key, release_key, amount, false) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omnicart_engine::Currency;

    fn eur(minor: i64) -> Money {
        Money::from_minor(minor, Currency::EUR)
    }

    async fn authorized(gateway: &TestGateway, amount: i64) {
        let request = Authorize {
            key: "attempt".into(),
            amount: eur(amount),
            token: test_cards::SUCCESS.into(),
        };
        gateway.authorize(&request).await.expect("authorized");
    }

    #[tokio::test]
    async fn a_capture_moves_once_per_key_and_never_past_the_authorization() {
        let gateway = TestGateway::default();
        authorized(&gateway, 10_000).await;
        gateway
            .capture("attempt", "parcel-1", eur(6_000))
            .await
            .unwrap();
        // The same movement again (a retry): no second capture.
        gateway
            .capture("attempt", "parcel-1", eur(6_000))
            .await
            .unwrap();
        assert_eq!(gateway.ledger("attempt").captured(), 6_000);
        // The key reused for another amount is refused, as a provider refuses it.
        assert!(
            gateway
                .capture("attempt", "parcel-1", eur(1))
                .await
                .is_err()
        );
        // More than is left authorized is refused and moves nothing.
        assert!(
            gateway
                .capture("attempt", "parcel-2", eur(4_001))
                .await
                .is_err()
        );
        gateway
            .capture("attempt", "parcel-2", eur(4_000))
            .await
            .unwrap();
        assert_eq!(gateway.ledger("attempt").captured(), 10_000);
        assert!(
            gateway
                .capture("unknown", "parcel-1", eur(1))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_refund_moves_once_per_key_and_never_past_what_was_captured() {
        let gateway = TestGateway::default();
        authorized(&gateway, 10_000).await;
        assert!(
            gateway.refund("attempt", "r1", eur(1)).await.is_err(),
            "nothing captured"
        );
        gateway
            .capture("attempt", "parcel-1", eur(7_000))
            .await
            .unwrap();
        gateway.refund("attempt", "r1", eur(2_500)).await.unwrap();
        gateway.refund("attempt", "r1", eur(2_500)).await.unwrap();
        assert_eq!(gateway.ledger("attempt").refunded(), 2_500);
        assert!(gateway.refund("attempt", "r2", eur(4_501)).await.is_err());
        gateway.refund("attempt", "r2", eur(4_500)).await.unwrap();
        let ledger = gateway.ledger("attempt");
        assert_eq!((ledger.captured(), ledger.refunded()), (7_000, 7_000));
        assert!(
            gateway.refund("attempt", "r3", eur(0)).await.is_err(),
            "no zero movement"
        );
    }

    #[tokio::test]
    async fn the_refund_fails_card_refuses_each_refund_key_once_and_the_switch_all() {
        let gateway = TestGateway::default();
        let request = Authorize {
            key: "attempt".into(),
            amount: eur(10_000),
            token: test_cards::REFUND_FAILS.into(),
        };
        gateway.authorize(&request).await.expect("authorized");
        gateway.capture("attempt", "p1", eur(10_000)).await.unwrap();
        let refused = gateway.refund("attempt", "r1", eur(1_000)).await;
        assert_eq!(
            refused,
            Err(PaymentError::Declined("refund_refused".into()))
        );
        assert_eq!(gateway.ledger("attempt").refunded(), 0, "nothing moved");
        gateway.refund("attempt", "r1", eur(1_000)).await.unwrap();
        gateway.refund("attempt", "r1", eur(1_000)).await.unwrap();
        assert_eq!(
            gateway.ledger("attempt").refunded(),
            1_000,
            "the retry, once"
        );
        gateway.refuse_refunds(true);
        assert!(gateway.refund("attempt", "r2", eur(1)).await.is_err());
        gateway.refuse_refunds(false);
        assert!(
            gateway.refund("attempt", "r2", eur(1)).await.is_err(),
            "r2's first try on this card"
        );
        gateway.refund("attempt", "r2", eur(1)).await.unwrap();
        assert_eq!(gateway.ledger("attempt").refunded(), 1_001);
    }

    #[tokio::test]
    async fn an_edit_holds_more_and_releases_once_per_key_never_past_the_hold() {
        let gateway = TestGateway::default();
        assert!(
            gateway
                .authorize_more("attempt", "more-1", eur(1))
                .await
                .is_err(),
            "no authorization to add to"
        );
        authorized(&gateway, 10_000).await;
        gateway
            .authorize_more("attempt", "more-1", eur(2_500))
            .await
            .unwrap();
        gateway
            .authorize_more("attempt", "more-1", eur(2_500))
            .await
            .unwrap();
        assert_eq!(gateway.ledger("attempt").authorized, 12_500, "held once");
        assert!(
            gateway
                .authorize_more("attempt", "more-1", eur(3_000))
                .await
                .is_err(),
            "a key reused for another amount"
        );
        gateway
            .capture("attempt", "parcel-1", eur(10_000))
            .await
            .unwrap();
        assert!(
            gateway
                .release("attempt", "less-1", eur(2_501))
                .await
                .is_err(),
            "more than is held and not captured"
        );
        gateway
            .release("attempt", "less-1", eur(2_500))
            .await
            .unwrap();
        gateway
            .release("attempt", "less-1", eur(2_500))
            .await
            .unwrap();
        let ledger = gateway.ledger("attempt");
        assert_eq!((ledger.authorized, ledger.captured()), (10_000, 10_000));
        assert!(
            gateway
                .capture("attempt", "parcel-2", eur(1))
                .await
                .is_err(),
            "what was released cannot be captured"
        );
        assert!(gateway.release("attempt", "zero", eur(0)).await.is_err());
        gateway.void("attempt").await.unwrap();
        let voided = TestGateway::default();
        authorized(&voided, 100).await;
        voided.void("attempt").await.unwrap();
        assert!(voided.authorize_more("attempt", "m", eur(1)).await.is_err());
    }
}
