//! Events to the retailer's other systems (issue 17): what the webhook endpoints receive and
//! what the staff's event list shows.
//!
//! **What is sent.** Each event is an [`Event`] posted as JSON to every configured endpoint
//! (`OMNICART_WEBHOOK_URLS`), at least once: a receiver that answers anything but 2xx, or
//! not at all, gets it again later with the same `id` (deduplicate on it). One order's events
//! arrive in `sequence` order: the next is held back until the one before it is delivered
//! (or given up as dead). Kinds: `order.placed` (an [`OrderEventData`]: the ERP's invoice
//! lines with their tax, the CRM's customer, the shipments), `order.<state>` when the order's
//! state changes and `order.updated` when only its payment does (the same data), and
//! `fulfilment.<state>` for a fulfilment order ([`crate::FulfilmentOrderView`]: a WMS's or
//! carrier's work).
//!
//! **Signature.** Every request carries [`SIGNATURE_HEADER`]: `t=<unix seconds>,v1=<hex>`,
//! where `<hex>` is HMAC-SHA256 under the shared secret (`OMNICART_WEBHOOK_SECRET`) of the
//! text `<t>.<body>`. A receiver recomputes it over the raw body, compares in constant time
//! and refuses a `t` far from its clock (replays). [`EVENT_ID_HEADER`] and
//! [`EVENT_TYPE_HEADER`] repeat the body's `id` and `type`.

use omnicart_engine::{Money, TaxLine};
use serde::{Deserialize, Serialize};

use crate::{FulfilmentOrderView, OrderView};

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "omnicart-signature";
/// The event's id (`evt_…`), the same on every delivery of it.
pub const EVENT_ID_HEADER: &str = "omnicart-event-id";
/// The event's kind (`order.placed`).
pub const EVENT_TYPE_HEADER: &str = "omnicart-event-type";

/// One event, as posted to an endpoint. `D` is the kind's data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event<D> {
    /// `evt_…`: stable across deliveries.
    pub id: String,
    /// `order.placed`, `order.cancelled`, `fulfilment.shipped`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The order it concerns (`4829-1034-775`).
    pub order_number: String,
    /// 1, 2, 3, … per order: the order a receiver applies them in.
    pub sequence: i64,
    /// When the change was committed, in Unix milliseconds.
    pub created_at_ms: i64,
    pub data: D,
}

/// The data of an order's events: the order as the shopper sees it (its lines with their
/// tax and rate, totals, payment, shipments, contact) and its invoice's tax lines (per rate,
/// summing exactly to the order's tax).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderEventData {
    pub order: OrderView,
    /// The signed-in customer's id (absent for a guest): the CRM's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    pub tax_lines: Vec<TaxLine>,
    /// What the payment has captured and refunded so far.
    pub captured: Money,
    pub refunded: Money,
}

/// The data of a fulfilment order's events.
pub type FulfilmentEventData = FulfilmentOrderView;

/// Where one event stands with one endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub endpoint: String,
    /// `pending`, `delivered` or `dead` (given up after the configured attempts: replay it).
    pub state: String,
    pub attempts: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// An event in the staff's list: its envelope and the exact body sent, with its deliveries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventRecord {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub order_number: String,
    pub sequence: i64,
    pub created_at_ms: i64,
    /// The JSON text posted (and signed).
    pub body: String,
    pub deliveries: Vec<DeliveryView>,
}

/// `GET /api/integration/events?order=…&state=…`: newest first, at most 200.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventList {
    pub events: Vec<EventRecord>,
}
