//! Quotes: a cart priced for a context. Unit prices come from price lists, promotions are
//! applied by the rules in [`crate::promotion`], tax is computed per line, and the result is
//! explained line by line, with the promotions that did not apply and upsell hints.
//!
//! Sums (the invariants the tests check):
//! - `line.net = line.gross − Σ line.adjustments`, never negative;
//! - order discounts are allocated to lines by largest remainder: `line.order_discount`;
//! - `line.total = line.net − line.order_discount` (+ `line.tax` where prices exclude tax);
//! - `total = Σ line.total + delivery.total`, exactly, to the minor unit.
//!
//! The page quotes every edit with [`quote`]; the server quotes again with the same function at
//! order placement and its answer is final.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ErrorCode;
use crate::allocate::allocate_cents;
use crate::cart::Cart;
use crate::catalogue::Snapshot;
pub use crate::context::{QuoteContext, Usage};
use crate::money::{Currency, Money, MoneyError};
use crate::promotion::{
    self, Cents, Channel, DeliveryDiscount, DiscountClass, Evaluation, Gap, Input, Line, Matches,
    Round, Suggestion, UpsellHint, normalize_code, order_discount,
};
use crate::sku::{Quantity, Sku};

/// One discount on a line, the order or the delivery, with the promotion that gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjustment {
    pub promotion_id: Arc<str>,
    pub label: Arc<str>,
    /// The amount taken off (positive).
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub sku: Sku,
    pub product_id: String,
    pub name: String,
    pub quantity: Quantity,
    pub unit_price: Money,
    /// unit price × quantity
    pub gross: Money,
    /// Line promotions, in the order applied.
    pub adjustments: Vec<Adjustment>,
    /// gross − adjustments
    pub net: Money,
    /// This line's share of order-level discounts (largest remainder).
    pub order_discount: Money,
    /// Tax in (or on) this line's total.
    pub tax: Money,
    pub total: Money,
    /// A free gift added by a promotion, not by the shopper.
    pub gift: bool,
    /// For a service attached to a line: that line's SKU (this line follows it, with its
    /// quantity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_to: Option<Sku>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryCharge {
    pub charge: Money,
    pub adjustments: Vec<Adjustment>,
    pub total: Money,
}

/// A delivery promotion that applies, for the delivery calculator to apply to its charges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryPromotion {
    pub promotion_id: Arc<str>,
    pub label: Arc<str>,
    pub discount: DeliveryDiscount,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub promotion_id: Arc<str>,
    pub label: Arc<str>,
    pub code: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CouponOutcome {
    /// The code as normalized (trimmed, upper case).
    pub code: String,
    pub applied: bool,
    /// Why not, when not: `unknown_coupon`, `expired`, `not_started`, `subtotal_below`, …
    pub reason_code: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub currency: Currency,
    pub snapshot_version: String,
    pub prices_include_tax: bool,
    pub lines: Vec<QuoteLine>,
    /// Units the shopper chose (gifts excluded).
    pub item_count: u32,
    /// Σ gross of the shopper's lines.
    pub subtotal: Money,
    /// Σ line adjustments of the shopper's lines.
    pub line_discount_total: Money,
    pub order_adjustments: Vec<Adjustment>,
    /// line discounts + order discounts (+ delivery discounts when a charge is known).
    pub discount_total: Money,
    pub delivery: Option<DeliveryCharge>,
    pub delivery_promotions: Vec<DeliveryPromotion>,
    pub tax_total: Money,
    pub total: Money,
    /// Promotions applied, with what each saved, in application order.
    pub applied: Vec<Adjustment>,
    pub rejected: Vec<Rejection>,
    pub coupons: Vec<CouponOutcome>,
    /// Ranked by saving, at most [`MAX_HINTS`].
    pub hints: Vec<UpsellHint>,
}

/// Most upsell hints in a quote.
pub const MAX_HINTS: usize = 3;
/// Most near-miss promotions simulated for hints per quote (each costs one more evaluation).
const MAX_SIMULATED_HINTS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// The cart names a SKU the snapshot no longer sells (e.g. delisted since it was added).
    #[error("{0} is no longer in the catalogue")]
    UnknownSku(Sku),
    #[error("{sku} has no price in {currency}")]
    NoPrice { sku: Sku, currency: Currency },
    #[error("no tax rates for region {0:?}")]
    UnknownRegion(String),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl ErrorCode for QuoteError {
    fn code(&self) -> &'static str {
        match self {
            QuoteError::UnknownSku(_) => "unknown_sku",
            QuoteError::NoPrice { .. } => "no_price",
            QuoteError::UnknownRegion(_) => "unknown_region",
            QuoteError::Money(e) => e.code(),
        }
    }
}

/// Quotes a cart. Pure: same snapshot, cart and context, same quote.
pub fn quote(
    snapshot: &Snapshot,
    cart: &Cart,
    context: &QuoteContext,
) -> Result<Quote, QuoteError> {
    let currency = context.currency.unwrap_or(snapshot.currency());
    let round = round_for(snapshot, currency);
    let (lines, units, parents) = priced_lines(snapshot, cart, context, currency)?;
    let (codes, mut coupons) = entered_codes(snapshot, cart.coupons());
    let candidates =
        snapshot
            .promotion_index()
            .candidates(&lines, &codes, snapshot.promotions().len());
    let input = input_for(
        snapshot,
        &lines,
        Matches::new(&lines),
        context,
        &codes,
        currency,
    );
    if !within_limit(&lines, input.delivery_charge) {
        return Err(QuoteError::Money(MoneyError::Overflow));
    }
    let eval = promotion::evaluate(&input, &candidates);
    let near = near_misses(&eval);
    coupons.extend(coupon_outcomes(snapshot, &codes, &eval));
    let mut quote = assemble(
        snapshot, context, &lines, &units, &parents, &eval, currency, round, coupons,
    )?;
    quote.hints = hints(
        snapshot,
        cart,
        context,
        &quote,
        &near,
        (&lines, &units, &parents, &codes),
        &input.matches,
    )?;
    Ok(quote)
}

/// The quote's priced lines, their unit prices and parents, and the codes entered.
type Priced<'q, 'a> = (
    &'q [Line<'a>],
    &'q [Money],
    &'q [Option<&'a Sku>],
    &'q [String],
);

/// A near miss: promotion index and what it lacks: an amount, or units of what a target
/// matches (the item to suggest is looked up only for the hints shown).
struct Near<'s> {
    promotion: usize,
    missing_amount: Option<Cents>,
    add: Option<(&'s promotion::Target, u32)>,
}

/// Rounding to the currency's minor unit with the snapshot's named strategy.
pub(crate) fn round_for(snapshot: &Snapshot, currency: Currency) -> Round {
    Round {
        minor_units: currency.minor_units(),
        strategy: snapshot.pricing().rounding.strategy(),
    }
}

/// What the promotion engine needs to evaluate these lines.
fn input_for<'a>(
    snapshot: &'a Snapshot,
    lines: &'a [Line<'a>],
    matches: Matches<'a>,
    context: &'a QuoteContext,
    codes: &'a [String],
    currency: Currency,
) -> Input<'a> {
    let round = round_for(snapshot, currency);
    Input {
        lines,
        matches,
        promotions: snapshot.promotions(),
        context,
        codes,
        round,
        delivery_charge: context.delivery_charge.map(|a| round.cents(a.0)),
        snapshot,
        currency,
    }
}

/// Priced lines with their unit prices, for the context's channel and currency, and the
/// line each serves: the cart's lines, each followed by its attached services (priced as lines
/// of their own with the line's quantity, so promotions and allocation treat them alike).
#[allow(clippy::type_complexity)]
fn priced_lines<'a>(
    snapshot: &'a Snapshot,
    cart: &'a Cart,
    context: &QuoteContext,
    currency: Currency,
) -> Result<(Vec<Line<'a>>, Vec<Money>, Vec<Option<&'a Sku>>), QuoteError> {
    let count = cart.lines().len() + cart.lines().iter().map(|l| l.services.len()).sum::<usize>();
    let (mut lines, mut units, mut parents) = (
        Vec::with_capacity(count),
        Vec::with_capacity(count),
        Vec::with_capacity(count),
    );
    for l in cart.lines() {
        for (sku, parent) in
            std::iter::once((&l.sku, None)).chain(l.services.iter().map(|s| (s, Some(&l.sku))))
        {
            let (line, unit) = priced_line(snapshot, sku, l.quantity.get(), context, currency)?;
            lines.push(line);
            units.push(unit);
            parents.push(parent);
        }
    }
    Ok((lines, units, parents))
}

/// One priced line and its unit price.
fn priced_line<'a>(
    snapshot: &'a Snapshot,
    sku: &'a Sku,
    quantity: u32,
    context: &QuoteContext,
    currency: Currency,
) -> Result<(Line<'a>, Money), QuoteError> {
    let (product, unit) = snapshot
        .priced(sku, context.channel, currency)
        .ok_or_else(|| QuoteError::UnknownSku(sku.clone()))?;
    let unit = unit.ok_or_else(|| QuoteError::NoPrice {
        sku: sku.clone(),
        currency,
    })?;
    let gross = cents(unit.checked_mul_quantity(quantity)?)?;
    Ok((
        Line {
            sku,
            product,
            quantity,
            gross,
        },
        unit,
    ))
}

/// The most a quote's amounts may add up to, in minor units: a quarter of what an `i64`
/// holds (2.3 × 10^16 euros), so that the sums promotions compute (the cart, plus a delivery
/// charge) never overflow. No real cart comes near it; a cart that does gets `amount_overflow`.
const MAX_CENTS: Cents = Cents::MAX / 4;

/// An amount at its currency's minor unit, in minor units.
fn cents(m: Money) -> Result<Cents, QuoteError> {
    crate::exact::scaled(m.amount(), m.currency().minor_units())
        .filter(|c| c.abs() <= MAX_CENTS)
        .ok_or(QuoteError::Money(MoneyError::Overflow))
}

/// Whether the lines and the delivery charge add up to at most [`MAX_CENTS`].
fn within_limit(lines: &[Line], delivery_charge: Option<Cents>) -> bool {
    let sum = lines
        .iter()
        .try_fold(delivery_charge.unwrap_or(0), |sum, l| {
            sum.checked_add(l.gross)
        });
    sum.is_some_and(|s| s <= MAX_CENTS)
        && delivery_charge.is_none_or(|c| (0..=MAX_CENTS).contains(&c))
}

/// Normalized, deduplicated codes (at most MAX_COUPONS) and outcomes for the ones refused here.
fn entered_codes(snapshot: &Snapshot, entered: &[String]) -> (Vec<String>, Vec<CouponOutcome>) {
    let (mut codes, mut refused) = (Vec::new(), Vec::new());
    for raw in entered {
        let code = normalize_code(raw);
        if codes.contains(&code) || refused.iter().any(|o: &CouponOutcome| o.code == code) {
            continue;
        }
        let problem =
            if !promotion::valid_code(&code) || !snapshot.promotion_index().has_coupon(&code) {
                Some((
                    "unknown_coupon",
                    format!("We don't know the code {code}. Check it for typos."),
                ))
            } else if codes.len() >= promotion::MAX_COUPONS {
                Some((
                    "too_many_coupons",
                    format!("At most {} codes per order.", promotion::MAX_COUPONS),
                ))
            } else {
                None
            };
        match problem {
            Some((reason_code, reason)) => refused.push(CouponOutcome {
                code,
                applied: false,
                reason_code: Some(reason_code.into()),
                reason: Some(reason),
            }),
            None => codes.push(code),
        }
    }
    (codes, refused)
}

fn coupon_outcomes(snapshot: &Snapshot, codes: &[String], eval: &Evaluation) -> Vec<CouponOutcome> {
    let promotions = snapshot.promotions();
    codes
        .iter()
        .map(|code| {
            let mine = |p: &usize| promotions[*p].coupon().as_deref() == Some(code.as_str());
            let applied = eval.applied.iter().any(mine);
            let why = eval.rejected.iter().find(|(p, _)| mine(p)).map(|(_, r)| r);
            let (reason_code, reason) = match (applied, why) {
                (true, _) => (None, None),
                (false, Some(r)) => (Some(r.code.to_owned()), Some(r.message.clone())),
                (false, None) => (
                    Some("not_applicable".to_owned()),
                    Some("This code does not apply to your cart.".to_owned()),
                ),
            };
            CouponOutcome {
                code: code.clone(),
                applied,
                reason_code,
                reason,
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    snapshot: &Snapshot,
    context: &QuoteContext,
    lines: &[Line],
    units: &[Money],
    parents: &[Option<&Sku>],
    eval: &Evaluation,
    currency: Currency,
    round: Round,
    coupons: Vec<CouponOutcome>,
) -> Result<Quote, QuoteError> {
    let promotions = snapshot.promotions();
    let money = |d: Decimal| Money::rounded(d, currency, round.strategy);
    let adjustment = |p: usize, d: Decimal| Adjustment {
        promotion_id: promotions[p].id.clone(),
        label: promotions[p].label.clone(),
        amount: money(d),
    };
    let mut nets: Vec<Cents> = lines.iter().map(|l| l.gross).collect();
    let mut line_adjustments: Vec<Vec<Adjustment>> = lines.iter().map(|_| Vec::new()).collect();
    for &(i, p, d) in &eval.line_adjustments {
        nets[i] -= d;
        line_adjustments[i].push(adjustment(p, round.decimal(d)));
    }
    let order_shares = allocate_order(lines, &nets, eval);
    let region = context
        .region
        .clone()
        .unwrap_or_else(|| snapshot.pricing().default_region.clone());
    let inclusive = snapshot.pricing().prices_include_tax;
    let mut out = Vec::with_capacity(lines.len() + eval.gifts.len());
    // Rates by tax class, looked up once per class (a cart has few classes).
    let mut rates: Vec<(&str, Option<Decimal>)> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let taxable = round.decimal(nets[i] - order_shares[i]);
        let class = l.product.tax_class.as_str();
        let rate = match rates.iter().find(|(c, _)| *c == class) {
            Some(&(_, rate)) => rate,
            None => {
                let rate = snapshot.tax_rate(&region, class);
                rates.push((class, rate));
                rate
            }
        };
        let tax = tax_of(snapshot, &region, rate, taxable, inclusive, round)?;
        out.push(QuoteLine {
            sku: l.sku.clone(),
            product_id: l.product.id.clone(),
            name: snapshot.display_name(l.sku),
            quantity: Quantity::new(l.quantity.into()).expect("cart quantities are valid"),
            unit_price: units[i],
            gross: money(round.decimal(l.gross)),
            adjustments: std::mem::take(&mut line_adjustments[i]),
            net: money(round.decimal(nets[i])),
            order_discount: money(round.decimal(order_shares[i])),
            tax: money(tax),
            total: money(if inclusive { taxable } else { taxable + tax }),
            gift: false,
            attached_to: parents[i].cloned(),
        });
    }
    // What each gift line is worth, for its promotion's applied amount (exact: a gift's worth
    // in the plan search saturates).
    let mut gift_gross: Vec<(usize, Decimal)> = Vec::new();
    for (p, sku, quantity) in &eval.gifts {
        let Some(unit) = snapshot.price_for(sku, context.channel, currency) else {
            continue;
        };
        let gross = unit.checked_mul_quantity(*quantity)?;
        gift_gross.push((*p, gross.amount()));
        out.push(QuoteLine {
            sku: sku.clone(),
            product_id: snapshot
                .variant(sku)
                .map(|(p, _)| p.id.clone())
                .unwrap_or_default(),
            name: snapshot.display_name(sku),
            quantity: Quantity::new((*quantity).into()).unwrap_or(Quantity::ONE),
            unit_price: unit,
            gross,
            adjustments: vec![adjustment(*p, gross.amount())],
            net: Money::zero(currency),
            order_discount: Money::zero(currency),
            tax: Money::zero(currency),
            total: Money::zero(currency),
            gift: true,
            attached_to: None,
        });
    }
    let delivery = context.delivery_charge.map(|charge| {
        let charge = money(charge.0);
        let adjustments: Vec<Adjustment> = eval
            .delivery
            .iter()
            .filter(|&&(_, d)| d != 0)
            .map(|&(p, d)| adjustment(p, round.decimal(d)))
            .collect();
        let off = round.decimal(eval.delivery.iter().map(|(_, d)| d).sum());
        DeliveryCharge {
            total: money(charge.amount() - off),
            charge,
            adjustments,
        }
    });
    let shopper = || out.iter().filter(|l| !l.gift);
    let sum = |f: &dyn Fn(&QuoteLine) -> Decimal| money(shopper().map(f).sum());
    let order_total = round.decimal(eval.order_adjustments.iter().map(|(_, d)| d).sum());
    let delivery_off = delivery
        .as_ref()
        .map_or(Decimal::ZERO, |d| d.charge.amount() - d.total.amount());
    let line_discount_total = sum(&|l| l.gross.amount() - l.net.amount());
    Ok(Quote {
        currency,
        snapshot_version: snapshot.version().to_owned(),
        prices_include_tax: inclusive,
        item_count: shopper().map(|l| l.quantity.get()).sum(),
        subtotal: sum(&|l| l.gross.amount()),
        discount_total: money(line_discount_total.amount() + order_total + delivery_off),
        line_discount_total,
        order_adjustments: eval
            .order_adjustments
            .iter()
            .map(|&(p, d)| adjustment(p, round.decimal(d)))
            .collect(),
        tax_total: sum(&|l| l.tax.amount()),
        total: money(
            shopper().map(|l| l.total.amount()).sum::<Decimal>()
                + delivery
                    .as_ref()
                    .map_or(Decimal::ZERO, |d| d.total.amount()),
        ),
        delivery,
        delivery_promotions: eval
            .delivery
            .iter()
            .filter_map(|&(p, _)| delivery_promotion(&promotions[p]))
            .collect(),
        applied: eval
            .applied_amounts()
            .map(|(p, c)| {
                adjustment(
                    p,
                    round.decimal(c)
                        + gift_gross
                            .iter()
                            .filter(|(q, _)| *q == p)
                            .map(|(_, g)| *g)
                            .sum::<Decimal>(),
                )
            })
            .collect(),
        rejected: eval
            .rejected
            .iter()
            .map(|(p, r)| Rejection {
                promotion_id: promotions[*p].id.clone(),
                label: promotions[*p].label.clone(),
                code: r.code.to_owned(),
                reason: r.message.clone(),
            })
            .collect(),
        coupons,
        hints: Vec::new(),
        lines: out,
    })
}

fn delivery_promotion(p: &promotion::Promotion) -> Option<DeliveryPromotion> {
    match &p.action {
        promotion::Action::DeliveryDiscount { discount } => Some(DeliveryPromotion {
            promotion_id: p.id.clone(),
            label: p.label.clone(),
            discount: discount.clone(),
        }),
        _ => None,
    }
}

/// Each order discount shared over the lines by their remaining value (largest remainder).
fn allocate_order(lines: &[Line], nets: &[Cents], eval: &Evaluation) -> Vec<Cents> {
    let mut shares = vec![0; lines.len()];
    let keys: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    for &(_, d) in &eval.order_adjustments {
        let weights: Vec<Cents> = nets.iter().zip(&shares).map(|(n, s)| n - s).collect();
        for (share, part) in shares.iter_mut().zip(allocate_cents(d, &weights, &keys)) {
            *share += part;
        }
    }
    shares
}

/// Tax per line: contained in the price (inclusive) or added to it, rounded per line.
/// `rate` is the snapshot's rate for the region and the line's tax class.
fn tax_of(
    snapshot: &Snapshot,
    region: &str,
    rate: Option<Decimal>,
    taxable: Decimal,
    inclusive: bool,
    round: Round,
) -> Result<Decimal, QuoteError> {
    if snapshot.pricing().tax_rates.is_empty() {
        return Ok(Decimal::ZERO);
    }
    let rate = rate.ok_or_else(|| QuoteError::UnknownRegion(region.to_owned()))?;
    if let Some(tax) =
        crate::exact::tax(taxable, rate, inclusive, round.minor_units, round.strategy)
    {
        return Ok(tax);
    }
    let tax = if inclusive {
        taxable * rate / (Decimal::ONE + rate)
    } else {
        taxable * rate
    };
    Ok(round.apply(tax))
}

/// Near misses of the evaluation, resolved to "spend this much more" or "add this item".
fn near_misses<'s>(eval: &Evaluation<'s>) -> Vec<Near<'s>> {
    let mut out = Vec::new();
    for (p, gap) in &eval.gaps {
        let next_tier = matches!(gap, Gap::NextTier { .. });
        if (eval.applied.contains(p) && !next_tier) || out.iter().any(|n: &Near| n.promotion == *p)
        {
            continue;
        }
        let near = match gap {
            Gap::Subtotal { missing } | Gap::NextTier { missing } => Near {
                promotion: *p,
                missing_amount: Some(*missing),
                add: None,
            },
            Gap::Quantity { target, missing } => Near {
                promotion: *p,
                missing_amount: None,
                add: Some((*target, *missing)),
            },
            Gap::Contains { target } | Gap::ActionTarget { target } => Near {
                promotion: *p,
                missing_amount: None,
                add: Some((*target, 1)),
            },
        };
        out.push(near);
    }
    out
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

fn hints(
    snapshot: &Snapshot,
    cart: &Cart,
    context: &QuoteContext,
    quote: &Quote,
    near: &[Near],
    priced: Priced,
    matches: &Matches,
) -> Result<Vec<UpsellHint>, QuoteError> {
    let currency = quote.currency;
    let round = round_for(snapshot, currency);
    let money = |d: Decimal| Money::rounded(d, currency, round.strategy);
    let mut hints = Vec::new();
    let mut simulated = 0;
    // The shopper's lines' net, for what an order discount would take off at its threshold.
    let mut net = None;
    for n in near {
        let promo = &snapshot.promotions()[n.promotion];
        let hint = if let Some(missing) = n.missing_amount {
            let saving = match promo.class() {
                DiscountClass::Order => {
                    // What it would take off at the threshold, less what it takes off already.
                    let net = *net.get_or_insert_with(|| {
                        quote
                            .lines
                            .iter()
                            .filter(|l| !l.gift)
                            .map(|l| l.net.amount())
                            .sum::<Decimal>()
                    });
                    let base = round.cents(net).saturating_add(missing);
                    let now = quote
                        .order_adjustments
                        .iter()
                        .filter(|a| a.promotion_id == promo.id)
                        .map(|a| a.amount.amount())
                        .sum::<Decimal>();
                    Some(money(
                        round.decimal(order_discount(base, &promo.action, round)) - now,
                    ))
                }
                DiscountClass::Delivery => {
                    context.delivery_charge.map(|c| money(c.0)).filter(|_| {
                        matches!(
                            &promo.action,
                            promotion::Action::DeliveryDiscount {
                                discount: DeliveryDiscount::Free
                            }
                        )
                    })
                }
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
        } else if let Some((target, quantity)) = n.add {
            if simulated == MAX_SIMULATED_HINTS {
                continue;
            }
            let Some(sku) = cheapest(snapshot, context.channel, currency, target) else {
                continue;
            };
            simulated += 1;
            let Some(saving) = simulate(
                snapshot,
                cart,
                context,
                priced,
                matches,
                n.promotion,
                &sku,
                quantity,
            )?
            else {
                continue;
            };
            let name = snapshot.display_name(&sku);
            let message = format!(
                "Add {name}: save {} {currency} ({})",
                saving.amount(),
                promo.label
            );
            let add = Some(Suggestion {
                sku,
                name,
                quantity,
            });
            UpsellHint {
                promotion_id: promo.id.clone(),
                label: promo.label.clone(),
                message,
                missing_amount: None,
                add,
                saving: Some(saving),
            }
        } else {
            continue;
        };
        hints.push((n.promotion, hint));
    }
    // Highest saving first; ties by promotion id, so the order of promotions in the snapshot
    // never shows through.
    crate::sort::sort_vec(&mut hints, &|(_, a), (_, b)| {
        b.saving
            .map(|m| m.amount())
            .cmp(&a.saving.map(|m| m.amount()))
            .then_with(|| a.promotion_id.cmp(&b.promotion_id))
    });
    Ok(hints.into_iter().map(|(_, h)| h).take(MAX_HINTS).collect())
}

/// What promotion `promotion` would save if the shopper added `quantity` of `sku`; None if it
/// still would not apply or the cart cannot take the item.
/// One run of that promotion alone on the cart with the item added: cheap enough to do for
/// several hints on every edit, on the quote's priced lines: an item not in the cart yet is one
/// more line after them; more of one in the cart changes its line's quantity and its services'.
fn simulate(
    snapshot: &Snapshot,
    cart: &Cart,
    context: &QuoteContext,
    (lines, units, parents, codes): Priced,
    matches: &Matches,
    promotion: usize,
    sku: &Sku,
    quantity: u32,
) -> Result<Option<Money>, QuoteError> {
    let Ok(quantity) = Quantity::new(quantity.into()) else {
        return Ok(None);
    };
    let currency = context.currency.unwrap_or(snapshot.currency());
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
            Ok((line, _)) => with.push(line),
            Err(_) => return Ok(None),
        },
    }
    let targets = snapshot.promotions()[promotion].targets();
    let input = input_for(
        snapshot,
        &with,
        Matches::after(matches, &with, &targets),
        context,
        codes,
        currency,
    );
    if !within_limit(&with, input.delivery_charge) {
        return Ok(None);
    }
    let saving = promotion::alone(&input, promotion);
    Ok((saving != 0)
        .then(|| Money::rounded(input.round.decimal(saving), currency, input.round.strategy)))
}
