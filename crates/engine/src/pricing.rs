//! Pricing: turns a [`Cart`] into a [`Quote`] against a [`Snapshot`].
//!
//! v0 rules: a line's total is unit price × quantity (exact, no rounding needed because unit
//! prices are held at the minor unit); the subtotal is the sum of line totals; the total is the
//! subtotal. Promotions, tax and delivery arrive with later issues and will extend `Quote`
//! without changing these sums: line amounts always add up exactly to the totals.
//!
//! The page prices every edit with this function; the server re-prices with the same function
//! at order placement and its answer is final.

use serde::{Deserialize, Serialize};

use crate::cart::Cart;
use crate::catalogue::Snapshot;
use crate::money::{Currency, Money, MoneyError};
use crate::sku::{Quantity, Sku};
use crate::ErrorCode;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub currency: Currency,
    /// The snapshot version the quote was computed from.
    pub snapshot_version: String,
    pub lines: Vec<QuoteLine>,
    /// Number of units across all lines.
    pub item_count: u32,
    pub subtotal: Money,
    pub total: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub sku: Sku,
    pub product_id: String,
    pub name: String,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub line_total: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// The cart names a SKU the snapshot no longer sells (e.g. delisted since it was added).
    #[error("{0} is no longer in the catalogue")]
    UnknownSku(Sku),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl ErrorCode for PriceError {
    fn code(&self) -> &'static str {
        match self {
            PriceError::UnknownSku(_) => "unknown_sku",
            PriceError::Money(e) => e.code(),
        }
    }
}

/// Prices a cart. Pure: same snapshot and cart, same quote.
pub fn price(snapshot: &Snapshot, cart: &Cart) -> Result<Quote, PriceError> {
    let currency = snapshot.currency();
    let mut lines = Vec::with_capacity(cart.lines().len());
    let mut subtotal = Money::zero(currency);
    let mut item_count = 0u32;
    for line in cart.lines() {
        let (product, variant) = snapshot.variant(&line.sku).ok_or_else(|| PriceError::UnknownSku(line.sku.clone()))?;
        let unit_price = snapshot.price(&line.sku).ok_or_else(|| PriceError::UnknownSku(line.sku.clone()))?;
        let line_total = unit_price.checked_mul_quantity(line.quantity.get())?;
        subtotal = subtotal.checked_add(line_total)?;
        item_count += line.quantity.get();
        lines.push(QuoteLine {
            sku: line.sku.clone(),
            product_id: product.id.clone(),
            name: display_name(&product.name, &variant.name),
            quantity: line.quantity,
            unit_price,
            line_total,
        });
    }
    Ok(Quote {
        currency,
        snapshot_version: snapshot.version().to_owned(),
        lines,
        item_count,
        subtotal,
        total: subtotal,
    })
}

fn display_name(product: &str, variant: &str) -> String {
    if variant.is_empty() || product.contains(variant) {
        product.to_owned()
    } else {
        format!("{product} – {variant}")
    }
}
