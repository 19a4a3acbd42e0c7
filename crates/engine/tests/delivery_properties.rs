//! Properties of the delivery calculator over the demo network (German stores and warehouses):
//! every option ships exactly the cart's goods, never more than a location can promise, and
//! the answer is a function of its inputs only. (The search's optimality against brute force
//! is a property test in `src/fulfilment/sourcing.rs`.)

use omnicart_engine::{
    Cart, CartOp, Destination, QuoteContext, Snapshot, Timestamp, quote_with_delivery,
};
use proptest::prelude::*;
use std::sync::OnceLock;

fn demo() -> &'static Snapshot {
    static DEMO: OnceLock<Snapshot> = OnceLock::new();
    DEMO.get_or_init(|| {
        serde_json::from_str(include_str!("../../server/data/demo-catalogue.json")).unwrap()
    })
}

/// Units of `sku` that `location` can promise at all (now plus incoming).
fn promisable(sku: &str, location: &str) -> u32 {
    let net = demo().network().data();
    net.stock
        .iter()
        .filter(|r| r.sku.as_str() == sku && r.location == location)
        .map(|r| {
            r.on_hand
                .saturating_sub(r.reserved)
                .saturating_sub(r.safety)
                + r.incoming.iter().map(|i| i.quantity).sum::<u32>()
        })
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn options_ship_the_cart_within_what_each_location_can_promise(
        picks in prop::collection::vec((0usize..34, 1u32..6), 1..6),
        lat in 47.5f64..54.5, lon in 6.0f64..14.5,
        minutes in 0i64..(14 * 24 * 60),
    ) {
        let snapshot = demo();
        let goods: Vec<_> = snapshot.products().iter().filter(|p| p.kind == omnicart_engine::ProductKind::Goods).flat_map(|p| &p.variants).collect();
        let mut cart = Cart::new();
        for (i, q) in picks {
            let op: CartOp = serde_json::from_value(serde_json::json!({"op": "add", "sku": goods[i % goods.len()].sku, "quantity": q})).unwrap();
            cart.apply(snapshot, &op).unwrap();
        }
        let now = Timestamp::from_unix(Timestamp::parse("2026-11-22T00:00:00Z").unwrap().unix() + minutes * 60);
        let to = Destination { lat: Some(lat), lon: Some(lon), postcode: None };
        let (_, delivery) = quote_with_delivery(snapshot, &cart, &QuoteContext::default(), &to, now).unwrap();
        for option in &delivery.options {
            for line in cart.lines() {
                let shipped: u32 = option.shipments.iter().flat_map(|s| &s.lines).filter(|l| l.sku == line.sku).map(|l| l.quantity).sum();
                prop_assert_eq!(shipped, line.quantity.get(), "{} ships the whole line", option.service_id);
            }
            for s in &option.shipments {
                for l in &s.lines {
                    prop_assert!(l.quantity <= promisable(l.sku.as_str(), &s.location), "{} takes {} {} from {}", option.service_id, l.quantity, l.sku, s.location);
                }
            }
            prop_assert!(option.shipments.len() <= 3 && option.earliest <= option.latest && option.total.amount() <= option.charge.amount());
        }
        let (_, again) = quote_with_delivery(snapshot, &cart, &QuoteContext::default(), &to, now).unwrap();
        prop_assert_eq!(&again, &delivery, "deterministic");
    }
}
