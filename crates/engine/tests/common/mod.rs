//! Shared by the promotion tests: case snapshots and the quote's arithmetic invariants.
#![allow(dead_code)]

use omnicart_engine::{Money, Quote, Snapshot};
use serde_json::{Value, json};

pub const LIBRARY: &str = include_str!("../data/promotion_cases.json");

/// All promotions of the case library.
pub fn library() -> Vec<Value> {
    let file: Value = serde_json::from_str(LIBRARY).unwrap();
    file["promotions"].as_array().unwrap().clone()
}

/// The promotion test catalogue with the chosen promotions of the library and pricing overrides.
pub fn snapshot_with(library: &[Value], uses: &[String], pricing: &Value) -> Snapshot {
    let mut base: Value =
        serde_json::from_str(include_str!("../data/promo_catalogue.json")).unwrap();
    let chosen: Vec<Value> = uses
        .iter()
        .map(|id| {
            library
                .iter()
                .find(|p| p["id"] == json!(id))
                .unwrap_or_else(|| panic!("no promotion {id}"))
                .clone()
        })
        .collect();
    base["promotions"] = Value::Array(chosen);
    if let Value::Object(overrides) = pricing {
        for (k, v) in overrides {
            base["pricing"][k] = v.clone();
        }
    }
    serde_json::from_value(base).expect("case snapshot is valid")
}

/// The quote's arithmetic: what the module docs of `quote.rs` promise, for every case.
pub fn check_sums(n: &str, q: &Quote) {
    let zero = Money::zero(q.currency);
    let add = |a: Money, b: Money| a.checked_add(b).unwrap();
    let mut lines_total = zero;
    let mut order_shares = zero;
    for l in q.lines.iter() {
        let adj = l.adjustments.iter().fold(zero, |a, x| add(a, x.amount));
        assert_eq!(
            l.gross.checked_sub(adj).unwrap(),
            l.net,
            "{n}: {} net = gross - adjustments",
            l.sku
        );
        let mut total = l.net.checked_sub(l.order_discount).unwrap();
        if !q.prices_include_tax {
            total = add(total, l.tax);
        }
        assert_eq!(total, l.total, "{n}: {} total", l.sku);
        assert!(
            !l.net.is_negative() && !l.total.is_negative() && !l.tax.is_negative(),
            "{n}: {} negative",
            l.sku
        );
        if !l.gift {
            lines_total = add(lines_total, l.total);
            order_shares = add(order_shares, l.order_discount);
        }
    }
    let order = q
        .order_adjustments
        .iter()
        .fold(zero, |a, x| add(a, x.amount));
    assert_eq!(
        order, order_shares,
        "{n}: order adjustments are fully allocated to lines"
    );
    let delivery = q.delivery.as_ref().map_or(zero, |d| d.total);
    assert_eq!(
        add(lines_total, delivery),
        q.total,
        "{n}: lines + delivery = total"
    );
    assert!(!q.total.is_negative(), "{n}: negative total");
    let taxes = q.tax_lines().unwrap();
    let by_rate = taxes.iter().fold(zero, |a, t| add(a, t.tax));
    assert_eq!(by_rate, q.tax_total, "{n}: tax lines sum to the tax total");
    assert!(
        taxes.windows(2).all(|w| w[0].rate < w[1].rate),
        "{n}: one tax line per rate, in rate order"
    );
}
