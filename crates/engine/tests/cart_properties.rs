//! Properties of carts under any sequence of edits.

use omnicart_engine::{
    Cart, CartOp, MAX_CART_LINES, MAX_LINE_QUANTITY, Money, Quantity, QuoteContext, Sku, Snapshot,
    quote,
};
use proptest::prelude::*;

fn snapshot() -> Snapshot {
    serde_json::from_str(include_str!("data/snapshot.json")).unwrap()
}

fn sku() -> impl Strategy<Value = Sku> {
    prop::sample::select(vec!["TV-55", "TV-65", "CBL", "FREEBIE", "INSTALL", "GONE"])
        .prop_map(|s| Sku::new(s).unwrap())
}

fn op() -> impl Strategy<Value = CartOp> {
    let qty = (1i64..=600).prop_map(|n| Quantity::new(n).unwrap());
    prop_oneof![
        (sku(), qty.clone()).prop_map(|(sku, quantity)| CartOp::Add { sku, quantity }),
        (sku(), qty).prop_map(|(sku, quantity)| CartOp::SetQuantity { sku, quantity }),
        sku().prop_map(|sku| CartOp::Remove { sku }),
        (sku(), sku()).prop_map(|(sku, with)| CartOp::Replace { sku, with }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn any_edit_sequence_keeps_the_cart_valid_and_priced_exactly(ops in prop::collection::vec(op(), 0..40)) {
        let snapshot = snapshot();
        let mut cart = Cart::new();
        for op in &ops {
            let before = cart.clone();
            if cart.apply(&snapshot, op).is_err() {
                prop_assert_eq!(&cart, &before);
            }
        }
        prop_assert!(cart.lines().len() <= MAX_CART_LINES);
        for (i, line) in cart.lines().iter().enumerate() {
            prop_assert!(line.quantity.get() >= 1 && line.quantity.get() <= MAX_LINE_QUANTITY);
            prop_assert!(cart.lines()[..i].iter().all(|l| l.sku != line.sku));
        }
        let quote = quote(&snapshot, &cart, &QuoteContext::default()).unwrap();
        let sum = quote.lines.iter().try_fold(Money::zero(quote.currency), |a, l| a.checked_add(l.total)).unwrap();
        prop_assert_eq!(sum, quote.total);
        prop_assert!(!quote.total.is_negative());
        let json = serde_json::to_string(&cart).unwrap();
        prop_assert_eq!(serde_json::from_str::<Cart>(&json).unwrap(), cart);
    }
}

#[test]
fn carts_from_outside_are_validated() {
    let dup = r#"{"lines":[{"sku":"CBL","quantity":1},{"sku":"CBL","quantity":2}]}"#;
    assert!(
        serde_json::from_str::<Cart>(dup)
            .unwrap_err()
            .to_string()
            .contains("two lines")
    );
    let zero = r#"{"lines":[{"sku":"CBL","quantity":0}]}"#;
    assert!(serde_json::from_str::<Cart>(zero).is_err());
    let lines: Vec<String> = (0..=MAX_CART_LINES)
        .map(|i| format!(r#"{{"sku":"S{i}","quantity":1}}"#))
        .collect();
    let too_many = format!(r#"{{"lines":[{}]}}"#, lines.join(","));
    assert!(
        serde_json::from_str::<Cart>(&too_many)
            .unwrap_err()
            .to_string()
            .contains("at most")
    );
}

#[test]
fn pricing_a_delisted_sku_is_a_clear_error() {
    let cart: Cart = serde_json::from_str(r#"{"lines":[{"sku":"GONE","quantity":1}]}"#).unwrap();
    let err = quote(&snapshot(), &cart, &QuoteContext::default()).unwrap_err();
    assert_eq!(omnicart_engine::ErrorCode::code(&err), "unknown_sku");
}
