//! Properties of quotes over random carts, promotion sets, coupons and contexts:
//! sums are exact and never negative, the result does not depend on the order of lines or of
//! promotions, and entering a coupon never makes the total higher (a shopper can decline it).

mod common;

use common::{check_sums, library, snapshot_with};
use omnicart_engine::{Cart, QuoteContext, Snapshot, quote};
use proptest::prelude::*;
use serde_json::{Value, json};

const SKUS: &[&str] = &[
    "TV-55", "TV-65", "PS5", "XBOX", "CBL-A", "CBL-B", "CBL-C", "MOUNT", "INSTALL", "STICKER",
];
const CODES: &[&str] = &["SAVE10", "OLD", "SOON", "BIG"];

#[derive(Debug, Clone)]
struct Input {
    promotions: Vec<String>,
    lines: Vec<(usize, u32)>,
    coupons: Vec<String>,
    context: Value,
}

fn input() -> impl Strategy<Value = Input> {
    let ids: Vec<String> = library()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    let promotions = prop::sample::subsequence(ids, 0..=14);
    let lines = prop::collection::vec((0..SKUS.len(), 1u32..=6), 0..8);
    let coupons = prop::sample::subsequence(
        CODES.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        0..=3,
    );
    let context = (
        any::<bool>(),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec!["0.00", "4.90", "19.99"])),
        any::<bool>(),
    )
        .prop_map(|(vip, first, charge, store)| {
            json!({
                "now": "2026-11-22T12:00:00Z",
                "segments": if vip { vec!["vip"] } else { vec![] },
                "first_order": first,
                "delivery_charge": charge,
                "channel": if store { "store" } else { "web" },
            })
        });
    (promotions, lines, coupons, context).prop_map(|(promotions, lines, coupons, context)| Input {
        promotions,
        lines,
        coupons,
        context,
    })
}

fn cart(lines: &[(usize, u32)], coupons: &[String]) -> Cart {
    let mut seen = Vec::new();
    let lines: Vec<Value> = lines
        .iter()
        .filter(|(s, _)| {
            if seen.contains(s) {
                false
            } else {
                seen.push(*s);
                true
            }
        })
        .map(|(s, q)| json!({"sku": SKUS[*s], "quantity": q}))
        .collect();
    serde_json::from_value(json!({"lines": lines, "coupons": coupons})).unwrap()
}

fn snapshot(ids: &[String]) -> Snapshot {
    snapshot_with(&library(), ids, &Value::Null)
}

fn context(v: &Value) -> QuoteContext {
    serde_json::from_value(v.clone()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn sums_are_exact_and_never_negative(input in input()) {
        let q = quote(&snapshot(&input.promotions), &cart(&input.lines, &input.coupons), &context(&input.context)).unwrap();
        check_sums("property", &q);
    }

    #[test]
    fn tax_lines_carry_each_lines_rate_and_sum_to_the_tax_total(input in input(), austria in any::<bool>()) {
        let snapshot = snapshot(&input.promotions);
        let mut ctx = context(&input.context);
        let region = if austria { "AT" } else { "DE" };
        ctx.region = Some(region.to_owned());
        let q = quote(&snapshot, &cart(&input.lines, &input.coupons), &ctx).unwrap();
        for l in q.lines.iter().filter(|l| !l.gift) {
            let class = &snapshot.variant(&l.sku).unwrap().0.tax_class;
            prop_assert_eq!(Some(l.tax_rate), snapshot.tax_rate(region, class), "{}", l.sku);
        }
        let taxes = q.tax_lines().unwrap();
        let sum = taxes.iter().try_fold(omnicart_engine::Money::zero(q.currency), |a, t| a.checked_add(t.tax)).unwrap();
        prop_assert_eq!(sum, q.tax_total);
        for t in &taxes {
            let at_rate = q.lines.iter().filter(|l| !l.gift && l.tax_rate == t.rate).count();
            prop_assert!(at_rate > 0, "a tax line without a line at {}", t.rate);
        }
    }

    #[test]
    fn order_of_lines_and_promotions_does_not_matter(input in input(), seed in any::<u64>()) {
        let ctx = context(&input.context);
        let a = quote(&snapshot(&input.promotions), &cart(&input.lines, &input.coupons), &ctx).unwrap();
        let mut promotions = input.promotions.clone();
        shuffle(&mut promotions, seed);
        // The same lines (first occurrence of each SKU), in another order.
        let dedup = |v: &[(usize, u32)]| { let mut s = Vec::new(); v.iter().filter(|(k, _)| if s.contains(k) { false } else { s.push(*k); true }).copied().collect::<Vec<_>>() };
        let mut lines: Vec<(usize, u32)> = dedup(&input.lines);
        shuffle(&mut lines, seed.rotate_left(17));
        let b = quote(&snapshot(&promotions), &cart(&lines, &input.coupons), &ctx).unwrap();
        prop_assert_eq!(a.total, b.total);
        prop_assert_eq!(a.tax_total, b.tax_total);
        prop_assert_eq!(a.discount_total, b.discount_total);
        let by_sku = |q: &omnicart_engine::Quote| { let mut v: Vec<_> = q.lines.iter().map(|l| (l.sku.clone(), l.gift, l.total, l.adjustments.clone())).collect(); v.sort_by(|x, y| (&x.0, x.1).cmp(&(&y.0, y.1))); v };
        prop_assert_eq!(by_sku(&a), by_sku(&b));
        let ids = |q: &omnicart_engine::Quote| { let mut v: Vec<_> = q.applied.iter().map(|x| (x.promotion_id.clone(), x.amount)).collect(); v.sort_by(|x, y| x.0.cmp(&y.0)); v };
        prop_assert_eq!(ids(&a), ids(&b));
        prop_assert_eq!(a.rejected, b.rejected);
        prop_assert_eq!(a.hints, b.hints);
    }

    #[test]
    fn a_coupon_never_makes_the_total_higher(input in input(), extra in prop::sample::select(CODES.to_vec())) {
        let snapshot = snapshot(&input.promotions);
        let ctx = context(&input.context);
        let without = quote(&snapshot, &cart(&input.lines, &input.coupons), &ctx).unwrap();
        let mut more = input.coupons.clone();
        more.push(extra.to_string());
        let with = quote(&snapshot, &cart(&input.lines, &more), &ctx).unwrap();
        prop_assert!(with.total.amount() <= without.total.amount(), "{} > {} adding {}", with.total, without.total, extra);
    }
}

/// A small deterministic shuffle (Fisher–Yates over an xorshift sequence).
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}
