//! Upsell hints: promotions the cart nearly qualifies for, what is missing, what they would save.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::sku::Sku;

/// "Add 23.50 EUR more for free delivery", "Add a PlayStation: save 110.00 EUR".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpsellHint {
    pub promotion_id: Arc<str>,
    pub label: Arc<str>,
    /// A plain-language sentence; the storefront may compose its own from the fields below.
    pub message: String,
    /// How much more to spend to qualify (subtotal thresholds).
    pub missing_amount: Option<Money>,
    /// What to add to qualify or to be discounted: the cheapest matching item.
    pub add: Option<Suggestion>,
    /// What the shopper would save; absent when it depends on something not known yet (the
    /// delivery charge before a delivery option is chosen).
    pub saving: Option<Money>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub sku: Sku,
    pub name: String,
    pub quantity: u32,
}
