//! Exact allocation: split an amount across weights so the parts add up to the amount exactly.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::sort::sort_vec;

/// Splits `total` (at `minor_units` precision, non-negative) across `weights` (non-negative)
/// by the largest remainder method: each part is its proportional share rounded down to the
/// minor unit, and the minor units left over go one each to the largest remainders; ties go to
/// the smaller `key`, so the result does not depend on the order of the inputs.
/// All-zero weights share equally. The parts always sum exactly to `total`.
pub fn allocate(total: Decimal, weights: &[Decimal], keys: &[&str], minor_units: u32) -> Vec<Decimal> {
    assert_eq!(weights.len(), keys.len(), "one key per weight");
    if weights.is_empty() {
        return Vec::new();
    }
    let scale = Decimal::from(10u64.pow(minor_units));
    let units = (total * scale).round_dp_with_strategy(0, RoundingStrategy::ToZero);
    let sum: Decimal = weights.iter().sum();
    let equal = sum.is_zero();
    let weight = |i: usize| if equal { Decimal::ONE } else { weights[i] };
    let sum = if equal { Decimal::from(weights.len()) } else { sum };
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for i in 0..weights.len() {
        let exact = units * weight(i) / sum;
        let floor = exact.floor();
        parts.push(floor);
        remainders.push((exact - floor, i));
    }
    let mut left = units - parts.iter().sum::<Decimal>();
    sort_vec(&mut remainders, &|a, b| b.0.cmp(&a.0).then_with(|| keys[a.1].cmp(keys[b.1])).then(a.1.cmp(&b.1)));
    for &(_, i) in &remainders {
        if left <= Decimal::ZERO {
            break;
        }
        parts[i] += Decimal::ONE;
        left -= Decimal::ONE;
    }
    parts.into_iter().map(|p| p / scale).map(|p| p.round_dp(minor_units)).collect()
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
        let parts = allocate(d("0.05"), &[d("33.33"), d("33.33"), d("33.34")], &["a", "b", "c"], 2);
        assert_eq!(parts.iter().sum::<Decimal>(), d("0.05"));
    }

    #[test]
    fn ties_go_by_key_not_position() {
        let a = allocate(d("0.01"), &[d("1"), d("1")], &["y", "x"], 2);
        assert_eq!(a, vec![d("0"), d("0.01")]);
    }

    #[test]
    fn zero_weights_share_equally() {
        assert_eq!(allocate(d("1"), &[d("0"), d("0")], &["a", "b"], 0), vec![d("1"), d("0")]);
    }
}
