//! Routing after placement and supply (issue 16): a location rejecting lines of its
//! fulfilment order, and what became of them (sourced again elsewhere, or cancelled and never
//! charged); the inventory feed. These endpoints take the integration key
//! (`crate::INTEGRATION_KEY_HEADER`).

use omnicart_engine::Timestamp;
use serde::{Deserialize, Serialize};

use crate::FulfilmentOrderView;

/// A location rejects lines of its fulfilment order: `lines` are indices into its `lines`
/// (0-based), `reason` is `short_pick` or `damage`. Rejecting a line already rejected changes
/// nothing (a replay).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RejectionRequest {
    pub lines: Vec<u32>,
    pub reason: String,
}

/// Units of a rejected line that another location now fulfils.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourcedLine {
    pub sku: String,
    pub quantity: u32,
    pub location: String,
    /// The fulfilment order that took them (new, or one still open at that location).
    pub fulfilment_order_id: String,
}

/// Units of a rejected line that no location could fill: cancelled, their amount never
/// captured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelledLine {
    pub sku: String,
    pub quantity: u32,
    /// What the shopper is not charged for them (`"89.99"`, the order's currency).
    pub amount: String,
}

/// The answer to a rejection: the fulfilment order as it is now, where each rejected line
/// went, and the order's promise (the latest delivery of its shipments still going).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectionReply {
    pub fulfilment_order: FulfilmentOrderView,
    pub resourced: Vec<ResourcedLine>,
    pub cancelled: Vec<CancelledLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Timestamp>))]
    pub latest_delivery: Option<Timestamp>,
}

/// Most records in one inventory feed request (a bigger feed is sent in parts).
pub const MAX_INVENTORY_RECORDS: usize = 500;
/// Most units one record may count on hand or in one arrival.
pub const MAX_STOCK_UNITS: i64 = 1_000_000_000;
/// Most arrivals listed for one record.
pub const MAX_INCOMING: usize = 32;

/// `PUT /api/inventory`: what an ERP, WMS or point of sale counts, per location and SKU. Each
/// record replaces the record's on-hand count and its incoming supply (absolute values, so a
/// resent feed changes nothing); reservations and safety stock are the server's and stay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InventoryFeed {
    pub records: Vec<InventoryRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InventoryRecord {
    /// A location of the catalogue's network.
    pub location: String,
    /// A goods SKU of the catalogue.
    pub sku: String,
    /// Units on the shelf, 0 to [`MAX_STOCK_UNITS`].
    pub on_hand: i64,
    /// Arrivals expected (purchase orders, transfers); none if absent.
    #[serde(default)]
    pub incoming: Vec<IncomingSupply>,
}

/// Units expected at the location on a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IncomingSupply {
    /// `2026-12-04`.
    pub date: String,
    /// 1 to [`MAX_STOCK_UNITS`].
    pub quantity: i64,
}

/// What a feed changed: records whose count or arrivals differed (or were new), and records
/// already as sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InventoryReply {
    pub updated: u32,
    pub unchanged: u32,
}

/// A picker proposes `sku` in place of the fulfilment order's line `line` (0-based), all its
/// units; the shopper accepts or declines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubstitutionProposal {
    pub line: u32,
    pub sku: String,
}

/// A proposed substitute and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubstitutionView {
    pub id: String,
    pub fulfilment_order_id: String,
    /// The SKU ordered.
    pub sku: String,
    pub substitute_sku: String,
    pub quantity: u32,
    /// What the shopper pays for the substitute's units (`"89.99"`): the lower of the
    /// ordered units' price and the substitute's own, never more than authorized.
    pub charged: String,
    /// What the ordered units cost.
    pub original: String,
    /// `proposed`, `accepted`, `declined`.
    pub state: String,
}

/// The shopper's answer to a proposed substitute. Declined: the line is rejected and sourced
/// again elsewhere (or cancelled uncharged). The same answer again changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubstitutionDecision {
    pub accept: bool,
}
