//! Payment providers: [`PaymentProvider`] is what a Stripe or Adyen adapter implements
//! (authorize, capture, void, refund), and [`TestGateway`] is the built-in one, the default,
//! answering by the documented test cards (`omnicart_api::checkout::test_cards`).
//!
//! Every call carries the server's idempotency key: an authorization is keyed by its checkout
//! attempt's id, so the same call again (a retry, the sweeper) is the same movement, and a void
//! names the authorization by that key even when the answer to the authorization was lost.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use omnicart_api::checkout::test_cards;
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
    /// Holds `amount` on the shopper's method; the provider's reference on success.
    fn authorize<'a>(
        &'a self,
        request: &'a Authorize,
    ) -> BoxFuture<'a, Result<String, PaymentError>>;
    /// Takes `amount` of what the authorization `key` holds (at shipment).
    fn capture<'a>(
        &'a self,
        key: &'a str,
        amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>>;
    /// Releases what the authorization `key` holds. Voiding what was never authorized, or
    /// was voided already, succeeds.
    fn void<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), PaymentError>>;
    /// Gives back `amount` captured under `key`, as the movement `refund_key`.
    fn refund<'a>(
        &'a self,
        key: &'a str,
        refund_key: &'a str,
        amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>>;
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
    Authorized,
    Captured,
    Voided,
}

/// The built-in gateway: in memory, answering by card number (see `test_cards`). A
/// [`test_cards::TIMEOUT`] card authorizes and then loses the answer, as a real timeout may,
/// so the caller must void it.
#[derive(Default)]
pub struct TestGateway {
    held: Mutex<HashMap<String, Held>>,
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

    fn set(&self, key: &str, to: Held) {
        self.held
            .lock()
            .expect("the test gateway's lock")
            .insert(key.to_owned(), to);
    }
}

impl PaymentProvider for TestGateway {
    fn authorize<'a>(
        &'a self,
        request: &'a Authorize,
    ) -> BoxFuture<'a, Result<String, PaymentError>> {
        Box::pin(async move {
            let card: String = request
                .token
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            match card.as_str() {
                test_cards::SUCCESS => {
                    self.set(&request.key, Held::Authorized);
                    Ok(format!("test_auth_{}", request.key))
                }
                test_cards::TIMEOUT => {
                    self.set(&request.key, Held::Authorized);
                    Err(PaymentError::Timeout)
                }
                test_cards::INSUFFICIENT_FUNDS => {
                    Err(PaymentError::Declined("insufficient_funds".into()))
                }
                _ => Err(PaymentError::Declined("card_declined".into())),
            }
        })
    }

    fn capture<'a>(
        &'a self,
        key: &'a str,
        _amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            match self.state(key) {
                Some(Held::Authorized | Held::Captured) => {
                    self.set(key, Held::Captured);
                    Ok(())
                }
                _ => Err(PaymentError::Failed(format!("no authorization {key}"))),
            }
        })
    }

    fn void<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            if self.state(key) == Some(Held::Authorized) {
                self.set(key, Held::Voided);
            }
            Ok(())
        })
    }

    fn refund<'a>(
        &'a self,
        key: &'a str,
        _refund_key: &'a str,
        _amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            match self.state(key) {
                Some(Held::Captured) => Ok(()),
                _ => Err(PaymentError::Failed(format!(
                    "nothing captured under {key}"
                ))),
            }
        })
    }
}
