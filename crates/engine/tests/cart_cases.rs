//! Table-driven cart and pricing cases: `data/cart_cases.json` against `data/snapshot.json`.
//! A new rule adds a row there, not a new test here.

use omnicart_engine::{Cart, CartOp, ErrorCode, QuoteContext, Snapshot, quote};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    ops: Vec<CartOp>,
    #[serde(default)]
    lines: Vec<(String, u32)>,
    subtotal: Option<String>,
    items: Option<u32>,
    error: Option<String>,
}

fn snapshot() -> Snapshot {
    serde_json::from_str(include_str!("data/snapshot.json")).expect("fixture snapshot is valid")
}

fn check(snapshot: &Snapshot, case: &Case) {
    let mut cart = Cart::new();
    let before_failure = cart.clone();
    let result = cart.apply_all(snapshot, &case.ops);
    match (&case.error, result) {
        (Some(code), Err((_, e))) => {
            assert_eq!(e.code(), code, "{}: wrong error ({e})", case.name);
            assert_eq!(cart, before_failure, "{}: a failed edit must leave the cart unchanged", case.name);
        }
        (Some(code), Ok(())) => panic!("{}: expected {code}, got success", case.name),
        (None, Err((i, e))) => panic!("{}: op {i} failed: {e}", case.name),
        (None, Ok(())) => {
            let lines: Vec<(String, u32)> =
                cart.lines().iter().map(|l| (l.sku.to_string(), l.quantity.get())).collect();
            assert_eq!(lines, case.lines, "{}: lines", case.name);
            let quote = quote(snapshot, &cart, &QuoteContext::default()).expect("priced");
            assert_eq!(quote.subtotal.amount().to_string(), *case.subtotal.as_ref().unwrap(), "{}: subtotal", case.name);
            assert_eq!(Some(quote.item_count), case.items, "{}: items", case.name);
            let sum = quote.lines.iter().try_fold(omnicart_engine::Money::zero(quote.currency), |a, l| a.checked_add(l.total));
            assert_eq!(sum.unwrap(), quote.total, "{}: lines must sum to the total", case.name);
        }
    }
}

#[test]
fn cart_cases() {
    let snapshot = snapshot();
    let cases: Vec<Case> = serde_json::from_str(include_str!("data/cart_cases.json")).unwrap();
    assert!(cases.len() >= 16);
    for case in &cases {
        check(&snapshot, case);
    }
}
