//! Routing after placement (issue 16): a location rejecting lines of its fulfilment order,
//! and what became of them (sourced again elsewhere, or cancelled and never charged). These
//! endpoints take the integration key (`crate::INTEGRATION_KEY_HEADER`).

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
