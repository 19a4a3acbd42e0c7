//! omnicart-engine: the domain every other part of omnicart stands on.
//!
//! It owns money ([`Money`], [`Currency`]), identifiers and limits ([`Sku`], [`Quantity`]),
//! the catalogue [`Snapshot`] the server publishes, the [`Cart`] and the operations that edit it
//! ([`CartOp`]), [`promotion`]s, and [`quote`], which turns a cart into an explained [`Quote`].
//!
//! Invariants (see ARCHITECTURE.md):
//! - no I/O, no clock, no randomness, no JS, no SQL: every input is a parameter, so the browser
//!   (through `omnicart-wasm`) and the server compute identical results from identical inputs;
//! - no floating point money: amounts are [`rust_decimal::Decimal`] held at the currency's minor
//!   unit and serialized as strings;
//! - every value from outside is validated when it is deserialized; a type that exists is valid;
//! - every error carries a stable machine code ([`ErrorCode::code`]) and a message a person can read.

pub mod allocate;
pub mod cart;
pub mod catalogue;
mod context;
mod exact;
pub mod fulfilment;
mod hash;
pub mod money;
mod pricing;
pub mod promotion;
pub mod quote;
pub mod replica;
pub mod sku;
mod sort;
pub mod time;

pub use cart::{Cart, CartError, CartLine, CartOp, DeliveryChoice, MAX_CART_LINES};
pub use catalogue::{
    Category, PriceList, PricingConfig, Product, ProductKind, Rounding, Snapshot, SnapshotError,
    TaxRate, Variant,
};
pub use context::{QuoteContext, Usage};
pub use fulfilment::{
    Destination, FulfilmentError,
    availability::{availability, availability_with, find_in_store},
    delivery::{delivery_options, quote_with_delivery},
};
pub use money::{Currency, Money, MoneyError};
pub use quote::{
    Adjustment, CouponOutcome, Quote, QuoteError, QuoteLine, Rejection, TaxLine, quote, tax_lines,
};
pub use sku::{MAX_LINE_QUANTITY, Quantity, Sku, SkuError};
pub use sort::sort_vec;
pub use time::{TimeError, Timestamp};

/// A stable, machine-readable code for an error, e.g. `"unknown_sku"`. Codes never change once
/// released: the storefront, the npm package and the HTTP API all match on them.
pub trait ErrorCode {
    fn code(&self) -> &'static str;
}
