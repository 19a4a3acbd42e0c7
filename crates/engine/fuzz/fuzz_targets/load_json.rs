//! Any bytes, read as each JSON type the engine accepts from outside (snapshot, cart, cart
//! operations, quote context), must be accepted or refused with an error, never panic; and
//! whatever is accepted must quote with exact sums.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use omnicart_engine::{Cart, CartOp, Money, Quote, QuoteContext, Snapshot, quote};

static DEMO: OnceLock<Snapshot> = OnceLock::new();

fn demo() -> &'static Snapshot {
    DEMO.get_or_init(|| serde_json::from_str(include_str!("../../../server/data/demo-catalogue.json")).expect("demo catalogue"))
}

fn check(q: &Quote) {
    let zero = Money::zero(q.currency);
    let lines = q.lines.iter().filter(|l| !l.gift).fold(zero, |a, l| a.checked_add(l.total).unwrap());
    let delivery = q.delivery.as_ref().map_or(zero, |d| d.total);
    assert_eq!(lines.checked_add(delivery).unwrap(), q.total, "lines + delivery = total");
    assert!(!q.total.is_negative());
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(snapshot) = serde_json::from_str::<Snapshot>(text) {
        if let Ok(q) = quote(&snapshot, &Cart::new(), &QuoteContext::default()) {
            check(&q);
        }
    }
    if let Ok(cart) = serde_json::from_str::<Cart>(text) {
        if let Ok(q) = quote(demo(), &cart, &QuoteContext::default()) {
            check(&q);
        }
    }
    if let Ok(ops) = serde_json::from_str::<Vec<CartOp>>(text) {
        let mut cart = Cart::new();
        let _ = cart.apply_all(demo(), &ops);
        check(&quote(demo(), &cart, &QuoteContext::default()).expect("a cart built by ops quotes"));
    }
    if let Ok(context) = serde_json::from_str::<QuoteContext>(text) {
        let cart: Cart = serde_json::from_str(r#"{"lines":[{"sku":"LUM-OLED-C4-55","quantity":1},{"sku":"CBL-HDMI21-2M","quantity":3}],"coupons":["WELCOME10"]}"#).unwrap();
        if let Ok(q) = quote(demo(), &cart, &context) {
            check(&q);
        }
    }
});
