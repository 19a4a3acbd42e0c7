//! The checkout and order contract: `POST /api/checkout` ([`CheckoutRequest`] →
//! [`CheckoutReply`], or [`ChallengeReply`]), `POST /api/checkout/{id}/complete`
//! ([`ChallengeCompletion`] → [`CheckoutReply`]), `GET /api/orders` ([`OrderList`] of [`OrderSummary`]),
//! `GET /api/orders/{number}` and `POST /api/orders/{number}/cancel` ([`OrderView`]).
//!
//! **What the server reads.** The request names the cart; the server prices it again with
//! its own snapshot, the caller's context and the promotions' uses counted in its database.
//! No price, discount or total from the client is read, except [`CheckoutRequest::expected_total`],
//! the total the shopper saw, which is only compared: another total is refused
//! (`price_changed`, with the server's quote in the error's `current`).
//!
//! **Idempotency.** Every checkout carries an [`IDEMPOTENCY_KEY`] header (1 to
//! [`MAX_IDEMPOTENCY_KEY_BYTES`] bytes; a fresh random one per attempt, reused for retries of
//! that attempt). The first answer per key and caller is stored and replayed byte for byte
//! for 24 hours; the same key with another body is refused (`idempotency_mismatch`); a
//! retry arriving while the first is still running gets `in_progress` (try again shortly).
//!
//! **Challenges** (a 3-D Secure style step, as Stripe's `requires_action`). A provider may
//! answer a checkout with a challenge the shopper must pass with their bank: the checkout is
//! answered `202` with a [`ChallengeReply`] (stored under the key like every answer, so a
//! replay is the same challenge), and the stock and promotion uses stay held for up to
//! [`CHALLENGE_TTL_SECONDS`]. The page presents the [`Challenge`] (a [`CHALLENGE_TEST`] one
//! itself, as a dialog; a [`CHALLENGE_REDIRECT`] one at its `url`) and sends the shopper's
//! result to `POST /api/checkout/{id}/complete` ([`ChallengeCompletion`], with an
//! [`IDEMPOTENCY_KEY`] of its own): `201` [`CheckoutReply`], or `402` `payment_declined`
//! with the reason `authentication_failed` (nothing kept, the cart intact), or `409`
//! `attempt_expired` once the hold ran out (nothing charged; a new checkout of the cart
//! replaces a challenge still waiting, the same way). A challenge is completed once:
//! every later completion, by any key, gets the first one's answer. Only the caller who
//! started the checkout may complete it (anyone else: `404`).
//!
//! **Test cards.** The built-in test gateway (provider [`TEST_GATEWAY`], the default)
//! answers by card number: [`test_cards`].
//!
//! Shapes are flat structs with `Option`s (no tagged enums), so the page's Wasm stays small.

use omnicart_engine::fulfilment::{Date, Level};
use omnicart_engine::{Money, QuoteLine, Sku, Timestamp};
use serde::{Deserialize, Serialize};

/// The request header that carries a checkout's idempotency key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Longest idempotency key accepted, in bytes.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 255;
/// How long a key's first answer is kept and replayed, in seconds (24 hours).
pub const IDEMPOTENCY_KEY_TTL_SECONDS: i64 = 24 * 60 * 60;
/// Longest free-text field of a checkout (a name, a street line, a city), in characters.
pub const MAX_FIELD_CHARS: usize = 200;
/// Most street lines in an address.
pub const MAX_STREET_LINES: usize = 3;
/// Orders per page of [`OrderList`], at most (and by default).
pub const MAX_ORDERS_PER_PAGE: u32 = 50;

/// The payment provider name of the built-in test gateway.
pub const TEST_GATEWAY: &str = "test";

/// The built-in test gateway's card numbers (the payment token is the number, spaces allowed).
/// Any other number is declined as `card_declined`.
pub mod test_cards {
    /// Authorized.
    pub const SUCCESS: &str = "4242424242424242";
    /// Declined: `card_declined`.
    pub const DECLINED: &str = "4000000000000002";
    /// Declined: `insufficient_funds`.
    pub const INSUFFICIENT_FUNDS: &str = "4000000000009995";
    /// The provider does not answer in time: nothing is charged (the authorization is voided)
    /// and the checkout is refused with `payment_timeout`.
    pub const TIMEOUT: &str = "4000000000000119";
    /// Asks for a challenge ([`super::CHALLENGE_TEST`], as Stripe's 3-D Secure 2 test card
    /// of this number): completed with [`super::CHALLENGE_CONFIRMED`] the payment is
    /// authorized; with [`super::CHALLENGE_CANCELLED`] (or anything else) it is declined as
    /// `authentication_failed`.
    pub const CHALLENGE: &str = "4000002760003184";
}

/// How long a checkout waiting for its challenge holds stock and promotion uses, in seconds
/// (ten minutes: a bank's confirmation by app or text message takes a person a minute or
/// two; a 3-D Secure challenge times out after about as long). Then it is released and any
/// authorization voided: completing it is `attempt_expired`.
pub const CHALLENGE_TTL_SECONDS: i64 = 10 * 60;
/// [`Challenge::kind`]: the page presents it itself (the test gateway's confirmation dialog).
pub const CHALLENGE_TEST: &str = "test";
/// [`Challenge::kind`]: the page sends the shopper to [`Challenge::url`] (the bank's page).
pub const CHALLENGE_REDIRECT: &str = "redirect";
/// [`ChallengeCompletion::result`] of a [`CHALLENGE_TEST`] challenge: the shopper confirmed…
pub const CHALLENGE_CONFIRMED: &str = "confirmed";
/// …or cancelled (closed the dialog).
pub const CHALLENGE_CANCELLED: &str = "cancelled";
/// Longest [`ChallengeCompletion::result`], in bytes (a 3-D Secure result is a few KiB).
pub const MAX_CHALLENGE_RESULT_BYTES: usize = 8 * 1024;

/// `POST /api/checkout`, with the [`IDEMPOTENCY_KEY`] header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutRequest {
    /// The cart to buy, as the caller may see it (their own, or an anonymous one by id).
    pub cart_id: String,
    /// The total the shopper saw and agreed to. Compared, never charged: the server charges
    /// its own quote's total, and refuses with `price_changed` if the two differ.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub expected_total: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Contact))]
    pub contact: Contact,
    /// Where to deliver; absent when the cart's delivery choice is a pickup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::PostalAddress>))]
    pub shipping_address: Option<PostalAddress>,
    pub payment: PaymentMethod,
}

/// Who to tell about the order, and where it goes: the order domain's own types, which the
/// order keeps as given (the server checks them against [`MAX_FIELD_CHARS`] and
/// [`MAX_STREET_LINES`]).
pub use omnicart_order::{Address as PostalAddress, Contact};

/// How the shopper pays: a provider and the token its page-side form produced (for
/// [`TEST_GATEWAY`], a number of [`test_cards`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentMethod {
    pub provider: String,
    pub token: String,
}

/// The answer to a placed checkout (201).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutReply {
    pub order: OrderView,
    /// For a guest: the capability that opens the order
    /// (`GET /api/orders/{number}?token=…`). Shown once; the server keeps only its hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_token: Option<String>,
}

/// The answer to a checkout whose payment waits for the shopper's bank (202): stock and
/// promotion uses are held until [`Challenge::expires_at`]; nothing is charged yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChallengeReply {
    pub challenge: Challenge,
}

/// What the page needs to present a provider's challenge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Challenge {
    /// Names it in `POST /api/checkout/{id}/complete`; unguessable (a guest's capability).
    pub id: String,
    /// [`CHALLENGE_TEST`] or [`CHALLENGE_REDIRECT`]; a page that knows neither cancels it.
    pub kind: String,
    /// Where a [`CHALLENGE_REDIRECT`] challenge is presented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// What the bank is asked to confirm: the order's total.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub amount: Money,
    /// When the hold ends; completing later is `attempt_expired`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Timestamp))]
    pub expires_at: Timestamp,
}

/// `POST /api/checkout/{id}/complete`, with an [`IDEMPOTENCY_KEY`] header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChallengeCompletion {
    /// The page step's result, passed to the provider as it is: for [`CHALLENGE_TEST`],
    /// [`CHALLENGE_CONFIRMED`] or [`CHALLENGE_CANCELLED`]; at most
    /// [`MAX_CHALLENGE_RESULT_BYTES`].
    pub result: String,
}

/// An order as its shopper sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderView {
    /// `4829-1034-775`: readable out on the phone, with a check digit.
    pub number: String,
    /// Raised by one by every edit after placement; an edit names the version it was made
    /// against (`crate::OrderEditRequest::version`).
    #[serde(default)]
    pub version: i64,
    /// `placed`, `confirmed`, `in_fulfilment`, …, `cancelled`, `on_hold`.
    pub state: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Timestamp))]
    pub placed_at: Timestamp,
    /// Every transition, oldest first (the first is the placement).
    pub timeline: Vec<TimelineEntry>,
    /// The lines as the engine priced them at placement: goods, and each attached service
    /// right after its item (`attached_to`), with adjustments and tax.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::QuoteLine>))]
    pub lines: Vec<QuoteLine>,
    /// The delivery level, when delivered…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Level>))]
    pub delivery_level: Option<Level>,
    /// …or the store it is collected from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_location: Option<String>,
    /// The sourcing plan: where each part ships from and when it arrives.
    pub shipments: Vec<ShipmentView>,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Contact))]
    pub contact: Contact,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::PostalAddress>))]
    pub shipping_address: Option<PostalAddress>,
    pub totals: OrderTotals,
    pub payment: PaymentView,
    /// Substitutes a location proposed for lines, and the shopper's answers (absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub substitutions: Vec<crate::SubstitutionView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub state: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Timestamp))]
    pub at: Timestamp,
    /// For people: "Order placed", "Cancelled by you".
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShipmentView {
    pub location: String,
    pub location_name: String,
    pub lines: Vec<ShipmentLineView>,
    /// The date it leaves the location (`2026-11-24`).
    pub ships_on: String,
    /// The promised delivery (or ready-for-pickup) window.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Timestamp))]
    pub earliest: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Timestamp))]
    pub latest: Timestamp,
    /// "Tue 24 Nov – Thu 26 Nov".
    pub label: String,
    /// Where its fulfilment order stands (absent on the placement's own answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<ShipmentProgress>,
}

/// A shipment's fulfilment order as its shopper sees it: state, timeline, carrier and
/// tracking number once shipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShipmentProgress {
    /// `open`, `picking`, `packed`, `shipped`, `delivered`, `rejected`, `ready_for_pickup`,
    /// `collected`, `expired`.
    pub state: String,
    pub timeline: Vec<ShipmentEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// While a pickup is ready: the code to show at the counter (`ABCD-EFGH`, as mailed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_code: Option<String>,
}

/// One step of a shipment's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShipmentEvent {
    pub state: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Timestamp))]
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShipmentLineView {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Sku))]
    pub sku: Sku,
    pub quantity: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderTotals {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub subtotal: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub discount_total: Money,
    /// What delivery costs after its discounts (zero for pickup).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub delivery: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub tax_total: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub total: Money,
    pub prices_include_tax: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentView {
    pub provider: String,
    /// `authorized`, `captured`, `voided`, … (the payment's machine).
    pub state: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub authorized: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub captured: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub refunded: Money,
}

/// One order in [`OrderList`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderSummary {
    pub number: String,
    pub state: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Timestamp))]
    pub placed_at: Timestamp,
    pub item_count: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub total: Money,
}

/// `GET /api/orders?page=N` (N from 1): the caller's orders, newest first,
/// [`MAX_ORDERS_PER_PAGE`] per page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderList {
    pub orders: Vec<OrderSummary>,
    /// The page after this one, if there are more orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<u32>,
}

/// In an `out_of_stock` refusal ([`crate::ErrorDetail::lines`]): a line the stock cannot
/// cover where the plan sources it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShortLine {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Sku))]
    pub sku: Sku,
    pub location: String,
    pub requested: u32,
    /// What that location can still promise (0 or more).
    pub available: u32,
    /// When incoming supply can promise the line's quantity (a backorder), if any is coming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Date>))]
    pub available_on: Option<Date>,
}

/// In an `out_of_stock` refusal ([`crate::ErrorDetail::alternatives`]): what the same cart can
/// still be bought with, from the same delivery quote, checked against live stock.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alternatives {
    /// Delivery levels whose whole plan the stock still covers.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::Level>))]
    pub levels: Vec<Level>,
    /// Pickup stores that still have the whole cart.
    #[serde(default)]
    pub pickup_locations: Vec<String>,
}
