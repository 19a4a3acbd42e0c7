//! Any bytes, read as each JSON type the engine accepts from outside (snapshot, cart, cart
//! operations, quote context), must be accepted or refused with an error, never panic; and
//! whatever is accepted must quote with exact sums.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use omnicart_engine::{
    Cart, CartOp, Destination, Money, Quantity, Quote, QuoteContext, Snapshot, Timestamp,
    availability, find_in_store, quote, quote_with_delivery,
};

static DEMO: OnceLock<Snapshot> = OnceLock::new();

fn demo() -> &'static Snapshot {
    DEMO.get_or_init(|| {
        serde_json::from_str(include_str!("../../../server/data/demo-catalogue.json"))
            .expect("demo catalogue")
    })
}

fn check(q: &Quote) {
    let zero = Money::zero(q.currency);
    let lines = q
        .lines
        .iter()
        .filter(|l| !l.gift)
        .fold(zero, |a, l| a.checked_add(l.total).unwrap());
    let delivery = q.delivery.as_ref().map_or(zero, |d| d.total);
    assert_eq!(
        lines.checked_add(delivery).unwrap(),
        q.total,
        "lines + delivery = total"
    );
    assert!(!q.total.is_negative());
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = Timestamp::parse("2026-11-23T09:00:00Z").unwrap();
    if let Ok(snapshot) = serde_json::from_str::<Snapshot>(text) {
        if let Ok(q) = quote(&snapshot, &Cart::new(), &QuoteContext::default()) {
            check(&q);
        }
        // Its network: availability, find in store and delivery for a one-line cart.
        let to = Destination {
            lat: Some(52.52),
            lon: Some(13.405),
            postcode: Some("10115".into()),
        };
        for product in snapshot.products().iter().take(3) {
            let sku = &product.variants[0].sku;
            let _ = availability(&snapshot, sku);
            let _ = find_in_store(&snapshot, sku, &to, now);
            let mut cart = Cart::new();
            if cart
                .apply(
                    &snapshot,
                    &CartOp::Add {
                        sku: sku.clone(),
                        quantity: Quantity::ONE,
                    },
                )
                .is_ok()
            {
                if let Ok((q, _)) =
                    quote_with_delivery(&snapshot, &cart, &QuoteContext::default(), &to, now)
                {
                    check(&q);
                }
            }
        }
    }
    if let Ok(to) = serde_json::from_str::<Destination>(text) {
        let cart: Cart = serde_json::from_str(
            r#"{"lines":[{"sku":"LUM-OLED-C4-55","quantity":1}],"delivery":{"level":"standard"}}"#,
        )
        .unwrap();
        if let Ok((q, _)) = quote_with_delivery(demo(), &cart, &QuoteContext::default(), &to, now) {
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
