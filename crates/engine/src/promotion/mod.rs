//! Promotions: the model ([`Promotion`]), which of them apply to a cart, and upsell hints.
//!
//! # The rules (this is the contract)
//!
//! 1. **Eligibility.** A promotion is a candidate when the cart touches something it names (a
//!    SKU, product, category or tag in its conditions or action; promotions naming nothing are
//!    always candidates) or its coupon was entered. Candidates are found through an index, so
//!    promotions about other products cost nothing.
//! 2. **Conditions** all must hold. Context conditions (channel, segment, schedule against the
//!    `now` passed in, first order, coupon entered and, for a once-per-customer promotion, not
//!    among the customer's used codes, uses and budget left)
//!    are checked first; cart conditions (subtotal, quantity, contains) are checked when the
//!    promotion is applied, against the cart as discounted by the promotions applied before it.
//!    Gift lines never count towards conditions.
//! 3. **Order of application.** Line promotions first, then order promotions, then delivery
//!    promotions; within a class by `priority` (lower first), then by `id`. Order-level
//!    discounts are therefore always computed on the subtotal after line discounts.
//! 4. **Each line discount** is computed on the line's current net (after earlier line
//!    promotions) and never takes a line below zero. Fractions of the minor unit are rounded per
//!    line with the snapshot's named rounding. Order discounts are allocated back to lines by
//!    largest remainder, so line totals sum exactly to the order total. Promotions compute in
//!    whole minor units of the quote's currency: an amount finer than that (a promotion's
//!    "2.50" applied in yen) is rounded to it with the same rounding, except thresholds, which
//!    round up (a subtotal reaches them exactly when it reaches the amount), and caps and
//!    budgets, which round down (never exceeded). A promotion names amounts of at most
//!    [`MAX_PROMOTION_AMOUNT`]. A gift applies when its item has a price here, even 0.00, and is
//!    `gift_unavailable` when it has none; and while stocks last: when the network cannot
//!    promise it now (with the cart's own units of that item), it is `gift_out_of_stock`.
//!    A gift given is shipped with the goods (the delivery calculator sources it).
//! 5. **Stacking.** Two promotions stack only if each one's `combines_with` allows the other's
//!    class. An `exclusive` promotion applies alone. The engine searches a few plans and applies
//!    the one that saves the customer most: the lowest total, then the gifts worth most (ties:
//!    the plan found first):
//!    - all stackable promotions, greedily by priority; a promotion that gives nothing in a plan
//!      is left out and the plan re-run, so it never keeps another one out;
//!    - the same with a blocked promotion moved first, when alone it saves more than what it
//!      conflicts with;
//!    - each exclusive promotion alone;
//!    - for each entered coupon, the plan without it (a customer can always decline a coupon, so
//!      a coupon never makes the total higher);
//!    - then the best plan without one of its promotions, where that can help: a line discount
//!      that keeps the cart under a spend threshold worth more, or the sole blocker of another.
//! 6. **Caps.** `max_discount` and the remaining campaign budget cap a promotion's total;
//!    `max_applications` caps discounted units (repeats for buy-X-get-Y and bundles);
//!    `max_quantity_per_line` caps discounted units per line.
//! 7. **Reasons.** Every candidate that does not apply is reported with a code and a sentence;
//!    every entered coupon gets an outcome. Promotions one step away (a subtotal or an item
//!    missing) become upsell hints with the saving they would bring, ranked by saving.
//!
//! The engine never expands quantities into units: selection by cheapest/dearest works on
//! lines sorted by unit price, taking quantities.

mod apply;
mod hints;
mod model;
mod plan;
mod wire;

use rust_decimal::Decimal;

use crate::hash::HashMap;

pub(crate) use apply::Matches;
pub(crate) use hints::{HintInput, hints};
pub use hints::{MAX_HINTS, Suggestion, UpsellHint};
pub use model::*;
pub(crate) use plan::{Discount, Evaluation, Gift, Input, alone, delivery_discount, evaluate};

use crate::catalogue::SnapshotError;
use crate::money::{Currency, Money};
use crate::pricing::Line;
use crate::sku::Sku;

/// Most coupon codes one cart may carry.
pub const MAX_COUPONS: usize = 5;

/// Promotions by the keys they name, built once per snapshot.
#[derive(Debug, Clone, Default)]
pub(crate) struct PromotionIndex {
    /// By what they name: SKU, product id, category, tag (one table each, so a cart line is
    /// looked up by its own strings, without building keys).
    by_kind: [HashMap<String, Vec<usize>>; 4],
    by_coupon: HashMap<String, Vec<usize>>,
    /// Promotions that name no SKU, product, category or tag (e.g. "spend 100, save 10").
    global: Vec<usize>,
    /// Each promotion's place in application order (class, priority, id: rule 3), so plans
    /// sort promotions by comparing two integers instead of their ids.
    pub(crate) rank: Vec<u32>,
    /// Each promotion's place in id order (rejections are listed by id).
    pub(crate) id_rank: Vec<u32>,
    /// Each promotion's stacking rule in a byte (see [`Stacking`]): plans ask whether two
    /// promotions stack tens of thousands of times per quote.
    pub(crate) stacking: Vec<Stacking>,
}

/// The largest amount a promotion may name (a threshold, an amount off, a price, a cap, a
/// budget), in the currency's major unit: ten trillion. In minor units it fits the integers
/// promotions compute in, whatever the quote's currency, so messages and limits stay exact.
pub const MAX_PROMOTION_AMOUNT: i64 = 10_000_000_000_000;

/// Rule 5 packed: bits 0–2 the promotion's class (one bit), bits 3–5 the classes it combines
/// with, bit 7 exclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stacking(u8);

impl Stacking {
    fn of(p: &Promotion) -> Stacking {
        let bit = |c: DiscountClass| match c {
            DiscountClass::Line => 1u8,
            DiscountClass::Order => 2,
            DiscountClass::Delivery => 4,
        };
        let allows = [
            DiscountClass::Line,
            DiscountClass::Order,
            DiscountClass::Delivery,
        ]
        .into_iter()
        .filter(|&c| p.combines_with.allows(c))
        .fold(0, |m, c| m | bit(c));
        Stacking(bit(p.class()) | (allows << 3) | if p.exclusive { 0x80 } else { 0 })
    }

    /// Whether two promotions may apply together: neither is exclusive and each one's
    /// `combines_with` allows the other's class.
    pub(crate) fn with(self, other: Stacking) -> bool {
        let (a, b) = (self.0, other.0);
        (a | b) & 0x80 == 0 && (a >> 3) & b & 7 != 0 && (b >> 3) & a & 7 != 0
    }
}

/// The place of each of `n` items in the order `cmp` gives.
fn places(n: usize, cmp: &dyn Fn(usize, usize) -> std::cmp::Ordering) -> Vec<u32> {
    let mut sorted: Vec<usize> = (0..n).collect();
    crate::sort::sort_indices(&mut sorted, cmp);
    let mut place = vec![0; n];
    for (k, &i) in sorted.iter().enumerate() {
        place[i] = k as u32;
    }
    place
}

impl PromotionIndex {
    pub(crate) fn build(
        promotions: &[Promotion],
        currency: Currency,
        skus: &HashMap<Sku, crate::catalogue::SkuAt>,
    ) -> Result<PromotionIndex, SnapshotError> {
        let mut index = PromotionIndex::default();
        let mut ids = crate::hash::HashSet::default();
        for (i, p) in promotions.iter().enumerate() {
            let field = |f: &str| format!("promotions[{i}] ({}){f}", p.id);
            let bad = |f: &str, problem: String| SnapshotError::Invalid {
                field: field(f),
                problem,
            };
            if p.id.trim().is_empty() || p.id.len() > 64 || !ids.insert(&*p.id) {
                return Err(bad(".id", "must be unique, 1 to 64 characters".into()));
            }
            if p.label.trim().is_empty() || p.label.len() > 120 {
                return Err(bad(".label", "must be 1 to 120 characters".into()));
            }
            p.check_shape().map_err(|e| bad("", e))?;
            for (name, amount) in p.amounts() {
                Money::new(amount.0, currency)
                    .map_err(|e| bad(&format!(".{name}"), e.to_string()))?;
                if amount.0 > Decimal::from(MAX_PROMOTION_AMOUNT) {
                    return Err(bad(
                        &format!(".{name}"),
                        format!("at most {MAX_PROMOTION_AMOUNT}"),
                    ));
                }
            }
            let mut skus_named: Vec<&Sku> = p
                .targets()
                .into_iter()
                .flat_map(|t| match t {
                    Target::Skus(v) => v.iter().collect(),
                    _ => Vec::new(),
                })
                .collect();
            if let Action::GiftItem { sku, .. } = &p.action {
                skus_named.push(sku);
            }
            if let Some(unknown) = skus_named.into_iter().find(|s| !skus.contains_key(*s)) {
                return Err(bad("", format!("names unknown SKU {unknown}")));
            }
            index.add(i, p);
        }
        index.rank = places(promotions.len(), &|a, b| {
            let (p, q) = (&promotions[a], &promotions[b]);
            (p.class(), p.priority, &p.id).cmp(&(q.class(), q.priority, &q.id))
        });
        index.stacking = promotions.iter().map(Stacking::of).collect();
        index.id_rank = places(promotions.len(), &|a, b| {
            promotions[a].id.cmp(&promotions[b].id)
        });
        Ok(index)
    }

    fn add(&mut self, i: usize, p: &Promotion) {
        if let Some(code) = p.coupon() {
            self.by_coupon.entry(code).or_default().push(i);
        }
        let targets = p.targets();
        let specific = !targets.is_empty() && targets.iter().all(|t| !matches!(t, Target::Any));
        if specific {
            for t in targets {
                model::target_keys(t, &mut |kind, name| {
                    // Promotions are added in order, so a promotion naming a key twice is
                    // listed under it once.
                    let list = self.by_kind[kind].entry(name.to_owned()).or_default();
                    if list.last() != Some(&i) {
                        list.push(i);
                    }
                });
            }
        } else {
            self.global.push(i);
        }
    }

    /// Candidate promotions for these lines and entered codes, sorted, unique.
    pub(crate) fn candidates(
        &self,
        lines: &[Line],
        codes: &[String],
        promotions: usize,
    ) -> Vec<usize> {
        let mut out: Vec<usize> = self.global.clone();
        for l in lines {
            let names = [
                l.sku.as_str(),
                l.product.id.as_str(),
                l.product.category.as_str(),
            ];
            for (kind, name) in names
                .into_iter()
                .enumerate()
                .chain(l.product.tags.iter().map(|t| (3, t.as_str())))
            {
                if let Some(v) = self.by_kind[kind].get(name) {
                    out.extend(v);
                }
            }
        }
        for c in codes {
            if let Some(v) = self.by_coupon.get(c) {
                out.extend(v);
            }
        }
        if out.len() * 8 < promotions {
            crate::sort::sort_indices(&mut out, &|a, b| a.cmp(&b));
            out.dedup();
            return out;
        }
        // Many lines name the same promotions (a category's): mark them rather than sort.
        crate::sort::ascending_unique(promotions, out.into_iter())
    }

    /// Promotions that name this product, its SKU, category or tags (for "offers" on a product
    /// page), in index order.
    pub(crate) fn naming(&self, sku: &str, product: &crate::catalogue::Product) -> Vec<usize> {
        let names = [sku, product.id.as_str(), product.category.as_str()];
        let mut out: Vec<usize> = names
            .into_iter()
            .enumerate()
            .chain(product.tags.iter().map(|t| (3, t.as_str())))
            .filter_map(|(kind, name)| self.by_kind[kind].get(name))
            .flatten()
            .copied()
            .collect();
        crate::sort::sort_indices(&mut out, &|a, b| a.cmp(&b));
        out.dedup();
        out
    }

    pub(crate) fn has_coupon(&self, code: &str) -> bool {
        self.by_coupon.contains_key(code)
    }
}

#[cfg(test)]
mod tests {
    use super::Stacking;
    use super::model::{Action, Amount, CombinesWith, Promotion};

    /// Every pair of stacking rules (class × exclusive × the 8 `combines_with` sets) agrees with
    /// rule 5 written out.
    #[test]
    fn packed_stacking_is_rule_5() {
        let amount = || Amount(rust_decimal::Decimal::ONE);
        let actions = [
            Action::OrderAmountOff { amount: amount() },
            Action::DeliveryDiscount {
                discount: super::model::DeliveryDiscount::Free,
            },
        ];
        let mut all = Vec::new();
        for class in 0..3 {
            for exclusive in [false, true] {
                for set in 0..8u8 {
                    let action = match class {
                        0 => Action::AmountOff {
                            target: super::model::Target::Any,
                            amount: amount(),
                            units: None,
                            pick: Default::default(),
                        },
                        c => actions[c - 1].clone(),
                    };
                    let combines_with = CombinesWith {
                        line: set & 1 != 0,
                        order: set & 2 != 0,
                        delivery: set & 4 != 0,
                    };
                    all.push(Promotion {
                        id: "p".into(),
                        label: "P".into(),
                        priority: 0,
                        exclusive,
                        combines_with,
                        conditions: vec![],
                        action,
                        caps: Default::default(),
                        usage_limit: None,
                        budget: None,
                        once_per_customer: false,
                    });
                }
            }
        }
        for a in &all {
            for b in &all {
                let rule = !a.exclusive
                    && !b.exclusive
                    && a.combines_with.allows(b.class())
                    && b.combines_with.allows(a.class());
                assert_eq!(
                    Stacking::of(a).with(Stacking::of(b)),
                    rule,
                    "{a:?} with {b:?}"
                );
            }
        }
    }
}
