//! The catalogue [`Snapshot`]: products, their variants (SKUs), prices, weights, categories and
//! the services (installation, wall mounting) linked to products.
//!
//! The server publishes one snapshot; the page and the server load the same JSON into this type.
//! Loading validates everything once (unique ids, known categories and services, prices exact to
//! the currency's minor unit, limits), so code that holds a `Snapshot` never re-checks it.
//! Its JSON form is the API boundary `GET /api/snapshot` and `new Engine(snapshot)` share.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, MoneyError};
use crate::sku::Sku;
use crate::ErrorCode;

/// Most SKUs one snapshot may hold.
pub const MAX_SNAPSHOT_SKUS: usize = 200_000;

/// A validated catalogue. Fields are private: build one with [`Snapshot::from_json`] or serde.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "SnapshotData", into = "SnapshotData")]
pub struct Snapshot {
    data: SnapshotData,
    /// SKU → (product index, variant index).
    by_sku: HashMap<Sku, (usize, usize)>,
    /// price per SKU, parsed once.
    prices: HashMap<Sku, Money>,
}

/// The wire form of a snapshot, before validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotData {
    /// Opaque version label the server assigns, e.g. `"2026-11-22.1"`.
    version: String,
    currency: Currency,
    categories: Vec<Category>,
    products: Vec<Product>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    /// Something shipped or picked up.
    Goods,
    /// Work done for the customer: installation, wall mounting, set-up.
    Service,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub brand: String,
    pub category: String,
    pub kind: ProductKind,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// SKUs of services offered with this product (e.g. installation for a TV).
    #[serde(default)]
    pub services: Vec<Sku>,
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub sku: Sku,
    pub name: String,
    /// Unit price in the snapshot's currency, as a decimal string: `"1299.00"`.
    pub price: String,
    /// Shipping weight in grams (0 for services).
    #[serde(default)]
    pub weight_grams: u32,
    /// Variant attributes shown to the shopper, e.g. `{"size": "55\""}`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot is not valid JSON for a catalogue: {0}")]
    Malformed(String),
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
}

impl ErrorCode for SnapshotError {
    fn code(&self) -> &'static str {
        match self {
            SnapshotError::Malformed(_) => "snapshot_malformed",
            SnapshotError::Invalid { .. } => "snapshot_invalid",
        }
    }
}

fn invalid(field: String, problem: impl Into<String>) -> SnapshotError {
    SnapshotError::Invalid { field, problem: problem.into() }
}

impl Snapshot {
    /// Parses and validates a snapshot from JSON (feature `json`; the Wasm adapter reads JS
    /// objects through serde instead and does not pay for a JSON parser).
    #[cfg(feature = "json")]
    pub fn from_json(json: &str) -> Result<Snapshot, SnapshotError> {
        serde_json::from_str(json).map_err(|e| SnapshotError::Malformed(e.to_string()))
    }

    pub fn version(&self) -> &str {
        &self.data.version
    }

    pub fn currency(&self) -> Currency {
        self.data.currency
    }

    pub fn categories(&self) -> &[Category] {
        &self.data.categories
    }

    pub fn products(&self) -> &[Product] {
        &self.data.products
    }

    pub fn product(&self, id: &str) -> Option<&Product> {
        self.data.products.iter().find(|p| p.id == id)
    }

    /// The product and variant a SKU belongs to.
    pub fn variant(&self, sku: &Sku) -> Option<(&Product, &Variant)> {
        let &(p, v) = self.by_sku.get(sku)?;
        let product = &self.data.products[p];
        Some((product, &product.variants[v]))
    }

    /// The unit price of a SKU, if the catalogue sells it.
    pub fn price(&self, sku: &Sku) -> Option<Money> {
        self.prices.get(sku).copied()
    }

    /// Services offered with the product a SKU belongs to, in catalogue order.
    pub fn services_for(&self, sku: &Sku) -> Vec<(&Product, &Variant)> {
        let Some((product, _)) = self.variant(sku) else { return Vec::new() };
        product.services.iter().filter_map(|s| self.variant(s)).collect()
    }
}

impl TryFrom<SnapshotData> for Snapshot {
    type Error = SnapshotError;

    fn try_from(data: SnapshotData) -> Result<Snapshot, SnapshotError> {
        let currency = data.currency;
        if data.version.is_empty() || data.version.len() > 64 {
            return Err(invalid("version".into(), "must be 1 to 64 characters"));
        }
        let category_ids = unique_ids(data.categories.iter().map(|c| c.id.as_str()), "categories")?;
        unique_ids(data.products.iter().map(|p| p.id.as_str()), "products")?;

        let mut by_sku = HashMap::new();
        let mut prices = HashMap::new();
        for (p, product) in data.products.iter().enumerate() {
            let here = format!("products[{p}] ({})", product.id);
            check_text(&product.name, || format!("{here}.name"))?;
            if !category_ids.contains(product.category.as_str()) {
                return Err(invalid(format!("{here}.category"), format!("unknown category {:?}", product.category)));
            }
            if product.variants.is_empty() {
                return Err(invalid(format!("{here}.variants"), "a product needs at least one variant"));
            }
            for (v, variant) in product.variants.iter().enumerate() {
                let field = || format!("{here}.variants[{v}]");
                check_text(&variant.name, || format!("{}.name", field()))?;
                let price = Money::parse(&variant.price, currency)
                    .map_err(|e: MoneyError| invalid(format!("{}.price", field()), e.to_string()))?;
                if price.is_negative() {
                    return Err(invalid(format!("{}.price", field()), "must not be negative"));
                }
                if by_sku.insert(variant.sku.clone(), (p, v)).is_some() {
                    return Err(invalid(format!("{}.sku", field()), format!("duplicate SKU {}", variant.sku)));
                }
                prices.insert(variant.sku.clone(), price);
            }
        }
        if by_sku.len() > MAX_SNAPSHOT_SKUS {
            return Err(invalid("products".into(), format!("more than {MAX_SNAPSHOT_SKUS} SKUs")));
        }
        check_services(&data, &by_sku)?;
        Ok(Snapshot { data, by_sku, prices })
    }
}

impl From<Snapshot> for SnapshotData {
    fn from(s: Snapshot) -> SnapshotData {
        s.data
    }
}

fn unique_ids<'a>(ids: impl Iterator<Item = &'a str>, field: &str) -> Result<HashSet<&'a str>, SnapshotError> {
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        check_text(id, || format!("{field}[{i}].id"))?;
        if !seen.insert(id) {
            return Err(invalid(format!("{field}[{i}].id"), format!("duplicate id {id:?}")));
        }
    }
    Ok(seen)
}

fn check_text(text: &str, field: impl Fn() -> String) -> Result<(), SnapshotError> {
    if text.trim().is_empty() || text.len() > 200 {
        return Err(invalid(field(), "must be 1 to 200 characters"));
    }
    Ok(())
}

fn check_services(data: &SnapshotData, by_sku: &HashMap<Sku, (usize, usize)>) -> Result<(), SnapshotError> {
    for (p, product) in data.products.iter().enumerate() {
        for (s, service) in product.services.iter().enumerate() {
            let field = format!("products[{p}] ({}).services[{s}]", product.id);
            let Some(&(sp, _)) = by_sku.get(service) else {
                return Err(invalid(field, format!("unknown SKU {service}")));
            };
            if data.products[sp].kind != ProductKind::Service {
                return Err(invalid(field, format!("{service} is not a service")));
            }
        }
    }
    Ok(())
}
