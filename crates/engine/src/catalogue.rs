//! The catalogue [`Snapshot`]: products, their variants (SKUs), prices, weights, categories and
//! the services (installation, wall mounting) linked to products.
//!
//! The server publishes one snapshot; the page and the server load the same JSON into this type.
//! Loading validates everything once (unique ids, known categories and services, prices exact to
//! the currency's minor unit, limits), so code that holds a `Snapshot` never re-checks it.
//! Its JSON form is the API boundary `GET /api/snapshot` and `new Engine(snapshot)` share.

use std::collections::BTreeMap;

use crate::hash::{HashMap, HashSet};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::ErrorCode;
use crate::fulfilment::{Network, NetworkData};
use crate::money::{Currency, Money, MoneyError};
use crate::promotion::{Channel, Promotion, PromotionIndex};
use crate::sku::Sku;

/// Most SKUs one snapshot may hold.
pub const MAX_SNAPSHOT_SKUS: usize = 200_000;

/// Where a SKU is in the catalogue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SkuAt {
    pub product: usize,
    pub variant: usize,
    /// Whether a quote line's name adds the variant's name to the product's.
    pub names_variant: bool,
    /// The variant's price, parsed once.
    pub price: Money,
}

/// A validated catalogue. Fields are private: build one with [`Snapshot::from_json`] or serde.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "SnapshotData", into = "SnapshotData")]
pub struct Snapshot {
    data: SnapshotData,
    /// SKU → where it is and how a quote line names it.
    by_sku: HashMap<Sku, SkuAt>,
    /// SKU → (channel or None, price) from the price lists; looked up without allocating.
    list_prices: HashMap<Sku, Vec<(Option<Channel>, Money)>>,
    /// Product indices per category and per tag (for "the cheapest item matching").
    by_category: HashMap<String, Vec<usize>>,
    by_tag: HashMap<String, Vec<usize>>,
    /// Tax rate per (region, tax class).
    /// Rate by region, then tax class (looked up by `&str`, without building a key).
    tax_rates: HashMap<String, HashMap<String, Decimal>>,
    promotion_index: PromotionIndex,
    network: Network,
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
    #[serde(default)]
    pricing: PricingConfig,
    #[serde(default)]
    price_lists: Vec<PriceList>,
    #[serde(default)]
    promotions: Vec<Promotion>,
    /// Locations, stock, carriers and calendars for availability and delivery.
    #[serde(default)]
    network: NetworkData,
}

/// How prices are stated, taxed and rounded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingConfig {
    /// True where shelf prices include VAT (Europe), false where tax is added (US).
    #[serde(default = "yes")]
    pub prices_include_tax: bool,
    /// How amounts finer than the minor unit are rounded, at every rounding site.
    #[serde(default)]
    pub rounding: Rounding,
    /// The tax region used when the quote context names none.
    #[serde(default = "default_region")]
    pub default_region: String,
    /// Rates per region and product tax class, as decimal fractions: `"0.19"`.
    #[serde(default)]
    pub tax_rates: Vec<TaxRate>,
}

impl Default for PricingConfig {
    fn default() -> PricingConfig {
        PricingConfig {
            prices_include_tax: true,
            rounding: Rounding::default(),
            default_region: default_region(),
            tax_rates: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_region() -> String {
    "default".into()
}

fn standard() -> String {
    "standard".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Half away from zero: 0.125 → 0.13 (commercial rounding).
    #[default]
    HalfUp,
    /// Half to even: 0.125 → 0.12 (banker's rounding).
    HalfEven,
}

impl Rounding {
    pub fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxRate {
    pub region: String,
    pub tax_class: String,
    pub rate: String,
}

/// Prices for a channel (or every channel, when `channel` is absent) in a currency; they take
/// precedence over variants' base prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceList {
    pub id: String,
    #[serde(default)]
    pub channel: Option<Channel>,
    pub currency: Currency,
    pub prices: BTreeMap<Sku, String>,
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
    /// Which tax rate applies (e.g. `standard`, `reduced`).
    #[serde(default = "standard")]
    pub tax_class: String,
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
    /// Packed size in whole centimetres `[length, width, height]`, for dimensional weight and
    /// bulky-item surcharges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions_cm: Option<[u32; 3]>,
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
    SnapshotError::Invalid {
        field,
        problem: problem.into(),
    }
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
    /// How a cart or quote line names a SKU: "Product – Variant", or the product's name when it
    /// already says the variant's (or the SKU itself when the catalogue does not sell it).
    pub fn display_name(&self, sku: &Sku) -> String {
        let Some(&SkuAt {
            product,
            variant,
            names_variant,
            ..
        }) = self.by_sku.get(sku)
        else {
            return sku.to_string();
        };
        let product = &self.data.products[product];
        if names_variant {
            [
                product.name.as_str(),
                " – ",
                product.variants[variant].name.as_str(),
            ]
            .concat()
        } else {
            product.name.clone()
        }
    }

    pub fn variant(&self, sku: &Sku) -> Option<(&Product, &Variant)> {
        let &SkuAt {
            product: p,
            variant: v,
            ..
        } = self.by_sku.get(sku)?;
        let product = &self.data.products[p];
        Some((product, &product.variants[v]))
    }

    /// The unit price of a SKU, if the catalogue sells it.
    pub fn price(&self, sku: &Sku) -> Option<Money> {
        self.by_sku.get(sku).map(|at| at.price)
    }

    /// The fulfilment network: locations, stock, carriers, calendars.
    pub fn network(&self) -> &Network {
        &self.network
    }

    pub fn pricing(&self) -> &PricingConfig {
        &self.data.pricing
    }

    pub fn promotions(&self) -> &[Promotion] {
        &self.data.promotions
    }

    /// Promotions a shopper looking at this SKU should hear about: those that name it, its
    /// product, category or tags, without a coupon (codes are for those who have them).
    pub fn offers_for(&self, sku: &Sku) -> Vec<&Promotion> {
        let Some((product, _)) = self.variant(sku) else {
            return Vec::new();
        };
        let promotions = &self.data.promotions;
        self.promotion_index
            .naming(sku.as_str(), product)
            .into_iter()
            .map(|i| &promotions[i])
            .filter(|p| p.coupon().is_none())
            .collect()
    }

    /// Whether some promotion needs this (normalized) coupon code.
    pub fn knows_coupon(&self, code: &str) -> bool {
        self.promotion_index.has_coupon(code)
    }

    pub(crate) fn promotion_index(&self) -> &PromotionIndex {
        &self.promotion_index
    }

    /// The unit price of a SKU for a channel and currency: a channel price list first, then an
    /// all-channel list, then (in the snapshot's currency) the variant's base price.
    pub fn price_for(&self, sku: &Sku, channel: Channel, currency: Currency) -> Option<Money> {
        self.listed_price(sku, channel, currency).or_else(|| {
            (currency == self.data.currency)
                .then(|| self.price(sku))
                .flatten()
        })
    }

    /// A SKU's product and its unit price for a channel and currency (`None` if it has none
    /// there), with one lookup of the SKU: a quote prices every line this way.
    pub(crate) fn priced(
        &self,
        sku: &Sku,
        channel: Channel,
        currency: Currency,
    ) -> Option<(&Product, Option<Money>)> {
        let at = self.by_sku.get(sku)?;
        let price = self
            .listed_price(sku, channel, currency)
            .or_else(|| (currency == self.data.currency).then_some(at.price));
        Some((&self.data.products[at.product], price))
    }

    /// A price list's price for a SKU: the channel's, else the one for every channel.
    fn listed_price(&self, sku: &Sku, channel: Channel, currency: Currency) -> Option<Money> {
        if self.list_prices.is_empty() {
            return None;
        }
        let listed = self
            .list_prices
            .get(sku)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let find = |c: Option<Channel>| {
            listed
                .iter()
                .find(|(ch, m)| *ch == c && m.currency() == currency)
                .map(|(_, m)| *m)
        };
        find(Some(channel)).or_else(|| find(None))
    }

    /// The tax rate for a region and tax class, if the snapshot defines one.
    pub fn tax_rate(&self, region: &str, tax_class: &str) -> Option<Decimal> {
        self.tax_rates
            .get(region)
            .and_then(|classes| classes.get(tax_class))
            .copied()
    }

    /// Indices of the products a target can match (all products for `Any`), without scanning
    /// the catalogue for specific targets.
    pub(crate) fn products_for(&self, target: &crate::promotion::Target) -> Vec<usize> {
        use crate::promotion::Target;
        let mut out: Vec<usize> = match target {
            Target::Any => (0..self.data.products.len()).collect(),
            Target::Skus(v) => v
                .iter()
                .filter_map(|s| self.by_sku.get(s).map(|at| at.product))
                .collect(),
            Target::Products(v) => v
                .iter()
                .filter_map(|id| self.data.products.iter().position(|p| p.id == *id))
                .collect(),
            Target::Categories(v) => v
                .iter()
                .flat_map(|c| self.by_category.get(c).into_iter().flatten().copied())
                .collect(),
            Target::Tags(v) => v
                .iter()
                .flat_map(|t| self.by_tag.get(t).into_iter().flatten().copied())
                .collect(),
        };
        crate::sort::sort_indices(&mut out, &|a, b| a.cmp(&b));
        out.dedup();
        out
    }

    /// Services offered with the product a SKU belongs to, in catalogue order.
    pub fn services_for(&self, sku: &Sku) -> Vec<(&Product, &Variant)> {
        let Some((product, _)) = self.variant(sku) else {
            return Vec::new();
        };
        product
            .services
            .iter()
            .filter_map(|s| self.variant(s))
            .collect()
    }
}

impl TryFrom<SnapshotData> for Snapshot {
    type Error = SnapshotError;

    fn try_from(mut data: SnapshotData) -> Result<Snapshot, SnapshotError> {
        let currency = data.currency;
        if data.version.is_empty() || data.version.len() > 64 {
            return Err(invalid("version".into(), "must be 1 to 64 characters"));
        }
        let category_ids = unique_ids(data.categories.iter().map(|c| c.id.as_str()), "categories")?;
        unique_ids(data.products.iter().map(|p| p.id.as_str()), "products")?;

        let mut by_sku = HashMap::default();
        for (p, product) in data.products.iter().enumerate() {
            let here = format!("products[{p}] ({})", product.id);
            check_text(&product.name, || format!("{here}.name"))?;
            if !category_ids.contains(product.category.as_str()) {
                return Err(invalid(
                    format!("{here}.category"),
                    format!("unknown category {:?}", product.category),
                ));
            }
            if product.variants.is_empty() {
                return Err(invalid(
                    format!("{here}.variants"),
                    "a product needs at least one variant",
                ));
            }
            for (v, variant) in product.variants.iter().enumerate() {
                let field = || format!("{here}.variants[{v}]");
                check_text(&variant.name, || format!("{}.name", field()))?;
                let price = Money::parse(&variant.price, currency).map_err(|e: MoneyError| {
                    invalid(format!("{}.price", field()), e.to_string())
                })?;
                if price.is_negative() {
                    return Err(invalid(
                        format!("{}.price", field()),
                        "must not be negative",
                    ));
                }
                // "TV 55″ – Black"; the product's name alone when it already says the variant's.
                let names_variant =
                    !variant.name.is_empty() && !product.name.contains(&variant.name);
                if by_sku
                    .insert(
                        variant.sku.clone(),
                        SkuAt {
                            product: p,
                            variant: v,
                            names_variant,
                            price,
                        },
                    )
                    .is_some()
                {
                    return Err(invalid(
                        format!("{}.sku", field()),
                        format!("duplicate SKU {}", variant.sku),
                    ));
                }
            }
        }
        if by_sku.len() > MAX_SNAPSHOT_SKUS {
            return Err(invalid(
                "products".into(),
                format!("more than {MAX_SNAPSHOT_SKUS} SKUs"),
            ));
        }
        check_services(&data, &by_sku)?;
        let list_prices = check_price_lists(&data, &by_sku)?;
        let tax_rates = check_tax(&data)?;
        let promotion_index = PromotionIndex::build(&data.promotions, currency, &by_sku)?;
        let (mut by_category, mut by_tag) = (
            HashMap::<String, Vec<usize>>::default(),
            HashMap::<String, Vec<usize>>::default(),
        );
        for (p, product) in data.products.iter().enumerate() {
            by_category
                .entry(product.category.clone())
                .or_default()
                .push(p);
            for tag in &product.tags {
                by_tag.entry(tag.clone()).or_default().push(p);
            }
        }
        // The network keeps its wire data (serializing the snapshot puts it back).
        let network = Network::build(std::mem::take(&mut data.network), currency, |sku| {
            by_sku.contains_key(sku)
        })?;
        Ok(Snapshot {
            data,
            by_sku,
            list_prices,
            by_category,
            by_tag,
            tax_rates,
            promotion_index,
            network,
        })
    }
}

impl From<Snapshot> for SnapshotData {
    fn from(s: Snapshot) -> SnapshotData {
        SnapshotData {
            network: s.network.data,
            ..s.data
        }
    }
}

fn unique_ids<'a>(
    ids: impl Iterator<Item = &'a str>,
    field: &str,
) -> Result<HashSet<&'a str>, SnapshotError> {
    let mut seen = HashSet::default();
    for (i, id) in ids.enumerate() {
        check_text(id, || format!("{field}[{i}].id"))?;
        if !seen.insert(id) {
            return Err(invalid(
                format!("{field}[{i}].id"),
                format!("duplicate id {id:?}"),
            ));
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

type ListPrices = HashMap<Sku, Vec<(Option<Channel>, Money)>>;

fn check_price_lists(
    data: &SnapshotData,
    by_sku: &HashMap<Sku, SkuAt>,
) -> Result<ListPrices, SnapshotError> {
    let mut out: ListPrices = HashMap::default();
    for (l, list) in data.price_lists.iter().enumerate() {
        for (sku, text) in &list.prices {
            let field = format!("price_lists[{l}] ({}).prices.{sku}", list.id);
            if !by_sku.contains_key(sku) {
                return Err(invalid(field, "unknown SKU"));
            }
            let price = Money::parse(text, list.currency)
                .map_err(|e| invalid(field.clone(), e.to_string()))?;
            if price.is_negative() {
                return Err(invalid(field, "must not be negative"));
            }
            let entry = out.entry(sku.clone()).or_default();
            if entry
                .iter()
                .any(|(c, m)| *c == list.channel && m.currency() == list.currency)
            {
                return Err(invalid(
                    field,
                    "priced twice for the same channel and currency",
                ));
            }
            entry.push((list.channel, price));
        }
    }
    Ok(out)
}

fn check_tax(
    data: &SnapshotData,
) -> Result<HashMap<String, HashMap<String, Decimal>>, SnapshotError> {
    let mut rates: HashMap<String, HashMap<String, Decimal>> = HashMap::default();
    for (i, r) in data.pricing.tax_rates.iter().enumerate() {
        let field = format!("pricing.tax_rates[{i}].rate");
        let rate = crate::money::parse_decimal(&r.rate).ok_or_else(|| {
            invalid(
                field.clone(),
                format!("{:?} is not a decimal fraction such as \"0.19\"", r.rate),
            )
        })?;
        if rate.is_sign_negative() || rate >= Decimal::ONE {
            return Err(invalid(
                field,
                "a rate is a fraction from 0 to below 1, e.g. \"0.19\"",
            ));
        }
        if rates
            .entry(r.region.clone())
            .or_default()
            .insert(r.tax_class.clone(), rate)
            .is_some()
        {
            return Err(invalid(
                field,
                format!("two rates for {} / {}", r.region, r.tax_class),
            ));
        }
    }
    if !rates.is_empty() {
        let region = &data.pricing.default_region;
        for (p, product) in data.products.iter().enumerate() {
            if !rates
                .get(region)
                .is_some_and(|classes| classes.contains_key(&product.tax_class))
            {
                let field = format!("products[{p}] ({}).tax_class", product.id);
                return Err(invalid(
                    field,
                    format!(
                        "no rate for {:?} in the default region {region:?}",
                        product.tax_class
                    ),
                ));
            }
        }
    }
    Ok(rates)
}

fn check_services(data: &SnapshotData, by_sku: &HashMap<Sku, SkuAt>) -> Result<(), SnapshotError> {
    for (p, product) in data.products.iter().enumerate() {
        for (s, service) in product.services.iter().enumerate() {
            let field = format!("products[{p}] ({}).services[{s}]", product.id);
            let Some(&SkuAt { product: sp, .. }) = by_sku.get(service) else {
                return Err(invalid(field, format!("unknown SKU {service}")));
            };
            if data.products[sp].kind != ProductKind::Service {
                return Err(invalid(field, format!("{service} is not a service")));
            }
        }
    }
    Ok(())
}
