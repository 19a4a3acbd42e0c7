//! Returns and refunds: the shopper's request (`POST /api/orders/{number}/returns`, the
//! order's owner or guest token), the location's receipt and the refund's retry (integration
//! key), and the return rates staff read. A return as both ends see it is [`ReturnView`]; the
//! order's own view lists its returns (`crate::OrderView::returns`).

use omnicart_engine::{Money, Sku, Timestamp};
use serde::{Deserialize, Serialize};

/// One line the shopper sends back: `quantity` units of the order's line `line` (its index in
/// `OrderView::lines`), with a reason in their words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReturnLineRequest {
    pub line: u32,
    pub quantity: u32,
    pub reason: String,
}

/// `POST /api/orders/{number}/returns`: units that reached the shopper (a parcel delivered,
/// a pickup collected), never more than that minus what earlier returns claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    pub lines: Vec<ReturnLineRequest>,
}

/// One line of a return and what it refunds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnLineView {
    pub line: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Sku))]
    pub sku: Sku,
    pub quantity: u32,
    pub reason: String,
    /// These units' share of the line's total (after every promotion, tax included).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub refund: Money,
    /// The tax in `refund`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub tax: Money,
    /// A service attached to a returned item, refunded with it (never received or restocked).
    pub service: bool,
    /// `restock` or `damaged`, once received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
}

/// One step of a return: `requested`, `received`, `refund_failed`, `refunded`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnEvent {
    pub state: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Timestamp))]
    pub at: Timestamp,
}

/// A return: what comes back, what is refunded, where it stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnView {
    pub id: String,
    pub order_number: String,
    /// `requested`, `received`, `refund_failed` (the provider refused; retried), `refunded`.
    pub state: String,
    pub lines: Vec<ReturnLineView>,
    /// The delivery charge refunded with it: the order's, with the return of its last goods.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub delivery: Money,
    /// Everything it refunds: the lines' refunds and `delivery`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub total: Money,
    /// Where it was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub timeline: Vec<ReturnEvent>,
}

/// What the location did with one returned line: `restock` (available there at once) or
/// `damaged`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceivedLine {
    pub line: u32,
    pub disposition: String,
}

/// `POST /api/returns/{id}/receive` (integration key): received at `location` (a network
/// location id), a disposition for every goods line; then the refund is made. A return
/// received already answers as it is (nothing moves again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiveRequest {
    pub location: String,
    pub lines: Vec<ReceivedLine>,
}

/// Returned units over sold units, for one product (SKU) or one customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnRate {
    /// The SKU, or the customer's id.
    pub key: String,
    /// Units in orders not cancelled.
    pub sold: u64,
    /// Units in returns received.
    pub returned: u64,
    /// `returned / sold`, a decimal with four places (`"0.2500"`).
    pub rate: String,
}

/// `GET /api/return-rates` (integration key): per product and per customer, highest rate
/// first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnRates {
    pub products: Vec<ReturnRate>,
    pub customers: Vec<ReturnRate>,
}
