//! The promotion model: serde data loaded with the snapshot and validated there.
//! See the module docs of [`crate::promotion`] for how promotions are applied and stacked.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::parse_decimal;
use crate::sku::Sku;
use crate::time::Timestamp;

/// A decimal amount in the snapshot's currency, written as a string: `"10.00"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Amount(pub(crate) Decimal);

/// A percentage above 0 and at most 100, written as a string: `"20"`, `"12.5"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Percent(pub(crate) Decimal);

impl TryFrom<String> for Amount {
    type Error = String;
    fn try_from(s: String) -> Result<Amount, String> {
        match parse_decimal(&s) {
            Some(d) if !d.is_sign_negative() => Ok(Amount(d)),
            _ => Err(format!("{s:?} is not an amount such as \"10.00\"")),
        }
    }
}

impl From<Amount> for String {
    fn from(a: Amount) -> String {
        a.0.to_string()
    }
}

impl TryFrom<String> for Percent {
    type Error = String;
    fn try_from(s: String) -> Result<Percent, String> {
        match parse_decimal(&s) {
            Some(d) if d > Decimal::ZERO && d <= Decimal::ONE_HUNDRED => Ok(Percent(d)),
            _ => Err(format!("{s:?} is not a percentage above 0 and at most 100")),
        }
    }
}

impl From<Percent> for String {
    fn from(p: Percent) -> String {
        p.0.to_string()
    }
}

impl Percent {
    /// The fraction, e.g. 0.2 for 20 %.
    pub fn fraction(self) -> Decimal {
        self.0 / Decimal::ONE_HUNDRED
    }
}

/// Sales channels a price list or promotion can be limited to.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Web,
    App,
    Store,
    CallCentre,
}

/// Which cart lines a condition or action is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Every line (gift lines excepted).
    Any,
    Skus(Vec<Sku>),
    Products(Vec<String>),
    Categories(Vec<String>),
    Tags(Vec<String>),
}

/// JSON: `{"type": "subtotal_at_least", "amount": "50.00"}` (see `wire.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "super::wire::ConditionData",
    into = "super::wire::ConditionData"
)]
pub enum Condition {
    /// The merchandise subtotal, after line discounts applied before this promotion.
    SubtotalAtLeast {
        amount: Amount,
    },
    /// At least `quantity` units of the target in the cart.
    QuantityAtLeast {
        target: Target,
        quantity: u32,
    },
    /// At least one unit of the target in the cart ("with any TV").
    CartContains {
        target: Target,
    },
    CustomerSegment {
        segments: Vec<String>,
    },
    Channel {
        channels: Vec<Channel>,
    },
    /// The shopper entered this code (case-insensitive).
    Coupon {
        code: String,
    },
    /// Active from `starts_at` (inclusive) until `ends_at` (exclusive); either may be open.
    Schedule {
        starts_at: Option<Timestamp>,
        ends_at: Option<Timestamp>,
    },
    /// The customer has never ordered before.
    FirstOrder,
}

/// Which units of the targeted lines an action discounts when not all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    #[default]
    Cheapest,
    Dearest,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleComponent {
    pub target: Target,
    pub quantity: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub threshold: Amount,
    pub amount_off: Amount,
}

/// A discount on the delivery charge the delivery calculator produces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryDiscount {
    Free,
    Percent(Percent),
    Amount(Amount),
}

/// JSON: `{"type": "percent_off", "target": {"tags": ["hdmi"]}, "percent": "15"}` (see `wire.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "super::wire::ActionData", into = "super::wire::ActionData")]
pub enum Action {
    /// `percent` off each targeted unit; with `units`, only that many units, chosen by `pick`.
    PercentOff {
        target: Target,
        percent: Percent,
        units: Option<u32>,
        pick: Pick,
    },
    /// `amount` off each targeted unit.
    AmountOff {
        target: Target,
        amount: Amount,
        units: Option<u32>,
        pick: Pick,
    },
    /// Each targeted unit for `price`.
    FixedPrice {
        target: Target,
        price: Amount,
        units: Option<u32>,
        pick: Pick,
    },
    /// Buy `buy_quantity` of `buy`, get `get_quantity` of `get` at `percent` off (100 = free),
    /// repeated as often as the cart allows, up to `max_repeats`.
    BuyXGetY {
        buy: Target,
        buy_quantity: u32,
        get: Target,
        get_quantity: u32,
        percent: Percent,
        pick: Pick,
        max_repeats: Option<u32>,
    },
    /// One of each component (in its quantity) together for `price`.
    Bundle {
        components: Vec<BundleComponent>,
        price: Amount,
    },
    OrderPercentOff {
        percent: Percent,
    },
    OrderAmountOff {
        amount: Amount,
    },
    /// Spend at least a tier's threshold, save its amount (the highest tier reached).
    TieredSpend {
        tiers: Vec<Tier>,
    },
    DeliveryDiscount {
        discount: DeliveryDiscount,
    },
    /// Adds a free gift line.
    GiftItem {
        sku: Sku,
        quantity: u32,
    },
}

/// Which part of the quote an action discounts; decides order and combinability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountClass {
    Line,
    Order,
    Delivery,
}

impl Action {
    #[inline]
    pub fn class(&self) -> DiscountClass {
        match self {
            Action::OrderPercentOff { .. }
            | Action::OrderAmountOff { .. }
            | Action::TieredSpend { .. } => DiscountClass::Order,
            Action::DeliveryDiscount { .. } => DiscountClass::Delivery,
            _ => DiscountClass::Line,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CombinesWith {
    #[serde(default = "yes")]
    pub line: bool,
    #[serde(default = "yes")]
    pub order: bool,
    #[serde(default = "yes")]
    pub delivery: bool,
}

fn yes() -> bool {
    true
}

impl Default for CombinesWith {
    fn default() -> CombinesWith {
        CombinesWith {
            line: true,
            order: true,
            delivery: true,
        }
    }
}

impl CombinesWith {
    #[inline]
    pub fn allows(&self, class: DiscountClass) -> bool {
        match class {
            DiscountClass::Line => self.line,
            DiscountClass::Order => self.order,
            DiscountClass::Delivery => self.delivery,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Caps {
    /// The most this promotion may take off one order.
    #[serde(default)]
    pub max_discount: Option<Amount>,
    /// The most units (or, for buy-X-get-Y and bundles, repeats) it discounts in one order.
    #[serde(default)]
    pub max_applications: Option<u32>,
    /// The most units of one line it discounts.
    #[serde(default)]
    pub max_quantity_per_line: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    /// Shared (`Arc<str>`): every adjustment, rejection and hint of every quote names its
    /// promotion, and cloning a shared string costs no allocation.
    pub id: Arc<str>,
    /// What the shopper reads next to the discount: "20% off PlayStation with your TV".
    pub label: Arc<str>,
    /// Lower runs first. Ties are broken by id, so order is total and deterministic.
    #[serde(default)]
    pub priority: i32,
    /// Applies alone: no other promotion applies with it (the best plan for the customer wins).
    #[serde(default)]
    pub exclusive: bool,
    /// Classes of other promotions it may stack with (default: all).
    #[serde(default)]
    pub combines_with: CombinesWith,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    pub action: Action,
    #[serde(default)]
    pub caps: Caps,
    /// Total uses allowed (enforced by the server; the engine takes what is left as input).
    #[serde(default)]
    pub usage_limit: Option<u32>,
    /// Campaign budget (enforced by the server; the engine takes what is left as input).
    #[serde(default)]
    pub budget: Option<Amount>,
    /// Its coupon may be used once per customer: refused when the context lists it among the
    /// customer's used codes (`QuoteContext::used_coupons`). Other codes stay reusable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub once_per_customer: bool,
}

impl Promotion {
    #[inline]
    pub fn class(&self) -> DiscountClass {
        self.action.class()
    }

    /// The coupon code this promotion needs, upper-cased, if any.
    pub fn coupon(&self) -> Option<String> {
        self.conditions.iter().find_map(|c| match c {
            Condition::Coupon { code } => Some(normalize_code(code)),
            _ => None,
        })
    }

    /// Every target the promotion mentions, in conditions and action.
    pub fn targets(&self) -> Vec<&Target> {
        let mut out: Vec<&Target> =
            self.conditions
                .iter()
                .filter_map(|c| match c {
                    Condition::QuantityAtLeast { target, .. }
                    | Condition::CartContains { target } => Some(target),
                    _ => None,
                })
                .collect();
        match &self.action {
            Action::PercentOff { target, .. }
            | Action::AmountOff { target, .. }
            | Action::FixedPrice { target, .. } => out.push(target),
            Action::BuyXGetY { buy, get, .. } => out.extend([buy, get]),
            Action::Bundle { components, .. } => out.extend(components.iter().map(|c| &c.target)),
            _ => {}
        }
        out
    }

    /// The amounts in this promotion, for validation against the currency's minor unit.
    pub(crate) fn amounts(&self) -> Vec<(&'static str, Amount)> {
        let mut out = Vec::new();
        for c in &self.conditions {
            if let Condition::SubtotalAtLeast { amount } = c {
                out.push(("conditions.amount", *amount));
            }
        }
        match &self.action {
            Action::AmountOff { amount, .. } | Action::OrderAmountOff { amount } => {
                out.push(("action.amount", *amount))
            }
            Action::FixedPrice { price, .. } | Action::Bundle { price, .. } => {
                out.push(("action.price", *price))
            }
            Action::TieredSpend { tiers } => {
                for t in tiers {
                    out.push(("action.tiers.threshold", t.threshold));
                    out.push(("action.tiers.amount_off", t.amount_off));
                }
            }
            Action::DeliveryDiscount {
                discount: DeliveryDiscount::Amount(a),
            } => out.push(("action.discount", *a)),
            _ => {}
        }
        out.extend(self.caps.max_discount.map(|a| ("caps.max_discount", a)));
        out.extend(self.budget.map(|a| ("budget", a)));
        out
    }

    /// Structural checks that need no catalogue: quantities positive, tiers ascending, …
    pub(crate) fn check_shape(&self) -> Result<(), String> {
        let positive = |n: u32, what: &str| {
            if n == 0 {
                Err(format!("{what} must be at least 1"))
            } else {
                Ok(())
            }
        };
        for c in &self.conditions {
            match c {
                Condition::QuantityAtLeast { quantity, .. } => {
                    positive(*quantity, "conditions.quantity")?
                }
                Condition::Schedule {
                    starts_at: Some(s),
                    ends_at: Some(e),
                } if s >= e => {
                    return Err("conditions.schedule: starts_at must be before ends_at".into());
                }
                Condition::Coupon { code } if !valid_code(code) => {
                    return Err(format!(
                        "conditions.coupon: {code:?} is not a code of 1 to 32 letters, digits, '-' or '_'"
                    ));
                }
                Condition::CustomerSegment { segments } if segments.is_empty() => {
                    return Err("conditions.segments is empty".into());
                }
                Condition::Channel { channels } if channels.is_empty() => {
                    return Err("conditions.channels is empty".into());
                }
                _ => {}
            }
        }
        if self
            .conditions
            .iter()
            .filter(|c| matches!(c, Condition::Coupon { .. }))
            .count()
            > 1
        {
            return Err("conditions: at most one coupon per promotion".into());
        }
        match &self.action {
            Action::PercentOff { units, .. }
            | Action::AmountOff { units, .. }
            | Action::FixedPrice { units, .. } => {
                if let Some(n) = units {
                    positive(*n, "action.units")?;
                }
            }
            Action::BuyXGetY {
                buy_quantity,
                get_quantity,
                ..
            } => {
                positive(*buy_quantity, "action.buy_quantity")?;
                positive(*get_quantity, "action.get_quantity")?;
            }
            Action::Bundle { components, .. } => {
                if components.len() < 2 {
                    return Err("action.components: a bundle has at least two components".into());
                }
                for c in components {
                    positive(c.quantity, "action.components.quantity")?;
                }
            }
            Action::TieredSpend { tiers }
                if tiers.is_empty()
                    || tiers.windows(2).any(|w| w[0].threshold >= w[1].threshold) =>
            {
                return Err(
                    "action.tiers: at least one tier, thresholds strictly ascending".into(),
                );
            }
            Action::GiftItem { quantity, .. } => positive(*quantity, "action.quantity")?,
            _ => {}
        }
        for t in self.targets() {
            let empty = match t {
                Target::Any => false,
                Target::Skus(v) => v.is_empty(),
                Target::Products(v) | Target::Categories(v) | Target::Tags(v) => v.is_empty(),
            };
            if empty {
                return Err("a target lists nothing".into());
            }
        }
        Ok(())
    }
}

/// Coupon codes compare case-insensitively, ignoring surrounding spaces.
pub fn normalize_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

pub fn valid_code(code: &str) -> bool {
    let code = code.trim();
    (1..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a target names, as (kind, name) for the promotion index: 0 SKU, 1 product,
/// 2 category, 3 tag. `Any` names nothing.
pub(crate) fn target_keys(target: &Target, out: &mut impl FnMut(usize, &str)) {
    match target {
        Target::Any => {}
        Target::Skus(v) => v.iter().for_each(|s| out(0, s.as_str())),
        Target::Products(v) => v.iter().for_each(|p| out(1, p)),
        Target::Categories(v) => v.iter().for_each(|c| out(2, c)),
        Target::Tags(v) => v.iter().for_each(|t| out(3, t)),
    }
}
