//! The staff's and integrations' fulfilment bodies (issue 16): a fulfilment order as a WMS or
//! a store's tool sees it, their list, and the transition it asks for. These endpoints take
//! the integration key (`crate::INTEGRATION_KEY_HEADER`), never a shopper's session.

use serde::{Deserialize, Serialize};

/// One line of a fulfilment order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FulfilmentLineView {
    pub sku: String,
    pub quantity: u32,
    /// Why the location rejected it (`short_pick`, `damage`); absent while it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

/// A fulfilment order: what one location ships (`kind` `ship`) or hands over in store
/// (`pickup`), and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FulfilmentOrderView {
    pub id: String,
    /// The order it fulfils (`4829-1034-775`).
    pub order_number: String,
    pub location: String,
    /// `ship` or `pickup`.
    pub kind: String,
    /// `open`, `picking`, `packed`, `shipped`, `delivered`, `rejected`, `ready_for_pickup`,
    /// `collected`, `expired`.
    pub state: String,
    pub lines: Vec<FulfilmentLineView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
}

/// `GET` fulfilment orders: oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FulfilmentOrderList {
    pub fulfilment_orders: Vec<FulfilmentOrderView>,
}

/// A transition asked of a fulfilment order. `to` is the state wanted: `picking`, `packed`,
/// `shipped` (with `carrier` and `tracking_number`, and the label's data if any),
/// `delivered`, `ready_for_pickup` (which sends the shopper a pickup code), `collected` (with
/// the shopper's `pickup_code`). Asking for the state it is in answers it unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The code the shopper shows at the store, for `collected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_code: Option<String>,
}
