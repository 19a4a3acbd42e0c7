//! Properties of the delivery calculator over the demo network (German stores and warehouses):
//! every option ships exactly the cart's goods and the quote's gifts, never more than a
//! location can promise, and
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
        let (quote, delivery) = quote_with_delivery(snapshot, &cart, &QuoteContext::default(), &to, now).unwrap();
        let is_goods = |sku: &omnicart_engine::Sku| snapshot.variant(sku).is_some_and(|(p, _)| p.kind == omnicart_engine::ProductKind::Goods);
        let mut wanted: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
        for line in cart.lines().iter().filter(|l| is_goods(&l.sku)) {
            *wanted.entry(line.sku.to_string()).or_default() += line.quantity.get();
        }
        for gift in quote.lines.iter().filter(|l| l.gift && is_goods(&l.sku)) {
            *wanted.entry(gift.sku.to_string()).or_default() += gift.quantity.get();
        }
        for option in &delivery.options {
            let mut shipped: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
            for l in option.shipments.iter().flat_map(|s| &s.lines) {
                *shipped.entry(l.sku.to_string()).or_default() += l.quantity;
            }
            prop_assert_eq!(&shipped, &wanted, "{} ships the cart's goods and the gifts", option.service_id);
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

/// The demo catalogue with the free cable's stock set to `on_hand` at every record.
fn with_cable_stock(on_hand: u32) -> Snapshot {
    let mut json: serde_json::Value =
        serde_json::from_str(include_str!("../../server/data/demo-catalogue.json")).unwrap();
    for record in json["network"]["stock"].as_array_mut().unwrap() {
        if record["sku"] == "CBL-HDMI21-2M" {
            record["on_hand"] = on_hand.into();
            record["reserved"] = 0.into();
            record["safety"] = 0.into();
            record["incoming"] = serde_json::json!([]);
        }
    }
    serde_json::from_value(json).unwrap()
}

#[test]
fn a_gift_is_given_while_stocks_last_and_shipped_with_the_goods() {
    let tv = || -> CartOp {
        serde_json::from_value(
            serde_json::json!({"op": "add", "sku": "LUM-OLED-C4-55", "quantity": 1}),
        )
        .unwrap()
    };
    let now = Timestamp::parse("2026-11-23T09:00:00Z").unwrap();
    let to = Destination::postcode("10115");
    for (on_hand, given) in [(0, false), (3, true)] {
        let snapshot = with_cable_stock(on_hand);
        let mut cart = Cart::new();
        cart.apply(&snapshot, &tv()).unwrap();
        let (quote, delivery) =
            quote_with_delivery(&snapshot, &cart, &QuoteContext::default(), &to, now).unwrap();
        let gift = quote
            .lines
            .iter()
            .any(|l| l.gift && l.sku.as_str() == "CBL-HDMI21-2M");
        assert_eq!(gift, given, "{on_hand} cables in stock");
        let rejected = quote
            .rejected
            .iter()
            .find(|r| &*r.promotion_id == "gift-cable-1000")
            .map(|r| r.code.clone());
        assert_eq!(rejected.as_deref(), (!given).then_some("gift_out_of_stock"));
        assert!(
            !delivery.options.is_empty(),
            "the TV is delivered either way"
        );
        for option in &delivery.options {
            let cables: u32 = option
                .shipments
                .iter()
                .flat_map(|s| &s.lines)
                .filter(|l| l.sku.as_str() == "CBL-HDMI21-2M")
                .map(|l| l.quantity)
                .sum();
            assert_eq!(cables, u32::from(given), "{}", option.service_id);
        }
    }
}
