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
    /// Services attached per line, when the case is about them.
    services: Option<Vec<(String, Vec<String>)>>,
    /// Quote lines as (SKU, attached to, net), when the case is about them.
    quoted: Option<Vec<(String, Option<String>, String)>>,
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
            assert_eq!(
                cart, before_failure,
                "{}: a failed edit must leave the cart unchanged",
                case.name
            );
        }
        (Some(code), Ok(())) => panic!("{}: expected {code}, got success", case.name),
        (None, Err((i, e))) => panic!("{}: op {i} failed: {e}", case.name),
        (None, Ok(())) => {
            let lines: Vec<(String, u32)> = cart
                .lines()
                .iter()
                .map(|l| (l.sku.to_string(), l.quantity.get()))
                .collect();
            assert_eq!(lines, case.lines, "{}: lines", case.name);
            if let Some(services) = &case.services {
                let got: Vec<(String, Vec<String>)> = cart
                    .lines()
                    .iter()
                    .map(|l| {
                        (
                            l.sku.to_string(),
                            l.services.iter().map(|s| s.to_string()).collect(),
                        )
                    })
                    .collect();
                assert_eq!(&got, services, "{}: services", case.name);
            }
            let quote = quote(snapshot, &cart, &QuoteContext::default()).expect("priced");
            if let Some(quoted) = &case.quoted {
                let got: Vec<(String, Option<String>, String)> = quote
                    .lines
                    .iter()
                    .map(|l| {
                        (
                            l.sku.to_string(),
                            l.attached_to.as_ref().map(|s| s.to_string()),
                            l.net.amount().to_string(),
                        )
                    })
                    .collect();
                assert_eq!(&got, quoted, "{}: quote lines", case.name);
            }
            assert_eq!(
                quote.subtotal.amount().to_string(),
                *case.subtotal.as_ref().unwrap(),
                "{}: subtotal",
                case.name
            );
            assert_eq!(Some(quote.item_count), case.items, "{}: items", case.name);
            let sum = quote
                .lines
                .iter()
                .try_fold(omnicart_engine::Money::zero(quote.currency), |a, l| {
                    a.checked_add(l.total)
                });
            assert_eq!(
                sum.unwrap(),
                quote.total,
                "{}: lines must sum to the total",
                case.name
            );
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

#[test]
fn a_cart_read_from_json_keeps_its_services_and_refuses_duplicates() {
    let json = r#"{"lines":[{"sku":"TV-55","quantity":1,"services":["INSTALL"]},{"sku":"CBL","quantity":2}],"coupons":[]}"#;
    let cart: Cart = serde_json::from_str(json).unwrap();
    assert_eq!(
        serde_json::to_string(&cart).unwrap(),
        json,
        "services round-trip; lines without any stay as they were"
    );
    for bad in [
        r#"{"lines":[{"sku":"TV-55","quantity":1,"services":["INSTALL","INSTALL"]}]}"#,
        r#"{"lines":[{"sku":"TV-55","quantity":1,"services":["TV-55"]}]}"#,
    ] {
        let err = serde_json::from_str::<Cart>(bad).unwrap_err().to_string();
        assert!(err.contains("attached twice"), "{err}");
    }
    // The first SKU that comes again is named, wherever its lines are.
    let twice = r#"{"lines":[{"sku":"A","quantity":1},{"sku":"B","quantity":1},{"sku":"C","quantity":1},{"sku":"B","quantity":2},{"sku":"A","quantity":1}]}"#;
    let err = serde_json::from_str::<Cart>(twice).unwrap_err().to_string();
    assert!(err.starts_with("B appears on two lines"), "{err}");
}
