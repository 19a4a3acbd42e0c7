//! Upsell hints: promotions the cart nearly qualifies for, what is missing, what they would save.
//!
//! A quote's evaluation lists its near misses ([`Gap`]s); [`hints`] turns them into at most
//! [`MAX_HINTS`] hints, highest saving first. "Spend this much more" is worked out from the
//! evaluation and the priced lines; "add this item" suggests the cheapest item the promotion's
//! target matches and runs that promotion alone on the priced lines with the item added (priced
//! by `pricing`), reusing the quote's target matches (at most `MAX_SIMULATED_HINTS` such runs
//! per quote).
//!
//! Hints read what the quote is made from (the priced lines and the evaluation), never the
//! finished `Quote`: so `promotion` depends on `pricing` and `context` only, and `quote`, which
//! calls [`hints`] last, is the one module above both.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::apply::{Matches, order_discount};
use super::model::{Channel, DeliveryDiscount, DiscountClass};
use super::plan::{Evaluation, Gap, Missed};
use crate::cart::Cart;
use crate::catalogue::Snapshot;
use crate::context::QuoteContext;
use crate::money::{Currency, Money};
use crate::pricing::{
    Cents, Line, PricedLine, PricedLines, QuoteError, cents, priced_line, round_for, within_limit,
};
use crate::promotion;
use crate::sku::{Quantity, Sku};

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

/// Most upsell hints in a quote.
pub const MAX_HINTS: usize = 3;
/// Most near-miss promotions simulated for hints per quote (each costs one more evaluation).
const MAX_SIMULATED_HINTS: usize = 4;

/// What the hints of one quote read: the quote's inputs and its priced lines.
pub(crate) struct HintInput<'q, 'a> {
    pub snapshot: &'a Snapshot,
    pub cart: &'a Cart,
    pub context: &'a QuoteContext,
    /// The quote's currency.
    pub currency: Currency,
    pub priced: &'q PricedLines<'a>,
    /// The codes entered, normalized.
    pub codes: &'q [String],
    pub matches: &'q Matches<'a>,
}

/// A near miss: the promotion (its index) and what it lacks.
struct Near<'s> {
    promotion: usize,
    missing: Missing<'s>,
}

/// What a near-miss promotion lacks: an amount, or units of what a target matches (the item to
/// suggest is looked up only for the hints shown).
enum Missing<'s> {
    Amount(Cents),
    Units {
        target: &'s promotion::Target,
        quantity: u32,
    },
}

/// The quote's upsell hints, highest saving first, at most [`MAX_HINTS`].
pub(crate) fn hints(h: &HintInput, eval: &Evaluation) -> Result<Vec<UpsellHint>, QuoteError> {
    let currency = h.currency;
    let mut hints = Vec::new();
    let mut simulated = 0;
    // The shopper's lines' net, for what an order discount would take off at its threshold.
    let mut net = None;
    for n in near_misses(eval) {
        let hint = match n.missing {
            Missing::Amount(missing) => amount_hint(h, eval, n.promotion, missing, &mut net),
            Missing::Units { target, quantity } => {
                if simulated == MAX_SIMULATED_HINTS {
                    continue;
                }
                let Some(sku) = cheapest(h.snapshot, h.context.channel, currency, target) else {
                    continue;
                };
                simulated += 1;
                match item_hint(h, n.promotion, sku, quantity)? {
                    Some(hint) => hint,
                    None => continue,
                }
            }
        };
        hints.push(hint);
    }
    // Highest saving first; ties by promotion id, so the order of promotions in the snapshot
    // never shows through.
    crate::sort::sort_vec(&mut hints, &|a, b| {
        b.saving
            .map(|m| m.amount())
            .cmp(&a.saving.map(|m| m.amount()))
            .then_with(|| a.promotion_id.cmp(&b.promotion_id))
    });
    hints.truncate(MAX_HINTS);
    Ok(hints)
}

/// Near misses of the evaluation, resolved to "spend this much more" or "add this item".
fn near_misses<'s>(eval: &Evaluation<'s>) -> Vec<Near<'s>> {
    let mut out = Vec::new();
    for Missed { promotion: p, gap } in &eval.gaps {
        let next_tier = matches!(gap, Gap::NextTier { .. });
        if (eval.applied.contains(p) && !next_tier) || out.iter().any(|n: &Near| n.promotion == *p)
        {
            continue;
        }
        let missing = match gap {
            Gap::Subtotal { missing } | Gap::NextTier { missing } => Missing::Amount(*missing),
            Gap::Quantity { target, missing } => Missing::Units {
                target,
                quantity: *missing,
            },
            Gap::Contains { target } | Gap::ActionTarget { target } => Missing::Units {
                target,
                quantity: 1,
            },
        };
        out.push(Near {
            promotion: *p,
            missing,
        });
    }
    out
}

/// "Spend this much more": what promotion `p` lacks is `missing` of subtotal. `net` caches the
/// shopper's lines' net (gross less line discounts) across the hints of one quote.
fn amount_hint(
    h: &HintInput,
    eval: &Evaluation,
    p: usize,
    missing: Cents,
    net: &mut Option<Cents>,
) -> UpsellHint {
    let currency = h.currency;
    let round = round_for(h.snapshot, currency);
    let money = |d: Decimal| Money::rounded(d, currency, round.strategy);
    let promo = &h.snapshot.promotions()[p];
    let saving = match promo.class() {
        DiscountClass::Order => {
            // What it would take off at the threshold, less what it takes off already.
            let net = *net.get_or_insert_with(|| {
                let gross: Cents = h.priced.lines.iter().map(|l| l.gross).sum();
                gross
                    - eval
                        .line_adjustments
                        .iter()
                        .map(|a| a.amount)
                        .sum::<Cents>()
            });
            let base = net.saturating_add(missing);
            let now = round.decimal(
                eval.order_adjustments
                    .iter()
                    .filter(|d| d.promotion == p)
                    .map(|d| d.amount)
                    .sum(),
            );
            Some(money(
                round.decimal(order_discount(base, &promo.action, round)) - now,
            ))
        }
        DiscountClass::Delivery => h.context.delivery_charge.map(|c| money(c.0)).filter(|_| {
            matches!(
                &promo.action,
                promotion::Action::DeliveryDiscount {
                    discount: DeliveryDiscount::Free
                }
            )
        }),
        DiscountClass::Line => None,
    };
    let missing = money(round.decimal(missing));
    let message = format!("Add {} {currency} more: {}", missing.amount(), promo.label);
    UpsellHint {
        promotion_id: promo.id.clone(),
        label: promo.label.clone(),
        message,
        missing_amount: Some(missing),
        add: None,
        saving,
    }
}

/// "Add this item": `quantity` of `sku` for promotion `p`, if adding them would save anything.
fn item_hint(
    h: &HintInput,
    p: usize,
    sku: Sku,
    quantity: u32,
) -> Result<Option<UpsellHint>, QuoteError> {
    let Some(saving) = simulate(h, p, &sku, quantity)? else {
        return Ok(None);
    };
    let promo = &h.snapshot.promotions()[p];
    let name = h.snapshot.display_name(&sku);
    let message = format!(
        "Add {name}: save {} {} ({})",
        saving.amount(),
        h.currency,
        promo.label
    );
    Ok(Some(UpsellHint {
        promotion_id: promo.id.clone(),
        label: promo.label.clone(),
        message,
        missing_amount: None,
        add: Some(Suggestion {
            sku,
            name,
            quantity,
        }),
        saving: Some(saving),
    }))
}

/// The cheapest SKU the target matches (ties by SKU).
fn cheapest(
    snapshot: &Snapshot,
    channel: Channel,
    currency: Currency,
    target: &promotion::Target,
) -> Option<Sku> {
    let mut best: Option<(Decimal, &Sku)> = None;
    // Every variant of the products found matches, except for a SKU target.
    let per_variant = matches!(target, promotion::Target::Skus(_));
    for p in snapshot.products_for(target) {
        let product = &snapshot.products()[p];
        for v in &product.variants {
            let Some(price) = snapshot.price_for(&v.sku, channel, currency) else {
                continue;
            };
            let matches = || {
                !per_variant
                    || target.matches(&Line {
                        sku: &v.sku,
                        product,
                        quantity: 1,
                        gross: 0,
                    })
            };
            if best.is_none_or(|(b, s)| (price.amount(), &v.sku) < (b, s)) && matches() {
                best = Some((price.amount(), &v.sku));
            }
        }
    }
    best.map(|(_, s)| s.clone())
}

/// What promotion `promotion` would save if the shopper added `quantity` of `sku`; None if it
/// still would not apply or the cart cannot take the item.
/// One run of that promotion alone on the cart with the item added: cheap enough to do for
/// several hints on every edit, on the quote's priced lines: an item not in the cart yet is one
/// more line after them; more of one in the cart changes its line's quantity and its services'.
fn simulate(
    h: &HintInput,
    promotion: usize,
    sku: &Sku,
    quantity: u32,
) -> Result<Option<Money>, QuoteError> {
    let (snapshot, cart, context) = (h.snapshot, h.cart, h.context);
    let PricedLines {
        lines,
        units,
        parents,
    } = h.priced;
    let Ok(quantity) = Quantity::new(quantity.into()) else {
        return Ok(None);
    };
    let currency = h.currency;
    let Ok(total) = cart.quantity_after_add(snapshot, sku, quantity) else {
        return Ok(None);
    };
    let mut with: Vec<Line> = Vec::with_capacity(lines.len() + 1);
    with.extend(lines.iter().map(Line::clone));
    match cart.quantity_of(sku) {
        // More of a line: it and its services take the new quantity.
        Some(_) => {
            for (i, l) in with.iter_mut().enumerate() {
                if (parents[i].is_none() && l.sku == sku) || parents[i] == Some(sku) {
                    l.quantity = total.get();
                    // Beyond what a quote may add up to: no hint, the quote itself stands.
                    let Ok(gross) = units[i]
                        .checked_mul_quantity(total.get())
                        .map_err(QuoteError::from)
                        .and_then(cents)
                    else {
                        return Ok(None);
                    };
                    l.gross = gross;
                }
            }
        }
        None => match priced_line(snapshot, sku, total.get(), context, currency) {
            Ok(PricedLine { line, .. }) => with.push(line),
            Err(_) => return Ok(None),
        },
    }
    let targets = snapshot.promotions()[promotion].targets();
    let input = promotion::Input::new(
        snapshot,
        &with,
        Matches::after(h.matches, &with, &targets),
        context,
        h.codes,
        currency,
    );
    if !within_limit(&with, input.delivery_charge) {
        return Ok(None);
    }
    let saving = promotion::alone(&input, promotion);
    Ok((saving != 0)
        .then(|| Money::rounded(input.round.decimal(saving), currency, input.round.strategy)))
}
