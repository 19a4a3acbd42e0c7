//! [`QuoteContext`]: who is buying, where, when and with which codes; the input every quote,
//! promotion check and delivery calculation reads besides the snapshot and the cart. Its own
//! module so that `promotion` and `quote` both depend on it without depending on each other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fulfilment::StockLevels;
use crate::money::Currency;
use crate::promotion::{Amount, Channel};
use crate::time::Timestamp;

/// Who is buying, where, when and with which codes. Everything the engine would otherwise have
/// to look up is passed in: it reads no clock and no database.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuoteContext {
    pub channel: Channel,
    /// Defaults to the snapshot's currency.
    pub currency: Option<Currency>,
    /// Tax region; defaults to the snapshot's default region.
    pub region: Option<String>,
    /// The instant promotions' schedules are checked against.
    pub now: Option<Timestamp>,
    pub segments: Vec<String>,
    pub first_order: bool,
    /// Codes this customer has already used; a once-per-customer promotion refuses its own.
    pub used_coupons: Vec<String>,
    /// Uses and budget left per promotion id, as the server counts them.
    pub usage: BTreeMap<String, Usage>,
    /// The delivery charge, once the delivery calculator has produced one.
    pub delivery_charge: Option<Amount>,
    /// Stock as the server counts it, for the SKUs it lists (the snapshot's for the rest).
    /// Never on the wire: the page quotes with the snapshot it is served, whose stock the
    /// server keeps live, and a context from outside cannot claim stock.
    #[serde(skip)]
    pub stock: StockLevels,
}

/// What is left of one promotion's limits for this customer, as the server counts them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Usage {
    pub remaining_uses: Option<u32>,
    pub remaining_budget: Option<Amount>,
}
