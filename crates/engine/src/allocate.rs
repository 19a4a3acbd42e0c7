//! Exact allocation: split an amount across weights so the parts add up to the amount exactly.

use std::ops::{Add, Div, Mul, Rem, Sub};

use rust_decimal::{Decimal, RoundingStrategy};

use crate::sort::sort_vec;

/// Splits `total` (at `minor_units` precision, non-negative) across `weights` (non-negative)
/// by the largest remainder method: each part is its proportional share rounded down to the
/// minor unit, and the minor units left over go one each to the largest remainders; ties go to
/// the smaller `key`, so the result does not depend on the order of the inputs.
/// All-zero weights share equally. The parts always sum exactly to `total`.
pub fn allocate(
    total: Decimal,
    weights: &[Decimal],
    keys: &[&str],
    minor_units: u32,
) -> Vec<Decimal> {
    assert_eq!(weights.len(), keys.len(), "one key per weight");
    if weights.is_empty() {
        return Vec::new();
    }
    exact(total, weights, keys, minor_units)
        .unwrap_or_else(|| decimal(total, weights, keys, minor_units))
}

/// [`allocate`] in integers: the weights counted in units of their finest decimal, each share
/// `units × w / Σw` split into a floor and a remainder compared exactly (the decimal version
/// compares remainders rounded to 28 digits). None if a product does not fit an `i64`.
fn exact(
    total: Decimal,
    weights: &[Decimal],
    keys: &[&str],
    minor_units: u32,
) -> Option<Vec<Decimal>> {
    if total.is_sign_negative() || weights.iter().any(|w| w.is_sign_negative()) {
        return None;
    }
    let units = crate::exact::scaled(
        total.round_dp_with_strategy(minor_units, RoundingStrategy::ToZero),
        minor_units,
    )?;
    let scale = weights.iter().map(|w| w.scale()).max().unwrap_or(0);
    let mut w = Vec::with_capacity(weights.len());
    for d in weights {
        w.push(crate::exact::scaled(*d, scale)?);
    }
    Some(
        largest_remainder(units, w, keys)?
            .into_iter()
            .map(|p| Decimal::new(p, minor_units))
            .collect(),
    )
}

/// [`allocate`] for amounts in minor units (the promotion engine's): `total` and `weights` ≥ 0.
pub(crate) fn allocate_cents(total: i64, weights: &[i64], keys: &[&str]) -> Vec<i64> {
    assert_eq!(weights.len(), keys.len(), "one key per weight");
    if weights.is_empty() {
        return Vec::new();
    }
    largest_remainder(total, weights.to_vec(), keys).unwrap_or_else(|| {
        // Products beyond i64 (never for a real cart): the same split in i128.
        let wide: Vec<i128> = weights.iter().map(|&w| i128::from(w)).collect();
        split(i128::from(total), &wide, keys)
            .into_iter()
            .map(|p| i64::try_from(p).expect("a part of an i64 total fits"))
            .collect()
    })
}

/// `units` shared across the integer weights `w` by largest remainder (ties by `key`); None if
/// a sum or product does not fit an `i64`.
fn largest_remainder(units: i64, w: Vec<i64>, keys: &[&str]) -> Option<Vec<i64>> {
    w.iter().try_fold(0i64, |a, b| a.checked_add(*b))?;
    units.checked_mul(w.iter().copied().max().unwrap_or(0).max(1))?;
    Some(split(units, &w, keys))
}

/// The integers [`split`] works in, `i64` and `i128`.
trait Int:
    Copy
    + Ord
    + From<i32>
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Rem<Output = Self>
{
}
impl Int for i64 {}
impl Int for i128 {}

/// Largest remainder: each part `units × w / Σw` rounded down, and the units left over one
/// each to the largest remainders (ties by key, then position). All-zero weights share
/// equally. The caller makes sure `units × w` and `Σw` fit `T`.
fn split<T: Int>(units: T, w: &[T], keys: &[&str]) -> Vec<T> {
    let (zero, one) = (T::from(0), T::from(1));
    let sum = w.iter().fold(zero, |a, &b| a + b);
    let (sum, weight) = if sum == zero {
        (T::from(w.len() as i32), None)
    } else {
        (sum, Some(w))
    };
    let mut parts = Vec::with_capacity(w.len());
    let mut remainders = Vec::with_capacity(w.len());
    for i in 0..w.len() {
        let n = units * weight.map_or(one, |w| w[i]);
        parts.push(n / sum);
        remainders.push((n % sum, i));
    }
    let mut left = parts.iter().fold(units, |left, &p| left - p);
    if left > zero {
        sort_vec(&mut remainders, &|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| keys[a.1].cmp(keys[b.1]))
                .then(a.1.cmp(&b.1))
        });
        for &(_, i) in &remainders {
            if left == zero {
                break;
            }
            parts[i] = parts[i] + one;
            left = left - one;
        }
    }
    parts
}

/// [`allocate`] in decimals, for amounts beyond [`exact`].
fn decimal(total: Decimal, weights: &[Decimal], keys: &[&str], minor_units: u32) -> Vec<Decimal> {
    let scale = Decimal::from(10u64.pow(minor_units));
    let units = (total * scale).round_dp_with_strategy(0, RoundingStrategy::ToZero);
    let sum: Decimal = weights.iter().sum();
    let equal = sum.is_zero();
    let weight = |i: usize| if equal { Decimal::ONE } else { weights[i] };
    let sum = if equal {
        Decimal::from(weights.len())
    } else {
        sum
    };
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for i in 0..weights.len() {
        let exact = units * weight(i) / sum;
        let floor = exact.floor();
        parts.push(floor);
        remainders.push((exact - floor, i));
    }
    let mut left = units - parts.iter().sum::<Decimal>();
    sort_vec(&mut remainders, &|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| keys[a.1].cmp(keys[b.1]))
            .then(a.1.cmp(&b.1))
    });
    for &(_, i) in &remainders {
        if left <= Decimal::ZERO {
            break;
        }
        parts[i] += Decimal::ONE;
        left -= Decimal::ONE;
    }
    parts
        .into_iter()
        .map(|p| p / scale)
        .map(|p| p.round_dp(minor_units))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn parts_sum_exactly() {
        let parts = allocate(d("10.00"), &[d("1"), d("1"), d("1")], &["a", "b", "c"], 2);
        assert_eq!(parts, vec![d("3.34"), d("3.33"), d("3.33")]);
        let parts = allocate(
            d("0.05"),
            &[d("33.33"), d("33.33"), d("33.34")],
            &["a", "b", "c"],
            2,
        );
        assert_eq!(parts.iter().sum::<Decimal>(), d("0.05"));
    }

    #[test]
    fn minor_units_split_as_decimals_do() {
        assert_eq!(
            allocate_cents(1000, &[1, 1, 1], &["a", "b", "c"]),
            vec![334, 333, 333]
        );
        assert_eq!(allocate_cents(1, &[1, 1], &["y", "x"]), vec![0, 1]);
        // Products beyond i64 take the decimal path and still sum exactly.
        let parts = allocate_cents(
            i64::MAX / 2,
            &[i64::MAX / 4, i64::MAX / 8, 3],
            &["a", "b", "c"],
        );
        assert_eq!(
            parts.iter().map(|&p| i128::from(p)).sum::<i128>(),
            i128::from(i64::MAX / 2)
        );
        assert!(parts[0] > parts[1] && parts[1] > parts[2]);
    }

    #[test]
    fn ties_go_by_key_not_position() {
        let a = allocate(d("0.01"), &[d("1"), d("1")], &["y", "x"], 2);
        assert_eq!(a, vec![d("0"), d("0.01")]);
    }

    proptest::proptest! {
        /// Parts sum to the total, each is its exact share rounded down or up by one minor
        /// unit, and the split does not depend on the order of the inputs.
        #[test]
        fn parts_are_exact_shares_in_any_order(total in 0i64..10_000_000, weights in proptest::collection::vec(0i64..1_000_000, 1..40), seed in 0usize..1000) {
            let total = Decimal::new(total, 2);
            let weights: Vec<Decimal> = weights.into_iter().map(|w| Decimal::new(w, 2)).collect();
            let keys: Vec<String> = (0..weights.len()).map(|i| format!("k{i:03}")).collect();
            let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let parts = allocate(total, &weights, &key_refs, 2);
            proptest::prop_assert_eq!(parts.iter().sum::<Decimal>(), total);
            let sum: Decimal = weights.iter().sum();
            for (p, w) in parts.iter().zip(&weights) {
                let share = if sum.is_zero() { total / Decimal::from(weights.len()) } else { total * w / sum };
                proptest::prop_assert!(*p >= (share * d("100")).floor() / d("100") && *p <= (share * d("100")).ceil() / d("100"), "{} for a share of {}", p, share);
            }
            // Rotated inputs, rotated outputs.
            let k = seed % weights.len();
            let (mut w2, mut k2) = (weights.clone(), key_refs.clone());
            w2.rotate_left(k);
            k2.rotate_left(k);
            let mut p2 = parts.clone();
            p2.rotate_left(k);
            proptest::prop_assert_eq!(allocate(total, &w2, &k2, 2), p2);
        }
    }

    #[test]
    fn the_decimal_fallback_splits_as_the_exact_path_does() {
        // Amounts past i64 take the decimal path; on ordinary ones both agree.
        let cases: [(&str, &[&str]); 3] = [
            ("10.00", &["1", "1", "1"]),
            ("0.05", &["33.33", "33.33", "33.34"]),
            ("1", &["0", "0"]),
        ];
        for (total, weights) in cases {
            let weights: Vec<Decimal> = weights.iter().map(|w| d(w)).collect();
            let keys: Vec<&str> = ["a", "b", "c"][..weights.len()].to_vec();
            assert_eq!(
                decimal(d(total), &weights, &keys, 2),
                exact(d(total), &weights, &keys, 2).unwrap(),
                "{total}"
            );
        }
        let huge = d("79228162514264337593543950.33");
        assert!(exact(huge, &[d("1"), d("2")], &["a", "b"], 2).is_none());
        let parts = allocate(huge, &[d("1"), d("2")], &["a", "b"], 2);
        assert_eq!(parts.iter().sum::<Decimal>(), huge);
    }

    #[test]
    fn zero_weights_share_equally() {
        assert_eq!(
            allocate(d("1"), &[d("0"), d("0")], &["a", "b"], 0),
            vec![d("1"), d("0")]
        );
    }
}
