//! omnicart-api: the HTTP contract between the server and every client of it.
//!
//! Every request and reply body of `/api`, the one error body, the limits a client must keep
//! to and the route paths are declared here once; the server (`omnicart-server`) and the
//! storefront (`src/`) both use these types, so the two cannot drift apart. Nothing here does
//! I/O: it is types, constants and the few pure functions both ends must compute alike
//! ([`Profile::quote_context`]).
//!
//! **Errors.** Every refusal is an [`ErrorBody`] with a stable [`ErrorDetail::code`] (the
//! codes of [`code`], or an engine error's code such as `unknown_sku`). A client decides on
//! the code and on the structured fields ([`ErrorDetail::op_index`], [`ErrorDetail::current`]),
//! never on the message, which is for people.
//!
//! **What a client may skip.** Some replies carry the server's own pricing of the cart, which
//! a client that runs the engine itself does not need. Those types take it as a type
//! parameter: the server sends [`CartView`]; such a client reads the same reply with
//! [`serde::de::IgnoredAny`] in its place, so it neither decodes the field nor links the code
//! that would (the storefront's Wasm stays small).

use omnicart_engine::replica::{Base, Operation};
use omnicart_engine::{Cart, CartOp, Quote, QuoteContext, Timestamp};
use serde::{Deserialize, Serialize};

pub mod appointments;
pub mod checkout;
pub mod code;
pub mod edits;
pub mod events;
pub mod fulfilment;
pub mod messages;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod returns;
pub mod routes;
pub mod supply;

pub use appointments::{
    AppointmentEntry, AppointmentList, AppointmentTransition, AppointmentView, BookRequest,
    ComplaintRequest, InstallerFeed, InstallerRecord, InstallerReply, RescheduleRequest, SlotList,
    SlotView,
};
pub use checkout::{
    Alternatives, Challenge, ChallengeCompletion, ChallengeReply, CheckoutReply, CheckoutRequest,
    Contact, IDEMPOTENCY_KEY, OrderList, OrderSummary, OrderTotals, OrderView, PaymentMethod,
    PaymentView, PostalAddress, ShipmentEvent, ShipmentLineView, ShipmentProgress, ShipmentView,
    ShortLine, TimelineEntry,
};
pub use edits::{OrderEditPreview, OrderEditReply, OrderEditRequest, StockChange};
pub use events::{DeliveryView, Event, EventList, EventRecord, OrderEventData};
pub use fulfilment::{
    FulfilmentLineView, FulfilmentOrderList, FulfilmentOrderView, TransitionRequest,
};
pub use messages::{
    ProductRating, SurveyAnswer, SurveyList, SurveyProduct, SurveyRecord, SurveyView,
    UnsubscribeRequest, Unsubscribed,
};
pub use returns::{
    ReceiveRequest, ReceivedLine, ReturnEvent, ReturnLineRequest, ReturnLineView, ReturnRate,
    ReturnRates, ReturnRequest, ReturnView,
};
pub use supply::{
    CancelledLine, IncomingSupply, InventoryFeed, InventoryRecord, InventoryReply, RejectionReply,
    RejectionRequest, ResourcedLine, SubstitutionDecision, SubstitutionProposal, SubstitutionView,
};

/// The cookie that carries a signed-in customer's session (HttpOnly, SameSite=Lax; set by
/// sign-in and sign-up, cleared by sign-out). Browsers send it by themselves.
pub const SESSION_COOKIE: &str = "omnicart_session";

/// The header an integration (an ERP, WMS, point of sale or call-centre tool) sends its key in
/// on the staff and integration endpoints (fulfilment, inventory, order edits by an agent,
/// returns received). Keys are configured on the server (`OMNICART_INTEGRATION_KEYS`).
pub const INTEGRATION_KEY_HEADER: &str = "x-integration-key";

/// Most operations accepted in one request (`/ops` and `/sync`).
pub const MAX_OPS_PER_REQUEST: usize = 100;
/// Largest request body accepted, in bytes (a cart edit is a few hundred).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Shortest password accepted at sign-up (NIST SP 800-63B's minimum)…
pub const MIN_PASSWORD_CHARS: usize = 8;
/// …and the longest accepted anywhere.
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Longest customer name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest email address, in bytes (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// The error body of every refusal: `{"error": {...}}`. `Current` is the type of
/// [`ErrorDetail::current`] (see the crate docs for reading it as `IgnoredAny`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(bound = ""))]
pub struct ErrorBody<Current = CartView> {
    #[cfg_attr(feature = "openapi", schema(value_type = ErrorDetail))]
    pub error: ErrorDetail<Current>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(bound = ""))]
pub struct ErrorDetail<Current = CartView> {
    /// Stable and machine-readable: one of [`code`], or an engine error's code.
    pub code: String,
    /// For people; may change at any time.
    pub message: String,
    /// In a request carrying several operations: the index of the one refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_index: Option<usize>,
    /// The resource as stored, where a write was refused because it had changed
    /// ([`code::STALE_VERSION`]): the client can apply its edit to this. For
    /// [`code::PRICE_CHANGED`] and [`code::PROMOTION_EXHAUSTED`]: the cart with the server's
    /// new quote.
    /// (A missing `Option` field reads as `None`; `default` would ask `Current: Default`.)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<CartView>))]
    pub current: Option<Current>,
    /// [`code::PRICE_CHANGED`]: the server's total, to show beside the one the shopper saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Money>))]
    pub total: Option<omnicart_engine::Money>,
    /// [`code::OUT_OF_STOCK`]: the lines the stock cannot cover.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<ShortLine>,
    /// [`code::OUT_OF_STOCK`]: what the cart can still be bought with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternatives: Option<Alternatives>,
    /// [`code::PROMOTION_EXHAUSTED`]: the promotions with no uses or budget left.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promotions: Vec<String>,
    /// [`code::PAYMENT_DECLINED`]: the provider's reason, machine-readable
    /// (`card_declined`, `insufficient_funds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// On a server failure (5xx): the id of the request in the server's logs, to quote to
    /// support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A cart as the API returns it. `quote` is the server's pricing of it by the same engine the
/// page runs (`None` only if the catalogue no longer sells one of its SKUs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(bound = ""))]
pub struct CartView<Priced = Option<Quote>> {
    pub id: String,
    pub version: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Cart))]
    pub cart: Cart,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Quote>))]
    pub quote: Priced,
}

/// `POST /api/carts/{id}/ops`: edits to a cart at `version`, all or nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditRequest {
    /// The version the edits were made against; another one is refused
    /// ([`code::STALE_VERSION`], with the stored cart in `current`).
    pub version: i64,
    /// 1 to [`MAX_OPS_PER_REQUEST`] edits.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::CartOp>))]
    pub ops: Vec<CartOp>,
}

/// `POST /api/carts/{id}/sync`: a device pushes the operations it made and pulls the ones it
/// lacks. A pull is a push of no operations. `Op` is how the operations travel: the page sends
/// [`Operation`]s; the server reads each as raw JSON first, to name the index of one it
/// refuses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(bound = ""))]
pub struct SyncRequest<Op = Operation> {
    /// The position in the cart's log the device has seen up to (0: nothing).
    pub cursor: i64,
    /// The compaction generation of the device's copy of the log (0: never compacted).
    #[serde(default)]
    pub generation: i64,
    /// At most [`MAX_OPS_PER_REQUEST`].
    #[serde(default = "Vec::new")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::Operation>))]
    pub ops: Vec<Op>,
}

/// The answer to a sync. `Priced` is the merged cart as the server prices it (see the crate
/// docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(bound = ""))]
pub struct SyncReply<Priced = CartView> {
    /// The cart's cursor after this exchange: send it with the next sync.
    pub cursor: i64,
    /// The log's compaction generation: send it with the next sync.
    pub generation: i64,
    /// The compacted start of the log, when the device's generation was another: the device
    /// starts its copy of the log again from it, with `ops`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::ReplicaBase>))]
    pub base: Option<Base>,
    /// Operations after the request's cursor (after `base` if there is one), in the order the
    /// server received them, the device's own included.
    #[serde(default = "Vec::new")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::Operation>))]
    pub ops: Vec<Operation>,
    #[cfg_attr(feature = "openapi", schema(value_type = CartView))]
    pub cart: Priced,
}

/// `POST /api/auth/sign-in`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignIn {
    pub email: String,
    pub password: String,
    /// The device's anonymous cart, to join to the customer's (and then deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<String>,
}

/// `POST /api/auth/token`: a bearer token for a page on another origin to send as
/// `Authorization: Bearer …` instead of the session cookie. With `email` and `password`, or
/// a session (the cookie), the token acts as that session (and is revoked with it at
/// sign-out); otherwise `cart_id` names the guest cart it is for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRequest {
    /// Without a session: the guest cart the token is for. With `email` and `password`: the
    /// device's guest cart to join, as [`SignIn::cart_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<String>,
    /// Signs in (as [`SignIn`]) and issues the new session's token: how a page on another
    /// origin, which never holds the shop's cookie, signs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A bearer token, shown once: only its hash is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenReply {
    pub token: String,
    /// When it stops working, Unix seconds.
    pub expires_at: i64,
    /// The customer it signs in as; `None` for a guest cart's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The guest cart it is for, or the customer's cart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<String>,
}

/// `POST /api/auth/sign-up`: creates the account and signs in, joining `cart_id` like
/// [`SignIn`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignUp {
    pub email: String,
    /// [`MIN_PASSWORD_CHARS`] to [`MAX_PASSWORD_CHARS`] characters.
    pub password: String,
    /// 1 to [`MAX_NAME_CHARS`] characters.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<String>,
}

/// Who is signed in: `GET /api/me`, and the answer to sign-in and sign-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub customer: Customer,
    /// The customer's cart, shared by all their devices.
    pub cart_id: String,
    /// Customer segments promotions can target (e.g. `vip`).
    #[serde(default)]
    pub segments: Vec<String>,
    /// Whether the customer has yet to place an order (first-order promotions).
    #[serde(default)]
    pub first_order: bool,
    /// Coupon codes the customer's orders (not cancelled) used, normalized and sorted: a
    /// once-per-customer coupon among them is refused (`coupon_already_used`).
    #[serde(default)]
    pub used_coupons: Vec<String>,
}

impl Me {
    /// The facts about this customer that promotions may use.
    pub fn profile(&self) -> Profile {
        Profile {
            segments: self.segments.clone(),
            first_order: self.first_order,
            used_coupons: self.used_coupons.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    pub id: String,
    pub email: String,
    pub name: String,
}

/// What promotions may know about a shopper. The server and the page build their quote
/// context from it the same way ([`Profile::quote_context`]), so both price alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub segments: Vec<String>,
    pub first_order: bool,
    /// Codes the shopper's orders used ([`Me::used_coupons`]); none for a guest.
    pub used_coupons: Vec<String>,
}

impl Profile {
    /// A shopper who has not signed in: no segments, and no order placed.
    pub fn anonymous() -> Profile {
        Profile {
            segments: Vec::new(),
            first_order: true,
            used_coupons: Vec::new(),
        }
    }

    /// The context a cart is quoted in for this shopper at `now`.
    pub fn quote_context(&self, now: Timestamp) -> QuoteContext {
        QuoteContext {
            now: Some(now),
            segments: self.segments.clone(),
            first_order: self.first_order,
            used_coupons: self.used_coupons.clone(),
            ..QuoteContext::default()
        }
    }
}

impl Default for Profile {
    fn default() -> Profile {
        Profile::anonymous()
    }
}
