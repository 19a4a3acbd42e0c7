//! Pricing: a cart turned into priced lines ([`PricedLines`], each a [`Line`] in [`Cents`]),
//! the conversions between [`Money`] and `Cents` with the snapshot's rounding ([`Round`]), the
//! limit a quote's amounts stay under, and what can go wrong doing it ([`QuoteError`]).
//!
//! The bottom of the quoting stack, below `promotion` and `quote`: it reads the catalogue,
//! money and the context, never a promotion's plan or a quote. `promotion` computes on its
//! lines (and prices the item a hint suggests with it); `quote` prices the cart with it,
//! evaluates the promotions on the priced lines and writes the result. (The promotion *model*,
//! such as `Channel`, is data the catalogue and the context hold; the dependency meant here is
//! on the engine that evaluates it.)

use rust_decimal::{Decimal, RoundingStrategy};

use crate::ErrorCode;
use crate::cart::Cart;
use crate::catalogue::{Product, Snapshot};
use crate::context::QuoteContext;
use crate::money::{Currency, Money, MoneyError};
use crate::sku::Sku;

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

/// An amount in the quote currency's minor unit (cents, pence, yen). Promotions compute in
/// these integers: exact, and far cheaper than decimals in Wasm, where 96-bit decimal
/// arithmetic is emulated. A quote refuses a cart whose sum does not fit ([`MAX_CENTS`]).
pub(crate) type Cents = i64;

/// A priced cart line, as promotions see it.
#[derive(Clone)]
pub(crate) struct Line<'a> {
    pub sku: &'a Sku,
    pub product: &'a Product,
    pub quantity: u32,
    pub gross: Cents,
}

/// Rounding for every amount a quote or a promotion computes: the currency's minor unit and
/// the snapshot's named strategy (see [`round_for`]).
#[derive(Clone, Copy)]
pub(crate) struct Round {
    pub minor_units: u32,
    pub strategy: RoundingStrategy,
}

impl Round {
    pub fn apply(self, d: Decimal) -> Decimal {
        d.round_dp_with_strategy(self.minor_units, self.strategy)
    }

    /// `d` in minor units, rounded with the strategy (an amount finer than the currency's
    /// minor unit, or a promotion's amount applied in a currency with fewer decimals);
    /// saturating, so a threshold beyond any cart stays out of reach.
    pub fn cents(self, d: Decimal) -> Cents {
        self.cents_with(d, self.strategy)
    }

    /// `d` in minor units, rounded up: a threshold ("spend at least 100.40" in yen is 101), so a
    /// subtotal in whole units reaches it exactly when it reaches the amount.
    pub fn cents_up(self, d: Decimal) -> Cents {
        self.cents_with(d, RoundingStrategy::ToPositiveInfinity)
    }

    /// `d` in minor units, rounded down: a limit (a cap or a budget), never exceeded.
    pub fn cents_down(self, d: Decimal) -> Cents {
        self.cents_with(d, RoundingStrategy::ToNegativeInfinity)
    }

    fn cents_with(self, d: Decimal, strategy: RoundingStrategy) -> Cents {
        crate::exact::scaled(d, self.minor_units).unwrap_or_else(|| {
            let rounded = d.round_dp_with_strategy(self.minor_units, strategy);
            crate::exact::scaled(rounded, self.minor_units).unwrap_or(if d.is_sign_negative() {
                Cents::MIN
            } else {
                Cents::MAX
            })
        })
    }

    /// Minor units as a decimal at the currency's scale.
    pub fn decimal(self, c: Cents) -> Decimal {
        Decimal::new(c, self.minor_units)
    }

    /// `amount × k / n` (`amount ≥ 0`, `k ≤ n`, `n > 0`), rounded.
    pub fn share(self, amount: Cents, k: u32, n: u32) -> Cents {
        crate::exact::mul_div_int(amount, i64::from(k), i64::from(n), self.strategy)
            .expect("a share of an amount fits where the amount does")
    }
}

/// A cart's lines priced for a quote: each line of goods followed by its attached services
/// (priced as lines of their own with the line's quantity, so promotions and allocation treat
/// them alike). The three vectors run in parallel, one entry per line: `lines` is what the
/// promotion engine reads as a slice.
pub(crate) struct PricedLines<'a> {
    pub lines: Vec<Line<'a>>,
    /// Each line's unit price.
    pub units: Vec<Money>,
    /// For an attached service, the SKU of the line it serves.
    pub parents: Vec<Option<&'a Sku>>,
}

/// Rounding to the currency's minor unit with the snapshot's named strategy.
pub(crate) fn round_for(snapshot: &Snapshot, currency: Currency) -> Round {
    Round {
        minor_units: currency.minor_units(),
        strategy: snapshot.pricing().rounding.strategy(),
    }
}

/// The cart's lines priced for the context's channel and currency.
pub(crate) fn priced_lines<'a>(
    snapshot: &'a Snapshot,
    cart: &'a Cart,
    context: &QuoteContext,
    currency: Currency,
) -> Result<PricedLines<'a>, QuoteError> {
    let count = cart.lines().len() + cart.lines().iter().map(|l| l.services.len()).sum::<usize>();
    let mut priced = PricedLines {
        lines: Vec::with_capacity(count),
        units: Vec::with_capacity(count),
        parents: Vec::with_capacity(count),
    };
    for l in cart.lines() {
        for (sku, parent) in
            std::iter::once((&l.sku, None)).chain(l.services.iter().map(|s| (s, Some(&l.sku))))
        {
            let PricedLine { line, unit } =
                priced_line(snapshot, sku, l.quantity.get(), context, currency)?;
            priced.lines.push(line);
            priced.units.push(unit);
            priced.parents.push(parent);
        }
    }
    Ok(priced)
}

/// One priced line and its unit price.
pub(crate) struct PricedLine<'a> {
    pub line: Line<'a>,
    pub unit: Money,
}

/// `quantity` of `sku` priced for the context's channel and currency.
pub(crate) fn priced_line<'a>(
    snapshot: &'a Snapshot,
    sku: &'a Sku,
    quantity: u32,
    context: &QuoteContext,
    currency: Currency,
) -> Result<PricedLine<'a>, QuoteError> {
    let (product, unit) = snapshot
        .priced(sku, context.channel, currency)
        .ok_or_else(|| QuoteError::UnknownSku(sku.clone()))?;
    let unit = unit.ok_or_else(|| QuoteError::NoPrice {
        sku: sku.clone(),
        currency,
    })?;
    let gross = cents(unit.checked_mul_quantity(quantity)?)?;
    Ok(PricedLine {
        line: Line {
            sku,
            product,
            quantity,
            gross,
        },
        unit,
    })
}

/// The most a quote's amounts may add up to, in minor units: a quarter of what an `i64`
/// holds (2.3 × 10^16 euros), so that the sums promotions compute (the cart, plus a delivery
/// charge) never overflow. No real cart comes near it; a cart that does gets `amount_overflow`.
const MAX_CENTS: Cents = Cents::MAX / 4;

/// An amount at its currency's minor unit, in minor units.
pub(crate) fn cents(m: Money) -> Result<Cents, QuoteError> {
    crate::exact::scaled(m.amount(), m.currency().minor_units())
        .filter(|c| c.abs() <= MAX_CENTS)
        .ok_or(QuoteError::Money(MoneyError::Overflow))
}

/// Whether the lines and the delivery charge add up to at most [`MAX_CENTS`].
pub(crate) fn within_limit(lines: &[Line], delivery_charge: Option<Cents>) -> bool {
    let sum = lines
        .iter()
        .try_fold(delivery_charge.unwrap_or(0), |sum, l| {
            sum.checked_add(l.gross)
        });
    sum.is_some_and(|s| s <= MAX_CENTS)
        && delivery_charge.is_none_or(|c| (0..=MAX_CENTS).contains(&c))
}
