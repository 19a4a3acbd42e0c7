//! What the shopper types at checkout, kept so that nothing is lost: the form (contact,
//! address, the step reached) lives in a signal provided to every page and is written to
//! `sessionStorage` ([`FORM_KEY`]) on every change, so it survives navigation and reloads of
//! the tab. The card number is kept in memory only (across pages, not across a reload): a
//! card number does not belong in storage, even a test one.
//!
//! # One idempotency key per attempt
//! An [`Attempt`] is the request body the shopper pressed "Place order" for and a random key
//! made at that press. It is kept (in `sessionStorage` too, so a reload after a lost answer
//! reuses it) until the attempt gets a final answer: pressing again with the same body (a
//! double tap, a retry after going offline, `in_progress`, `payment_timeout`) sends the same
//! key, and the server makes at most one order; a body that differs (the shopper changed
//! something) is a new attempt with a new key.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api;

const FORM_KEY: &str = "omnicart.checkout.v1";
const ATTEMPT_KEY: &str = "omnicart.checkout.attempt.v1";

/// The checkout's steps, in order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    #[default]
    Contact,
    Delivery,
    Payment,
    Review,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Contact, Step::Delivery, Step::Payment, Step::Review];

    pub fn number(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Contact => "Contact and address",
            Step::Delivery => "Delivery",
            Step::Payment => "Payment",
            Step::Review => "Review and place order",
        }
    }

    pub fn next(self) -> Step {
        Step::ALL.get(self.number()).copied().unwrap_or(self)
    }

    pub fn back(self) -> Step {
        Step::ALL
            .get(self.number().saturating_sub(2))
            .copied()
            .unwrap_or(self)
    }
}

/// The checkout form as typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Form {
    pub email: String,
    pub name: String,
    pub phone: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
    pub step: Step,
}

/// A press of "Place order": the body sent and its idempotency key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub key: String,
    pub body: String,
}

/// The checkout's state, provided in context by the app shell.
#[derive(Clone, Copy)]
pub struct Draft {
    pub form: RwSignal<Form>,
    /// Memory only (see the module docs).
    pub card: RwSignal<String>,
}

impl Draft {
    /// The stored form (or an empty one), saved again on every change.
    pub fn new() -> Draft {
        let stored = session_get(FORM_KEY).and_then(|json| api::from_json::<Form>(&json).ok());
        let form = RwSignal::new(stored.unwrap_or_else(|| Form {
            country: "DE".into(),
            ..Form::default()
        }));
        Effect::new(move |_| form.with(|f| session_set(FORM_KEY, &api::to_json(f))));
        Draft {
            form,
            card: RwSignal::new(String::new()),
        }
    }

    /// The key for a press with this `body`: the live attempt's if it was for the same body,
    /// else a new one (kept until [`Draft::finish`]).
    pub fn key_for(self, body: &str) -> String {
        if let Some(attempt) = self.live_attempt().filter(|a| a.body == body) {
            return attempt.key;
        }
        let attempt = Attempt {
            key: crate::store::random_hex(16),
            body: body.to_owned(),
        };
        session_set(ATTEMPT_KEY, &api::to_json(&attempt));
        attempt.key
    }

    /// The attempt still waiting for its final answer, if any.
    pub fn live_attempt(self) -> Option<Attempt> {
        session_get(ATTEMPT_KEY).and_then(|json| api::from_json::<Attempt>(&json).ok())
    }

    /// The attempt got its final answer: the next press is a new attempt.
    pub fn finish(self) {
        if let Some(storage) = session_storage() {
            let _ = storage.remove_item(ATTEMPT_KEY);
        }
    }

    /// After an order: the card is forgotten and the next checkout starts at the first step
    /// (contact and address stay, for next time).
    pub fn placed(self) {
        self.finish();
        self.card.set(String::new());
        self.form.update(|f| f.step = Step::Contact);
    }
}

impl Default for Draft {
    fn default() -> Draft {
        Draft::new()
    }
}

pub fn use_draft() -> Draft {
    expect_context::<Draft>()
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// An order attempt of this tab is still waiting for its final answer (sent, or its answer
/// lost): the checkout's own answer, not a pushed cart change, decides what the page shows
/// next ([`crate::store::Store`] does not pull on a live event meanwhile).
pub fn attempt_waiting() -> bool {
    session_get(ATTEMPT_KEY).is_some()
}

fn session_get(key: &str) -> Option<String> {
    session_storage()?.get_item(key).ok().flatten()
}

fn session_set(key: &str, value: &str) {
    if let Some(storage) = session_storage() {
        // A full storage keeps the form in this page's memory.
        let _ = storage.set_item(key, value);
    }
}

/// Guest orders opened on this browser: the order number and its token, so the confirmation
/// and order links keep working (the server shows the token once).
const GUEST_ORDERS_KEY: &str = "omnicart.guest-orders.v1";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct GuestOrders {
    orders: Vec<GuestOrder>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct GuestOrder {
    number: String,
    token: String,
}

/// At most this many guest tokens are remembered (the oldest go first).
const MAX_GUEST_ORDERS: usize = 20;

pub fn remember_guest_order(number: &str, token: &str) {
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return;
    };
    let mut stored = storage
        .get_item(GUEST_ORDERS_KEY)
        .ok()
        .flatten()
        .and_then(|json| api::from_json::<GuestOrders>(&json).ok())
        .unwrap_or_default();
    stored.orders.retain(|o| o.number != number);
    stored.orders.push(GuestOrder {
        number: number.to_owned(),
        token: token.to_owned(),
    });
    let excess = stored.orders.len().saturating_sub(MAX_GUEST_ORDERS);
    stored.orders.drain(..excess);
    let _ = storage.set_item(GUEST_ORDERS_KEY, &api::to_json(&stored));
}

/// The token this browser was given for a guest order.
pub fn guest_token(number: &str) -> Option<String> {
    let storage = web_sys::window()?.local_storage().ok().flatten()?;
    let json = storage.get_item(GUEST_ORDERS_KEY).ok().flatten()?;
    api::from_json::<GuestOrders>(&json)
        .ok()?
        .orders
        .into_iter()
        .find(|o| o.number == number)
        .map(|o| o.token)
}
