//! The JSON form of [`Condition`] and [`Action`]: `{"type": "percent_off", "target": …}`.
//!
//! Read through flat structs with optional fields rather than serde's internally tagged enums:
//! the same JSON, but without serde's buffering of untyped content, which cost tens of
//! kilobytes of Wasm that every shopper downloads. Validation is explicit: a field that is
//! missing, or present but not part of that type, is an error naming it.

use serde::{Deserialize, Serialize};

use super::model::*;
use crate::sku::Sku;
use crate::time::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum ConditionKind {
    SubtotalAtLeast,
    QuantityAtLeast,
    CartContains,
    CustomerSegment,
    Channel,
    Coupon,
    Schedule,
    FirstOrder,
}

impl ConditionKind {
    /// The `type` as JSON writes it, for messages ("a quantity_at_least needs `target`").
    fn name(self) -> &'static str {
        match self {
            ConditionKind::SubtotalAtLeast => "subtotal_at_least",
            ConditionKind::QuantityAtLeast => "quantity_at_least",
            ConditionKind::CartContains => "cart_contains",
            ConditionKind::CustomerSegment => "customer_segment",
            ConditionKind::Channel => "channel",
            ConditionKind::Coupon => "coupon",
            ConditionKind::Schedule => "schedule",
            ConditionKind::FirstOrder => "first_order",
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConditionData {
    #[serde(rename = "type")]
    kind: Option<ConditionKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    segments: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    channels: Option<Vec<Channel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    starts_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ends_at: Option<Timestamp>,
}

/// Takes a required field, or says which is missing.
fn need<T>(v: Option<T>, kind: &str, field: &str) -> Result<T, String> {
    v.ok_or_else(|| format!("a {kind} needs `{field}`"))
}

/// Fails if any field outside `allowed` is present.
fn only(present: &[(&'static str, bool)], allowed: &[&str], kind: &str) -> Result<(), String> {
    match present
        .iter()
        .find(|(name, here)| *here && !allowed.contains(name))
    {
        Some((name, _)) => Err(format!("`{name}` is not a field of a {kind}")),
        None => Ok(()),
    }
}

impl TryFrom<ConditionData> for Condition {
    type Error = String;

    fn try_from(d: ConditionData) -> Result<Condition, String> {
        let present = [
            ("amount", d.amount.is_some()),
            ("target", d.target.is_some()),
            ("quantity", d.quantity.is_some()),
            ("segments", d.segments.is_some()),
            ("channels", d.channels.is_some()),
            ("code", d.code.is_some()),
            ("starts_at", d.starts_at.is_some()),
            ("ends_at", d.ends_at.is_some()),
        ];
        let kind = need(d.kind, "condition", "type")?;
        let k = kind.name();
        let condition = match kind {
            ConditionKind::SubtotalAtLeast => {
                only(&present, &["amount"], k)?;
                Condition::SubtotalAtLeast {
                    amount: need(d.amount, k, "amount")?,
                }
            }
            ConditionKind::QuantityAtLeast => {
                only(&present, &["target", "quantity"], k)?;
                Condition::QuantityAtLeast {
                    target: need(d.target, k, "target")?,
                    quantity: need(d.quantity, k, "quantity")?,
                }
            }
            ConditionKind::CartContains => {
                only(&present, &["target"], k)?;
                Condition::CartContains {
                    target: need(d.target, k, "target")?,
                }
            }
            ConditionKind::CustomerSegment => {
                only(&present, &["segments"], k)?;
                Condition::CustomerSegment {
                    segments: need(d.segments, k, "segments")?,
                }
            }
            ConditionKind::Channel => {
                only(&present, &["channels"], k)?;
                Condition::Channel {
                    channels: need(d.channels, k, "channels")?,
                }
            }
            ConditionKind::Coupon => {
                only(&present, &["code"], k)?;
                Condition::Coupon {
                    code: need(d.code, k, "code")?,
                }
            }
            ConditionKind::Schedule => {
                only(&present, &["starts_at", "ends_at"], k)?;
                Condition::Schedule {
                    starts_at: d.starts_at,
                    ends_at: d.ends_at,
                }
            }
            ConditionKind::FirstOrder => {
                only(&present, &[], k)?;
                Condition::FirstOrder
            }
        };
        Ok(condition)
    }
}

impl From<Condition> for ConditionData {
    fn from(c: Condition) -> ConditionData {
        let d = ConditionData::default();
        match c {
            Condition::SubtotalAtLeast { amount } => ConditionData {
                kind: Some(ConditionKind::SubtotalAtLeast),
                amount: Some(amount),
                ..d
            },
            Condition::QuantityAtLeast { target, quantity } => ConditionData {
                kind: Some(ConditionKind::QuantityAtLeast),
                target: Some(target),
                quantity: Some(quantity),
                ..d
            },
            Condition::CartContains { target } => ConditionData {
                kind: Some(ConditionKind::CartContains),
                target: Some(target),
                ..d
            },
            Condition::CustomerSegment { segments } => ConditionData {
                kind: Some(ConditionKind::CustomerSegment),
                segments: Some(segments),
                ..d
            },
            Condition::Channel { channels } => ConditionData {
                kind: Some(ConditionKind::Channel),
                channels: Some(channels),
                ..d
            },
            Condition::Coupon { code } => ConditionData {
                kind: Some(ConditionKind::Coupon),
                code: Some(code),
                ..d
            },
            Condition::Schedule { starts_at, ends_at } => ConditionData {
                kind: Some(ConditionKind::Schedule),
                starts_at,
                ends_at,
                ..d
            },
            Condition::FirstOrder => ConditionData {
                kind: Some(ConditionKind::FirstOrder),
                ..d
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum ActionKind {
    PercentOff,
    AmountOff,
    FixedPrice,
    BuyXGetY,
    Bundle,
    OrderPercentOff,
    OrderAmountOff,
    TieredSpend,
    DeliveryDiscount,
    GiftItem,
}

impl ActionKind {
    /// The `type` as JSON writes it, for messages ("a percent_off needs `target`").
    fn name(self) -> &'static str {
        match self {
            ActionKind::PercentOff => "percent_off",
            ActionKind::AmountOff => "amount_off",
            ActionKind::FixedPrice => "fixed_price",
            ActionKind::BuyXGetY => "buy_x_get_y",
            ActionKind::Bundle => "bundle",
            ActionKind::OrderPercentOff => "order_percent_off",
            ActionKind::OrderAmountOff => "order_amount_off",
            ActionKind::TieredSpend => "tiered_spend",
            ActionKind::DeliveryDiscount => "delivery_discount",
            ActionKind::GiftItem => "gift_item",
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ActionData {
    #[serde(rename = "type")]
    kind: Option<ActionKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    percent: Option<Percent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    price: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    units: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pick: Option<Pick>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    buy: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    buy_quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    get: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    get_quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_repeats: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    components: Option<Vec<BundleComponent>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tiers: Option<Vec<Tier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    discount: Option<DeliveryDiscount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sku: Option<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quantity: Option<u32>,
}

impl TryFrom<ActionData> for Action {
    type Error = String;

    fn try_from(d: ActionData) -> Result<Action, String> {
        let present = d.present();
        let kind = need(d.kind, "action", "type")?;
        let k = kind.name();
        let pick = d.pick.unwrap_or_default();
        let action = match kind {
            ActionKind::PercentOff => {
                only(&present, &["target", "percent", "units", "pick"], k)?;
                Action::PercentOff {
                    target: need(d.target, k, "target")?,
                    percent: need(d.percent, k, "percent")?,
                    units: d.units,
                    pick,
                }
            }
            ActionKind::AmountOff => {
                only(&present, &["target", "amount", "units", "pick"], k)?;
                Action::AmountOff {
                    target: need(d.target, k, "target")?,
                    amount: need(d.amount, k, "amount")?,
                    units: d.units,
                    pick,
                }
            }
            ActionKind::FixedPrice => {
                only(&present, &["target", "price", "units", "pick"], k)?;
                Action::FixedPrice {
                    target: need(d.target, k, "target")?,
                    price: need(d.price, k, "price")?,
                    units: d.units,
                    pick,
                }
            }
            ActionKind::BuyXGetY => buy_x_get_y(d, &present)?,
            ActionKind::Bundle => {
                only(&present, &["components", "price"], k)?;
                Action::Bundle {
                    components: need(d.components, k, "components")?,
                    price: need(d.price, k, "price")?,
                }
            }
            ActionKind::OrderPercentOff => {
                only(&present, &["percent"], k)?;
                Action::OrderPercentOff {
                    percent: need(d.percent, k, "percent")?,
                }
            }
            ActionKind::OrderAmountOff => {
                only(&present, &["amount"], k)?;
                Action::OrderAmountOff {
                    amount: need(d.amount, k, "amount")?,
                }
            }
            ActionKind::TieredSpend => {
                only(&present, &["tiers"], k)?;
                Action::TieredSpend {
                    tiers: need(d.tiers, k, "tiers")?,
                }
            }
            ActionKind::DeliveryDiscount => {
                only(&present, &["discount"], k)?;
                Action::DeliveryDiscount {
                    discount: need(d.discount, k, "discount")?,
                }
            }
            ActionKind::GiftItem => {
                only(&present, &["sku", "quantity"], k)?;
                Action::GiftItem {
                    sku: need(d.sku, k, "sku")?,
                    quantity: need(d.quantity, k, "quantity")?,
                }
            }
        };
        Ok(action)
    }
}

impl ActionData {
    /// Which fields are present, by name.
    fn present(&self) -> [(&'static str, bool); 16] {
        [
            ("target", self.target.is_some()),
            ("percent", self.percent.is_some()),
            ("amount", self.amount.is_some()),
            ("price", self.price.is_some()),
            ("units", self.units.is_some()),
            ("pick", self.pick.is_some()),
            ("buy", self.buy.is_some()),
            ("buy_quantity", self.buy_quantity.is_some()),
            ("get", self.get.is_some()),
            ("get_quantity", self.get_quantity.is_some()),
            ("max_repeats", self.max_repeats.is_some()),
            ("components", self.components.is_some()),
            ("tiers", self.tiers.is_some()),
            ("discount", self.discount.is_some()),
            ("sku", self.sku.is_some()),
            ("quantity", self.quantity.is_some()),
        ]
    }
}

/// A buy-x-get-y action, checked (its own step: it has the most fields).
fn buy_x_get_y(d: ActionData, present: &[(&'static str, bool)]) -> Result<Action, String> {
    let k = ActionKind::BuyXGetY.name();
    let pick = d.pick.unwrap_or_default();
    only(
        present,
        &[
            "buy",
            "buy_quantity",
            "get",
            "get_quantity",
            "percent",
            "pick",
            "max_repeats",
        ],
        k,
    )?;
    Ok(Action::BuyXGetY {
        buy: need(d.buy, k, "buy")?,
        buy_quantity: need(d.buy_quantity, k, "buy_quantity")?,
        get: need(d.get, k, "get")?,
        get_quantity: need(d.get_quantity, k, "get_quantity")?,
        percent: need(d.percent, k, "percent")?,
        pick,
        max_repeats: d.max_repeats,
    })
}

impl From<Action> for ActionData {
    fn from(a: Action) -> ActionData {
        let d = ActionData::default();
        let pick = |p: Pick| (p != Pick::default()).then_some(p);
        match a {
            Action::PercentOff {
                target,
                percent,
                units,
                pick: p,
            } => ActionData {
                kind: Some(ActionKind::PercentOff),
                target: Some(target),
                percent: Some(percent),
                units,
                pick: pick(p),
                ..d
            },
            Action::AmountOff {
                target,
                amount,
                units,
                pick: p,
            } => ActionData {
                kind: Some(ActionKind::AmountOff),
                target: Some(target),
                amount: Some(amount),
                units,
                pick: pick(p),
                ..d
            },
            Action::FixedPrice {
                target,
                price,
                units,
                pick: p,
            } => ActionData {
                kind: Some(ActionKind::FixedPrice),
                target: Some(target),
                price: Some(price),
                units,
                pick: pick(p),
                ..d
            },
            Action::BuyXGetY {
                buy,
                buy_quantity,
                get,
                get_quantity,
                percent,
                pick: p,
                max_repeats,
            } => ActionData {
                kind: Some(ActionKind::BuyXGetY),
                buy: Some(buy),
                buy_quantity: Some(buy_quantity),
                get: Some(get),
                get_quantity: Some(get_quantity),
                percent: Some(percent),
                pick: pick(p),
                max_repeats,
                ..d
            },
            Action::Bundle { components, price } => ActionData {
                kind: Some(ActionKind::Bundle),
                components: Some(components),
                price: Some(price),
                ..d
            },
            Action::OrderPercentOff { percent } => ActionData {
                kind: Some(ActionKind::OrderPercentOff),
                percent: Some(percent),
                ..d
            },
            Action::OrderAmountOff { amount } => ActionData {
                kind: Some(ActionKind::OrderAmountOff),
                amount: Some(amount),
                ..d
            },
            Action::TieredSpend { tiers } => ActionData {
                kind: Some(ActionKind::TieredSpend),
                tiers: Some(tiers),
                ..d
            },
            Action::DeliveryDiscount { discount } => ActionData {
                kind: Some(ActionKind::DeliveryDiscount),
                discount: Some(discount),
                ..d
            },
            Action::GiftItem { sku, quantity } => ActionData {
                kind: Some(ActionKind::GiftItem),
                sku: Some(sku),
                quantity: Some(quantity),
                ..d
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ActionKind, ConditionKind};

    #[test]
    fn names_are_the_wire_names() {
        use ConditionKind as C;
        for kind in [
            C::SubtotalAtLeast,
            C::QuantityAtLeast,
            C::CartContains,
            C::CustomerSegment,
            C::Channel,
            C::Coupon,
            C::Schedule,
            C::FirstOrder,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
        }
        use ActionKind as A;
        for kind in [
            A::PercentOff,
            A::AmountOff,
            A::FixedPrice,
            A::BuyXGetY,
            A::Bundle,
            A::OrderPercentOff,
            A::OrderAmountOff,
            A::TieredSpend,
            A::DeliveryDiscount,
            A::GiftItem,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
        }
    }
}
