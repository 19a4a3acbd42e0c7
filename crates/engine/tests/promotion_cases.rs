//! Table-driven promotion, tax and rounding cases with hand-computed results:
//! `data/promotion_cases.json` against `data/promo_catalogue.json`. Each case picks promotions
//! from the file's library; a new rule adds a row there. Every case also checks the quote's sums.

use std::collections::BTreeMap;

mod common;

use common::{check_sums, snapshot_with};
use omnicart_engine::{Cart, ErrorCode, Money, QuoteContext, quote};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct File {
    promotions: Vec<Value>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(rename = "use")]
    uses: Vec<String>,
    cart: Vec<(String, u32)>,
    #[serde(default)]
    coupons: Vec<String>,
    #[serde(default)]
    context: Value,
    #[serde(default)]
    pricing: Value,
    expect: Expect,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Expect {
    error: Option<String>,
    total: Option<String>,
    subtotal: Option<String>,
    discount_total: Option<String>,
    tax_total: Option<String>,
    /// `"rate:tax"` per rate, as the invoice lists them: `"0.07:5.17"`.
    tax_lines: Option<Vec<String>>,
    delivery_total: Option<String>,
    lines: Option<BTreeMap<String, LineExpect>>,
    applied: Option<Vec<String>>,
    rejected: Option<BTreeMap<String, String>>,
    coupons: Option<BTreeMap<String, String>>,
    hints: Option<Vec<String>>,
    gifts: Option<Vec<String>>,
    delivery_promotions: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineExpect {
    net: Option<String>,
    total: Option<String>,
    adj: Option<Vec<String>>,
}

fn amount(m: &Money) -> String {
    m.amount().to_string()
}

fn check(library: &[Value], case: &Case) {
    let n = &case.name;
    let snapshot = snapshot_with(library, &case.uses, &case.pricing);
    let lines: Vec<Value> = case
        .cart
        .iter()
        .map(|(s, q)| json!({"sku": s, "quantity": q}))
        .collect();
    let cart: Cart = serde_json::from_value(json!({"lines": lines, "coupons": case.coupons}))
        .expect("case cart");
    let mut context = json!({"now": "2026-11-22T12:00:00Z"});
    if let Value::Object(extra) = &case.context {
        for (k, v) in extra {
            context[k] = v.clone();
        }
    }
    let context: QuoteContext = serde_json::from_value(context).expect("case context");
    let e = &case.expect;
    let q = match (quote(&snapshot, &cart, &context), &e.error) {
        (Err(err), Some(code)) => return assert_eq!(err.code(), code, "{n}"),
        (Err(err), None) => panic!("{n}: {err}"),
        (Ok(_), Some(code)) => panic!("{n}: expected error {code}"),
        (Ok(q), None) => q,
    };
    check_sums(n, &q);
    let eq = |what: &str, got: String, want: &Option<String>| {
        if let Some(want) = want {
            assert_eq!(&got, want, "{n}: {what}");
        }
    };
    eq("total", amount(&q.total), &e.total);
    eq("subtotal", amount(&q.subtotal), &e.subtotal);
    eq(
        "discount_total",
        amount(&q.discount_total),
        &e.discount_total,
    );
    eq("tax_total", amount(&q.tax_total), &e.tax_total);
    if let Some(want) = &e.tax_lines {
        let got: Vec<String> = q
            .tax_lines()
            .unwrap()
            .iter()
            .map(|t| format!("{}:{}", t.rate, amount(&t.tax)))
            .collect();
        assert_eq!(&got, want, "{n}: tax lines");
    }
    eq(
        "delivery total",
        q.delivery
            .as_ref()
            .map(|d| amount(&d.total))
            .unwrap_or_default(),
        &e.delivery_total,
    );
    for (sku, want) in e.lines.iter().flatten() {
        let line = q
            .lines
            .iter()
            .find(|l| l.sku.as_str() == sku && !l.gift)
            .unwrap_or_else(|| panic!("{n}: no line {sku}"));
        eq(&format!("{sku} net"), amount(&line.net), &want.net);
        eq(&format!("{sku} total"), amount(&line.total), &want.total);
        if let Some(adj) = &want.adj {
            let got: Vec<String> = line
                .adjustments
                .iter()
                .map(|a| format!("{}:{}", a.promotion_id, amount(&a.amount)))
                .collect();
            assert_eq!(&got, adj, "{n}: {sku} adjustments");
        }
    }
    if let Some(applied) = &e.applied {
        let got: Vec<String> = q
            .applied
            .iter()
            .map(|a| format!("{}:{}", a.promotion_id, amount(&a.amount)))
            .collect();
        assert_eq!(&got, applied, "{n}: applied");
    }
    if let Some(rejected) = &e.rejected {
        let got: BTreeMap<String, String> = q
            .rejected
            .iter()
            .map(|r| (r.promotion_id.to_string(), r.code.clone()))
            .collect();
        if rejected.is_empty() {
            assert!(got.is_empty(), "{n}: expected no rejections, got {got:?}");
        }
        for (id, code) in rejected {
            assert_eq!(
                got.get(id),
                Some(code),
                "{n}: rejection of {id} (all: {got:?})"
            );
            let r = q.rejected.iter().find(|r| *r.promotion_id == **id).unwrap();
            assert!(
                !r.reason.is_empty() && !r.label.is_empty(),
                "{n}: reasons are readable"
            );
        }
    }
    if let Some(coupons) = &e.coupons {
        let got: BTreeMap<String, String> = q
            .coupons
            .iter()
            .map(|c| {
                (
                    c.code.clone(),
                    if c.applied {
                        "applied".into()
                    } else {
                        c.reason_code.clone().unwrap_or_default()
                    },
                )
            })
            .collect();
        assert_eq!(&got, coupons, "{n}: coupons");
        assert!(
            q.coupons
                .iter()
                .all(|c| c.applied || c.reason.as_ref().is_some_and(|r| !r.is_empty())),
            "{n}: every refusal says why"
        );
    }
    if let Some(hints) = &e.hints {
        let got: Vec<String> = q
            .hints
            .iter()
            .map(|h| {
                format!(
                    "{}:{}",
                    h.promotion_id,
                    h.saving.as_ref().map(amount).unwrap_or_else(|| "-".into())
                )
            })
            .collect();
        assert_eq!(&got, hints, "{n}: hints");
        assert!(
            q.hints.iter().all(|h| !h.message.is_empty()),
            "{n}: hint messages"
        );
    }
    if let Some(gifts) = &e.gifts {
        let got: Vec<String> = q
            .lines
            .iter()
            .filter(|l| l.gift)
            .map(|l| l.sku.to_string())
            .collect();
        assert_eq!(&got, gifts, "{n}: gifts");
    }
    if let Some(ids) = &e.delivery_promotions {
        let got: Vec<String> = q
            .delivery_promotions
            .iter()
            .map(|d| d.promotion_id.to_string())
            .collect();
        assert_eq!(&got, ids, "{n}: delivery promotions");
    }
}

#[test]
fn promotion_cases() {
    let file: File = serde_json::from_str(include_str!("data/promotion_cases.json")).unwrap();
    assert!(file.cases.len() >= 60, "{} cases", file.cases.len());
    let mut failures = Vec::new();
    for case in &file.cases {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check(&file.promotions, case)
        }));
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
            failures.push(msg.unwrap_or_default());
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Gifts and suggested items priced past what a quote may add up to: the
/// gifts' worth saturates in the plan search without overflowing, their applied amounts stay
/// exact, and a hint that would overflow is dropped instead of failing the quote.
#[test]
fn gifts_and_hints_beyond_the_cart_limit_neither_overflow_nor_fail_the_quote() {
    let mut snapshot: Value =
        serde_json::from_str(include_str!("data/promo_catalogue.json")).unwrap();
    snapshot["categories"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "gold", "name": "Gold"}));
    snapshot["products"].as_array_mut().unwrap().push(
        json!({"id": "bar", "name": "Gold bar", "brand": "G", "category": "gold", "kind": "goods",
        "variants": [{"sku": "GOLD", "name": "1 t", "price": "50000000000000000.00"}]}),
    );
    let gift = |id: &str| json!({"id": id, "label": "A gold bar", "action": {"type": "gift_item", "sku": "GOLD", "quantity": 1}});
    snapshot["promotions"] = json!([gift("gold-1"), gift("gold-2"),
        {"id": "with-gold", "label": "10% off with gold", "conditions": [{"type": "cart_contains", "target": {"categories": ["gold"]}}],
         "action": {"type": "percent_off", "target": {"categories": ["tv"]}, "percent": "10"}}]);
    let snapshot: omnicart_engine::Snapshot =
        serde_json::from_value(snapshot).expect("valid snapshot");
    let cart: Cart = serde_json::from_str(r#"{"lines":[{"sku":"TV-55","quantity":1}]}"#).unwrap();
    let q = quote(&snapshot, &cart, &QuoteContext::default()).expect("the quote stands");
    let applied: Vec<String> = q
        .applied
        .iter()
        .map(|a| format!("{}:{}", a.promotion_id, a.amount.amount()))
        .collect();
    assert_eq!(
        applied,
        ["gold-1:50000000000000000.00", "gold-2:50000000000000000.00"]
    );
    assert_eq!(q.lines.iter().filter(|l| l.gift).count(), 2);
    assert_eq!(q.total.amount().to_string(), "899.00");
    assert!(
        q.hints.is_empty(),
        "adding a gold bar would pass the limit: no hint, {:?}",
        q.hints
    );
}
