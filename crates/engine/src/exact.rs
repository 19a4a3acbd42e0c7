//! Exact integer arithmetic for hot paths: the quote's per-line tax and allocation, and the
//! delivery search's saturating products. Amounts are held as `i64` counts of a power-of-ten
//! unit, so a ratio is rounded once, exactly, with the
//! snapshot's strategy. `rust_decimal` gives the same results but costs far more in Wasm, where
//! its 96-bit multiplications and divisions are emulated (`i64` is native there, and `i128`
//! would pull in emulation code too); callers fall back to decimals when a product does not
//! fit, which real carts never reach (9.2 × 10^18 minor units).

use rust_decimal::{Decimal, RoundingStrategy};

/// `d` as a count of 10^-`scale` units, if that is exact and fits.
pub(crate) fn scaled(d: Decimal, scale: u32) -> Option<i64> {
    let s = d.scale();
    if s > scale {
        return None;
    }
    i64::try_from(d.mantissa())
        .ok()?
        .checked_mul(10i64.checked_pow(scale - s)?)
}

/// `num / den` for `num ≥ 0`, `den > 0`, rounded to an integer with `strategy` (None outside
/// that domain).
pub(crate) fn div_round(num: i64, den: i64, strategy: RoundingStrategy) -> Option<i64> {
    if num < 0 || den <= 0 {
        return None;
    }
    let (q, r) = (num / den, num % den);
    Some(q + i64::from(round_up(r > 0, r.cmp(&(den - r)), q % 2 == 1, strategy)))
}

/// [`div_round`] for products beyond `i64`.
fn div_round_wide(num: i128, den: i128, strategy: RoundingStrategy) -> Option<i128> {
    if num < 0 || den <= 0 {
        return None;
    }
    let (q, r) = (num / den, num % den);
    Some(q + i128::from(round_up(r > 0, r.cmp(&(den - r)), q % 2 == 1, strategy)))
}

/// Whether a quotient goes up one, from its remainder (`inexact`: the remainder is not zero;
/// `half`: the remainder against the rest of the divisor) and whether it is odd.
// rust_decimal's deprecated names (`RoundHalfUp`, `BankersRounding`, …) are still variants of
// `RoundingStrategy`: each is matched with the strategy it names, so the match is exhaustive
// without a catch-all that a new strategy could fall into unnoticed.
#[allow(deprecated)]
fn round_up(
    inexact: bool,
    half: std::cmp::Ordering,
    odd: bool,
    strategy: RoundingStrategy,
) -> bool {
    use std::cmp::Ordering::{Equal, Greater};
    match strategy {
        RoundingStrategy::ToZero
        | RoundingStrategy::ToNegativeInfinity
        | RoundingStrategy::RoundDown => false,
        RoundingStrategy::AwayFromZero
        | RoundingStrategy::ToPositiveInfinity
        | RoundingStrategy::RoundUp => inexact,
        RoundingStrategy::MidpointAwayFromZero | RoundingStrategy::RoundHalfUp => {
            half != std::cmp::Ordering::Less
        }
        RoundingStrategy::MidpointTowardZero | RoundingStrategy::RoundHalfDown => half == Greater,
        RoundingStrategy::MidpointNearestEven | RoundingStrategy::BankersRounding => {
            half == Greater || (half == Equal && odd)
        }
    }
}

/// `a × num / den` for `a, num ≥ 0`, `den > 0`, rounded with `strategy`: in `i64` when the
/// product fits, in `i128` when not. None if the result does not fit an `i64` (never for a
/// share or a percentage up to 100 of `a`).
pub(crate) fn mul_div_int(a: i64, num: i64, den: i64, strategy: RoundingStrategy) -> Option<i64> {
    match a.checked_mul(num) {
        Some(n) => div_round(n, den, strategy),
        None => i64::try_from(div_round_wide(
            i128::from(a) * i128::from(num),
            i128::from(den),
            strategy,
        )?)
        .ok(),
    }
}

/// `taxable × rate` (or, where prices include tax, the tax contained in `taxable`:
/// `taxable × rate / (1 + rate)`) rounded to `minor_units` with `strategy`; None when the
/// amounts do not fit the exact path.
pub(crate) fn tax(
    taxable: Decimal,
    rate: Decimal,
    inclusive: bool,
    minor_units: u32,
    strategy: RoundingStrategy,
) -> Option<Decimal> {
    let t = scaled(taxable, minor_units)?;
    let (r, one) = (
        i64::try_from(rate.mantissa()).ok()?,
        10i64.checked_pow(rate.scale())?,
    );
    let den = if inclusive { one.checked_add(r)? } else { one };
    let cents = div_round(t.checked_mul(r)?, den, strategy)?;
    Some(Decimal::new(cents, minor_units))
}

/// `a × b`, saturating. Both under 2³² (grams, units, minor units, days: nearly always) take a
/// plain multiply: the overflow check otherwise costs a 128-bit multiply, emulated in Wasm.
#[inline]
pub(crate) fn mul_sat_u64(a: u64, b: u64) -> u64 {
    if (a | b) >> 32 == 0 {
        a * b
    } else {
        a.saturating_mul(b)
    }
}

/// `a × b`, saturating; a plain multiply when both are under 2³¹ in magnitude.
#[inline]
pub(crate) fn mul_sat_i64(a: i64, b: i64) -> i64 {
    if (a.unsigned_abs() | b.unsigned_abs()) >> 31 == 0 {
        a * b
    } else {
        a.saturating_mul(b)
    }
}

/// `a × qa` against `b × qb`: unit prices compared without dividing (`a`, `b` amounts, `qa`,
/// `qb` quantities). Plain `i64` products when the amounts are under 2³¹ in magnitude; `i128`
/// otherwise.
#[inline]
pub(crate) fn cross_cmp(a: i64, qa: u32, b: i64, qb: u32) -> std::cmp::Ordering {
    if (a.unsigned_abs() | b.unsigned_abs()) >> 31 == 0 {
        (a * i64::from(qa)).cmp(&(b * i64::from(qb)))
    } else {
        (i128::from(a) * i128::from(qa)).cmp(&(i128::from(b) * i128::from(qb)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn saturating_products_take_the_fast_path_only_when_exact() {
        use super::{mul_sat_i64, mul_sat_u64};
        for (a, b) in [
            (0u64, u64::MAX),
            (u32::MAX as u64, u32::MAX as u64),
            (1 << 32, 1 << 32),
            (3, 1 << 62),
            (12_345, 678_901),
        ] {
            assert_eq!(mul_sat_u64(a, b), a.saturating_mul(b), "{a} × {b}");
        }
        for (a, b) in [
            (-(1i64 << 30), 1 << 30),
            (i64::MIN, 2),
            (-3, i64::MAX),
            ((1 << 31) - 1, -((1 << 31) - 1)),
            (1 << 31, 1 << 31),
            (-7, 9),
        ] {
            assert_eq!(mul_sat_i64(a, b), a.saturating_mul(b), "{a} × {b}");
        }
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cross_products_compare_like_wide_ones() {
        let big = 1i64 << 40;
        for (a, qa, b, qb) in [
            (0, 1, 0, 1),
            (5, 3, 3, 5),
            (7, 2, 3, 5),
            ((1 << 31) - 1, u32::MAX, (1 << 31) - 1, u32::MAX - 1),
            (big, 1, 1, u32::MAX),
            (3, 999, big, 1),
            (i64::MAX, 999, i64::MAX, 998),
        ] {
            assert_eq!(
                cross_cmp(a, qa, b, qb),
                (i128::from(a) * i128::from(qa)).cmp(&(i128::from(b) * i128::from(qb))),
                "{a}×{qa} vs {b}×{qb}"
            );
        }
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn rounds_ratios_like_decimals_do() {
        let half_up = RoundingStrategy::MidpointAwayFromZero;
        let even = RoundingStrategy::MidpointNearestEven;
        assert_eq!(div_round(5, 2, half_up), Some(3));
        assert_eq!(div_round(5, 2, even), Some(2));
        assert_eq!(div_round(7, 2, even), Some(4));
        assert_eq!(div_round(1, 3, RoundingStrategy::AwayFromZero), Some(1));
        assert_eq!(div_round(-1, 3, half_up), None);
        // 19 % VAT in 899.00 is 143.54 (143.5378…).
        assert_eq!(
            tax(d("899.00"), d("0.19"), true, 2, half_up),
            Some(d("143.54"))
        );
        assert_eq!(
            tax(d("0.03"), d("0.20"), true, 2, half_up),
            Some(d("0.01")),
            "0.005 exactly rounds up"
        );
        assert_eq!(
            tax(d("0.03"), d("0.20"), true, 2, even),
            Some(d("0.00")),
            "and to even"
        );
        assert_eq!(
            tax(d("10.01"), d("0.07"), false, 2, half_up),
            Some(d("0.70"))
        );
    }

    #[test]
    fn integer_ratios_beyond_i64_products_are_exact() {
        let half_up = RoundingStrategy::MidpointAwayFromZero;
        // 9.2 × 10^18 × 3 / 7 overflows the product but not the result.
        let a = i64::MAX / 2;
        let want = (i128::from(a) * 3 + 3) / 7;
        assert_eq!(
            mul_div_int(a, 3, 7, half_up),
            Some(i64::try_from(want).unwrap())
        );
        assert_eq!(mul_div_int(1_000, 1_550, 10_000, half_up), Some(155));
        assert_eq!(
            mul_div_int(5, 1, 2, RoundingStrategy::MidpointNearestEven),
            Some(2)
        );
        assert_eq!(
            mul_div_int(i64::MAX, 3, 1, half_up),
            None,
            "a result beyond i64"
        );
    }

    proptest! {
        /// Percentages and shares of an amount agree with rust_decimal.
        #[test]
        fn mul_div_matches_decimal_arithmetic(cents in 0i64..10_000_000_000, percent in prop::sample::select(vec!["15", "20", "33.33", "50", "100", "12.5", "0"]),
                                              k in 1i64..50, extra in 0i64..50, even in any::<bool>()) {
            let strategy = if even { RoundingStrategy::MidpointNearestEven } else { RoundingStrategy::MidpointAwayFromZero };
            let amount = Decimal::new(cents, 2);
            let p = d(percent);
            let want = (amount * (p / Decimal::ONE_HUNDRED)).round_dp_with_strategy(2, strategy);
            let den = 100 * 10i64.pow(p.scale());
            let in_cents = |c: i64| Decimal::new(c, 2);
            prop_assert_eq!(mul_div_int(cents, i64::try_from(p.mantissa()).unwrap(), den, strategy).map(in_cents), Some(want));
            let n = k + extra;
            let want = (amount * Decimal::from(k) / Decimal::from(n)).round_dp_with_strategy(2, strategy);
            prop_assert_eq!(mul_div_int(cents, k, n, strategy).map(in_cents), Some(want));
        }

        /// The exact path agrees with rust_decimal on every amount a quote can meet.
        #[test]
        fn tax_matches_decimal_arithmetic(cents in 0i64..10_000_000_000, rate in prop::sample::select(vec!["0.19", "0.07", "0.20", "0.10", "0.055", "0.2", "0.0", "0.25", "0.081"]),
                                          inclusive in any::<bool>(), even in any::<bool>()) {
            let strategy = if even { RoundingStrategy::MidpointNearestEven } else { RoundingStrategy::MidpointAwayFromZero };
            let (taxable, rate) = (Decimal::new(cents, 2), d(rate));
            let decimal = if inclusive { taxable * rate / (Decimal::ONE + rate) } else { taxable * rate }.round_dp_with_strategy(2, strategy);
            prop_assert_eq!(tax(taxable, rate, inclusive, 2, strategy), Some(decimal));
        }
    }
}
