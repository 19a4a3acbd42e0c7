//! Edits after placement: `POST /api/orders/{number}/edits/preview` (a dry run) and
//! `POST /api/orders/{number}/edits` (the commit, with an [`crate::IDEMPOTENCY_KEY`] header),
//! both [`OrderEditRequest`]; the preview answers [`OrderEditPreview`], the commit
//! [`OrderEditReply`].
//!
//! **Who.** The order's shopper (as `GET /api/orders/{number}`: another customer's order is
//! `404`) before fulfilment starts; a call-centre agent with the integration key
//! (`crate::INTEGRATION_KEY_HEADER`) while lines are unfulfilled: a line a location has
//! started cannot change (`line_fulfilled`), nor the delivery once any part has started.
//!
//! **What.** Cart operations on the order as it was placed: add, set quantity, remove,
//! replace, attach or detach a service, choose another delivery level or pickup store
//! (`add`, `set_quantity`, `remove`, `replace`, `attach_service`, `detach_service`,
//! `choose_delivery`). Coupons and the address are not edited (`invalid_edit`).
//!
//! **Re-pricing rule.** The edited order is priced by the engine, as the page and the
//! placement price (never a client's price), with the catalogue's prices now and the
//! promotions **as of the order's placement**: its placement time and the shopper's facts
//! then (segments, first order, codes used), and the order's own claims of limited
//! promotions counted as its own. An edit does not lose an offer that ended since the order
//! was placed nor gain one that started since, so adding lines and removing them again
//! gives back the placement's total exactly, and the money moved nets to zero. Delivery
//! dates and stock are planned from now.
//!
//! **Money.** The difference to the order's total is authorized on top of the hold
//! (`authorize`), or released from the part of the hold not captured yet (`release`), and
//! only beyond that refunded (`refund`).
//!
//! **Commit.** At the order's `version` (another one is `stale_version`, `409`): stock
//! re-reserved in one transaction (`out_of_stock`: nothing changed), the open fulfilment
//! orders updated, the money moved once per edit (replaying the key answers the first
//! answer and moves nothing again), the version raised by one.

use omnicart_engine::{CartOp, Money, Quote};
use serde::{Deserialize, Serialize};

use crate::OrderView;

/// An edit of a placed order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderEditRequest {
    /// The order's version the edit was made against ([`OrderView::version`]).
    pub version: i64,
    /// 1 to [`crate::MAX_OPS_PER_REQUEST`] operations, applied in order, all or nothing.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::CartOp>))]
    pub ops: Vec<CartOp>,
}

/// The units reserved at one stock record before and after the edit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockChange {
    pub location: String,
    pub sku: String,
    pub before: u32,
    pub after: u32,
}

/// What an edit does (the preview's answer, and the commit's with the order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderEditPreview {
    /// The version it was priced at (the commit sends it).
    pub version: i64,
    /// The edited order as the engine prices it (see the re-pricing rule).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Quote))]
    pub quote: Quote,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub total_before: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub total_after: Money,
    /// `total_after − total_before` (negative: money goes back).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub difference: Money,
    /// Held on top of the authorization.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub authorize: Money,
    /// Released from the hold, not captured.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub release: Money,
    /// Refunded from what was captured.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub refund: Money,
    /// The stock records whose reservation changes.
    pub stock: Vec<StockChange>,
}

/// The commit's answer: the order as edited (its new `version`), and what the edit did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderEditReply {
    pub order: OrderView,
    pub edit: OrderEditPreview,
}
