//! Quotes: a cart priced for a context. Unit prices come from price lists, promotions are
//! applied by the rules in [`crate::promotion`], tax is computed per line, and the result is
//! explained line by line, with the promotions that did not apply and upsell hints (worked out
//! by `promotion::hints` from the priced lines and the evaluation).
//!
//! Dependencies run one way: `quote` → `promotion` → `pricing` (and `quote` → `pricing`). The
//! cart is priced by `pricing`, evaluated by `promotion` and written out here.
//!
//! Sums (the invariants the tests check):
//! - `line.net = line.gross − Σ line.adjustments`, never negative;
//! - order discounts are allocated to lines by largest remainder: `line.order_discount`;
//! - `line.total = line.net − line.order_discount` (+ `line.tax` where prices exclude tax);
//! - `total = Σ line.total + delivery.total`, exactly, to the minor unit.
//! - each line carries the `tax_rate` its tax was computed at; [`tax_lines`] sums the lines'
//!   tax per rate, and those sums add up to `tax_total`, exactly (the delivery charge is not
//!   taxed).
//!
//! The page quotes every edit with [`quote`]; the server quotes again with the same function at
//! order placement and its answer is final.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::allocate::allocate_cents;
use crate::cart::Cart;
use crate::catalogue::Snapshot;
pub use crate::context::{QuoteContext, Usage};
use crate::money::{Currency, Money, MoneyError};
pub use crate::pricing::QuoteError;
use crate::pricing::{Cents, Line, PricedLines, Round, priced_lines, round_for, within_limit};
pub use crate::promotion::MAX_HINTS;
use crate::promotion::{
    self, DeliveryDiscount, Evaluation, HintInput, Input, Matches, UpsellHint, normalize_code,
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
    /// The rate `tax` was computed at, as a decimal fraction (`0.19`): the snapshot's rate for
    /// the quote's region and the line's tax class; zero where the snapshot has no rates, and on
    /// a gift. A line stored before rates were recorded reads as zero.
    #[serde(default)]
    pub tax_rate: Decimal,
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

/// The tax charged at one rate: a line of the invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxLine {
    /// A decimal fraction, as the lines carry it (`0.19`).
    pub rate: Decimal,
    pub tax: Money,
}

impl Quote {
    /// The quote's tax per rate ([`tax_lines`]): they add up to `tax_total`.
    pub fn tax_lines(&self) -> Result<Vec<TaxLine>, MoneyError> {
        tax_lines(&self.lines)
    }
}

/// The tax of the shopper's lines (gifts carry none) summed per rate, lowest rate first, one
/// line per rate with any line at it. The sums are of each line's tax as quoted, so they add
/// up exactly to the quote's `tax_total`; nothing is taxed again. The delivery charge is not
/// taxed by the engine, so it has no line. Works on a stored order's lines alike.
pub fn tax_lines(lines: &[QuoteLine]) -> Result<Vec<TaxLine>, MoneyError> {
    let mut out: Vec<TaxLine> = Vec::new();
    for line in lines.iter().filter(|l| !l.gift) {
        // `Decimal` equality ignores scale: "0.19" and "0.190" are one rate.
        match out.iter_mut().find(|t| t.rate == line.tax_rate) {
            Some(t) => t.tax = t.tax.checked_add(line.tax)?,
            None => out.push(TaxLine {
                rate: line.tax_rate,
                tax: line.tax,
            }),
        }
    }
    crate::sort::sort_vec(&mut out, &|a, b| a.rate.cmp(&b.rate));
    Ok(out)
}

/// Quotes a cart. Pure: same snapshot, cart and context, same quote.
pub fn quote(
    snapshot: &Snapshot,
    cart: &Cart,
    context: &QuoteContext,
) -> Result<Quote, QuoteError> {
    let currency = context.currency.unwrap_or(snapshot.currency());
    let round = round_for(snapshot, currency);
    let priced = priced_lines(snapshot, cart, context, currency)?;
    let (codes, mut coupons) = entered_codes(snapshot, cart.coupons());
    let candidates =
        snapshot
            .promotion_index()
            .candidates(&priced.lines, &codes, snapshot.promotions().len());
    let input = Input::new(
        snapshot,
        &priced.lines,
        Matches::new(&priced.lines),
        context,
        &codes,
        currency,
    );
    if !within_limit(&priced.lines, input.delivery_charge) {
        return Err(QuoteError::Money(MoneyError::Overflow));
    }
    let eval = promotion::evaluate(&input, &candidates);
    coupons.extend(coupon_outcomes(snapshot, &codes, &eval));
    let amounts = Amounts {
        promotions: snapshot.promotions(),
        currency,
        round,
    };
    let mut quote = assemble(snapshot, context, &priced, &eval, &amounts, coupons)?;
    let hints = HintInput {
        snapshot,
        cart,
        context,
        currency,
        priced: &priced,
        codes: &codes,
        matches: &input.matches,
    };
    quote.hints = promotion::hints(&hints, &eval)?;
    Ok(quote)
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
            let why = eval
                .rejected
                .iter()
                .find(|r| mine(&r.promotion))
                .map(|r| &r.reason);
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

/// What writing a quote's amounts reads: its currency, its rounding and the promotions its
/// adjustments name.
struct Amounts<'a> {
    promotions: &'a [promotion::Promotion],
    currency: Currency,
    round: Round,
}

impl Amounts<'_> {
    /// A decimal amount as money, rounded to the minor unit with the snapshot's strategy.
    fn money(&self, d: Decimal) -> Money {
        Money::rounded(d, self.currency, self.round.strategy)
    }

    /// An amount in minor units as money.
    fn cents(&self, c: Cents) -> Money {
        self.money(self.round.decimal(c))
    }

    /// What promotion `p` took off.
    fn adjustment(&self, p: usize, d: Decimal) -> Adjustment {
        Adjustment {
            promotion_id: self.promotions[p].id.clone(),
            label: self.promotions[p].label.clone(),
            amount: self.money(d),
        }
    }
}

/// What a gift line is worth, for its promotion's applied amount (exact: a gift's worth in the
/// plan search saturates).
struct GiftWorth {
    promotion: usize,
    gross: Decimal,
}

/// The quote of an evaluated cart: its lines, then the totals and the promotions' outcomes.
fn assemble(
    snapshot: &Snapshot,
    context: &QuoteContext,
    priced: &PricedLines,
    eval: &Evaluation,
    a: &Amounts,
    coupons: Vec<CouponOutcome>,
) -> Result<Quote, QuoteError> {
    let mut lines = Vec::with_capacity(priced.lines.len() + eval.gifts.len());
    shopper_lines(snapshot, context, priced, eval, a, &mut lines)?;
    let gifts = gift_lines(snapshot, context, eval, a, &mut lines)?;
    let delivery = delivery_charge(context, eval, a);
    let shopper = || lines.iter().filter(|l| !l.gift);
    let sum = |f: &dyn Fn(&QuoteLine) -> Decimal| a.money(shopper().map(f).sum());
    let order_total = a
        .round
        .decimal(eval.order_adjustments.iter().map(|d| d.amount).sum());
    let delivery_off = delivery
        .as_ref()
        .map_or(Decimal::ZERO, |d| d.charge.amount() - d.total.amount());
    let line_discount_total = sum(&|l| l.gross.amount() - l.net.amount());
    Ok(Quote {
        currency: a.currency,
        snapshot_version: snapshot.version().to_owned(),
        prices_include_tax: snapshot.pricing().prices_include_tax,
        item_count: shopper().map(|l| l.quantity.get()).sum(),
        subtotal: sum(&|l| l.gross.amount()),
        discount_total: a.money(line_discount_total.amount() + order_total + delivery_off),
        line_discount_total,
        order_adjustments: eval
            .order_adjustments
            .iter()
            .map(|d| a.adjustment(d.promotion, a.round.decimal(d.amount)))
            .collect(),
        tax_total: sum(&|l| l.tax.amount()),
        total: a.money(
            shopper().map(|l| l.total.amount()).sum::<Decimal>()
                + delivery
                    .as_ref()
                    .map_or(Decimal::ZERO, |d| d.total.amount()),
        ),
        delivery,
        delivery_promotions: eval
            .delivery
            .iter()
            .filter_map(|d| delivery_promotion(&a.promotions[d.promotion]))
            .collect(),
        applied: applied(eval, a, &gifts),
        rejected: rejections(eval, a.promotions),
        coupons,
        hints: Vec::new(),
        lines,
    })
}

/// The shopper's lines (goods and attached services), discounted and taxed, in cart order.
fn shopper_lines(
    snapshot: &Snapshot,
    context: &QuoteContext,
    priced: &PricedLines,
    eval: &Evaluation,
    a: &Amounts,
    out: &mut Vec<QuoteLine>,
) -> Result<(), QuoteError> {
    let PricedLines {
        lines,
        units,
        parents,
    } = priced;
    let round = a.round;
    let mut nets: Vec<Cents> = lines.iter().map(|l| l.gross).collect();
    let mut line_adjustments: Vec<Vec<Adjustment>> = lines.iter().map(|_| Vec::new()).collect();
    for adjustment in &eval.line_adjustments {
        let i = adjustment.line;
        nets[i] -= adjustment.amount;
        line_adjustments[i]
            .push(a.adjustment(adjustment.promotion, round.decimal(adjustment.amount)));
    }
    let order_shares = allocate_order(lines, &nets, eval);
    let region = context
        .region
        .as_deref()
        .unwrap_or(&snapshot.pricing().default_region);
    let inclusive = snapshot.pricing().prices_include_tax;
    // Rates by tax class, looked up once per class (a cart has few classes).
    let mut rates: Vec<(&str, Option<Decimal>)> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let taxable = round.decimal(nets[i] - order_shares[i]);
        let class = l.product.tax_class.as_str();
        let rate = match rates.iter().find(|(c, _)| *c == class) {
            Some(&(_, rate)) => rate,
            None => {
                let rate = snapshot.tax_rate(region, class);
                rates.push((class, rate));
                rate
            }
        };
        let tax = tax_of(snapshot, region, rate, taxable, inclusive, round)?;
        // `tax_of` refused a missing rate where the snapshot has rates: none means no tax.
        let tax_rate = rate.unwrap_or(Decimal::ZERO);
        out.push(QuoteLine {
            sku: l.sku.clone(),
            product_id: l.product.id.clone(),
            name: snapshot.display_name(l.sku),
            quantity: Quantity::new(l.quantity.into()).expect("cart quantities are valid"),
            unit_price: units[i],
            gross: a.cents(l.gross),
            adjustments: std::mem::take(&mut line_adjustments[i]),
            net: a.cents(nets[i]),
            order_discount: a.cents(order_shares[i]),
            tax: a.money(tax),
            tax_rate,
            total: a.money(if inclusive { taxable } else { taxable + tax }),
            gift: false,
            attached_to: parents[i].cloned(),
        });
    }
    Ok(())
}

/// The gift lines promotions added (free: their worth is their adjustment), and what each is
/// worth.
fn gift_lines(
    snapshot: &Snapshot,
    context: &QuoteContext,
    eval: &Evaluation,
    a: &Amounts,
    out: &mut Vec<QuoteLine>,
) -> Result<Vec<GiftWorth>, QuoteError> {
    let currency = a.currency;
    let mut worth = Vec::new();
    for promotion::Gift {
        promotion: p,
        sku,
        quantity,
    } in &eval.gifts
    {
        let Some(unit) = snapshot.price_for(sku, context.channel, currency) else {
            continue;
        };
        let gross = unit.checked_mul_quantity(*quantity)?;
        worth.push(GiftWorth {
            promotion: *p,
            gross: gross.amount(),
        });
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
            adjustments: vec![a.adjustment(*p, gross.amount())],
            net: Money::zero(currency),
            order_discount: Money::zero(currency),
            tax: Money::zero(currency),
            tax_rate: Decimal::ZERO,
            total: Money::zero(currency),
            gift: true,
            attached_to: None,
        });
    }
    Ok(worth)
}

/// The delivery charge and its discounts, once the context carries a charge.
fn delivery_charge(
    context: &QuoteContext,
    eval: &Evaluation,
    a: &Amounts,
) -> Option<DeliveryCharge> {
    context.delivery_charge.map(|charge| {
        let charge = a.money(charge.0);
        let adjustments: Vec<Adjustment> = eval
            .delivery
            .iter()
            .filter(|d| d.amount != 0)
            .map(|d| a.adjustment(d.promotion, a.round.decimal(d.amount)))
            .collect();
        let off = a
            .round
            .decimal(eval.delivery.iter().map(|d| d.amount).sum());
        DeliveryCharge {
            total: a.money(charge.amount() - off),
            charge,
            adjustments,
        }
    })
}

/// The promotions applied, with what each saved (its gifts' worth included).
fn applied(eval: &Evaluation, a: &Amounts, gifts: &[GiftWorth]) -> Vec<Adjustment> {
    eval.applied_amounts()
        .map(|d| {
            let gifts: Decimal = gifts
                .iter()
                .filter(|g| g.promotion == d.promotion)
                .map(|g| g.gross)
                .sum();
            a.adjustment(d.promotion, a.round.decimal(d.amount) + gifts)
        })
        .collect()
}

fn rejections(eval: &Evaluation, promotions: &[promotion::Promotion]) -> Vec<Rejection> {
    eval.rejected
        .iter()
        .map(|r| Rejection {
            promotion_id: promotions[r.promotion].id.clone(),
            label: promotions[r.promotion].label.clone(),
            code: r.reason.code.to_owned(),
            reason: r.reason.message.clone(),
        })
        .collect()
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
    for &promotion::Discount { amount: d, .. } in &eval.order_adjustments {
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
