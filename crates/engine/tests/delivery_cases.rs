//! Hand-computed delivery cases (tests/data/delivery_cases.json) over a small network
//! (tests/data/delivery_network.json): cut-offs, weekends, holidays, bulky surcharges,
//! dimensional weight, free-above, fleet fallback, split versus single, backorders, refusals,
//! and live stock (`stock`: records that replace the snapshot's stock of their SKUs, as the
//! server's database does at placement).
//! A new rule adds a row. The arithmetic behind each expected value is in the case's name and
//! in the network's comments: rates per zone and weight tier, transit in carrier working days.

use omnicart_engine::fulfilment::{DeliveryQuote, DeliveryRequest, StockLevels, StockRecord};
use omnicart_engine::{
    Cart, CartOp, Destination, ErrorCode, QuoteContext, Sku, Snapshot, Timestamp, availability,
    availability_with, delivery_options, quote_with_delivery,
};
use serde::Deserialize;
use serde_json::Value;

/// [level, service, charge, label, [[location, sku, quantity]]]
type ExpectedOption = (String, String, String, String, Vec<(String, String, u32)>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    cart: Vec<(String, u32)>,
    to: Destination,
    now: String,
    #[serde(default)]
    suspend: Vec<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    options: Vec<ExpectedOption>,
    /// service → code, for the services named (others may be listed too).
    #[serde(default)]
    unavailable: std::collections::BTreeMap<String, String>,
    /// The nearest pickup option: [location, ready label, source], or null for none.
    #[serde(default = "unset")]
    pickup: Option<Option<(String, String, String)>>,
    #[serde(default)]
    lines: Vec<(String, String, Option<String>)>,
    /// Stock counted outside the snapshot: the whole stock of the SKUs these records name.
    #[serde(default)]
    stock: Vec<StockRecord>,
}

fn unset() -> Option<Option<(String, String, String)>> {
    None
}

fn snapshot(suspend: &[String]) -> Snapshot {
    let mut json: Value = serde_json::from_str(include_str!("data/delivery_network.json")).unwrap();
    for carrier in json["network"]["carriers"].as_array_mut().unwrap() {
        for service in carrier["services"].as_array_mut().unwrap() {
            if suspend.iter().any(|s| service["id"] == s.as_str()) {
                service["available"] = false.into();
            }
        }
    }
    serde_json::from_value(json).expect("the test network loads")
}

fn run(case: &Case) -> Result<DeliveryQuote, String> {
    let snapshot = snapshot(&case.suspend);
    let mut cart = Cart::new();
    for (sku, quantity) in &case.cart {
        let op: CartOp = serde_json::from_value(
            serde_json::json!({"op": "add", "sku": sku, "quantity": quantity}),
        )
        .unwrap();
        cart.apply(&snapshot, &op).unwrap();
    }
    let now = Timestamp::parse(&case.now).unwrap();
    let context = QuoteContext {
        stock: StockLevels::new(snapshot.network(), [], case.stock.clone()).unwrap(),
        ..QuoteContext::default()
    };
    quote_with_delivery(&snapshot, &cart, &context, &case.to, now)
        .map(|(_, d)| d)
        .map_err(|e| e.code().to_owned())
}

#[test]
fn delivery_cases() {
    let cases: Vec<Case> = serde_json::from_str(include_str!("data/delivery_cases.json")).unwrap();
    assert!(cases.len() >= 12);
    for case in &cases {
        let name = &case.name;
        let quote = match (run(case), &case.error) {
            (Err(code), Some(expected)) => {
                assert_eq!(&code, expected, "{name}");
                continue;
            }
            (Ok(_), Some(expected)) => panic!("{name}: expected the error {expected}"),
            (Err(code), None) => panic!("{name}: unexpected error {code}"),
            (Ok(quote), None) => quote,
        };
        let options: Vec<_> = quote
            .options
            .iter()
            .map(|o| {
                let level = serde_json::to_value(o.level)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned();
                let plan = o
                    .shipments
                    .iter()
                    .flat_map(|s| {
                        s.lines
                            .iter()
                            .map(|l| (s.location.clone(), l.sku.to_string(), l.quantity))
                    })
                    .collect::<Vec<_>>();
                (
                    level,
                    o.service_id.clone(),
                    o.charge.amount().to_string(),
                    o.label.clone(),
                    plan,
                )
            })
            .collect();
        assert_eq!(options, case.options, "{name}: options");
        for (service, code) in &case.unavailable {
            let found = quote.unavailable.iter().find(|u| &u.service_id == service);
            assert_eq!(
                found.map(|u| u.code.as_str()),
                Some(code.as_str()),
                "{name}: why {service} cannot deliver"
            );
            assert!(found.is_some_and(|u| !u.reason.is_empty()));
        }
        for o in &quote.options {
            assert!(
                quote
                    .unavailable
                    .iter()
                    .all(|u| u.service_id != o.service_id),
                "{name}: an offered service is not also refused"
            );
            let sum: rust_decimal::Decimal = o.shipments.iter().map(|s| s.charge.amount()).sum();
            assert_eq!(
                sum,
                o.charge.amount(),
                "{name}: shipment charges add up to the option's"
            );
            assert!(o.earliest <= o.latest, "{name}");
        }
        if let Some(expected) = &case.pickup {
            let first = quote.pickup.first().map(|p| {
                (
                    p.location.clone(),
                    p.ready_label.clone(),
                    p.source.to_owned(),
                )
            });
            assert_eq!(&first, expected, "{name}: pickup");
        }
        for (sku, status, date) in &case.lines {
            let line = quote.lines.iter().find(|l| l.sku.as_str() == sku).unwrap();
            assert_eq!(
                serde_json::to_value(line.status).unwrap(),
                status.as_str(),
                "{name}: {sku}"
            );
            assert_eq!(
                line.date.map(|d| d.to_string()),
                *date,
                "{name}: {sku} date"
            );
        }
    }
}

#[test]
fn the_quote_includes_the_chosen_delivery_and_its_promotions() {
    let snapshot = snapshot(&[]);
    let mut cart = Cart::new();
    for op in [
        r#"{"op":"add","sku":"BOX","quantity":1}"#,
        r#"{"op":"choose_delivery","level":"express"}"#,
    ] {
        cart.apply(&snapshot, &serde_json::from_str(op).unwrap())
            .unwrap();
    }
    let now = Timestamp::parse("2026-11-23T08:00:00Z").unwrap();
    let (quote, delivery) = quote_with_delivery(
        &snapshot,
        &cart,
        &QuoteContext::default(),
        &Destination::postcode("20095"),
        now,
    )
    .unwrap();
    assert_eq!(
        delivery
            .options
            .iter()
            .find(|o| o.service_id == "p-exp")
            .unwrap()
            .total
            .amount()
            .to_string(),
        "15.00"
    );
    let charge = quote
        .delivery
        .as_ref()
        .expect("the chosen option is charged");
    assert_eq!(
        (
            charge.charge.amount().to_string(),
            quote.total.amount().to_string()
        ),
        ("15.00".into(), "35.00".into())
    );

    // A pickup costs nothing; a level nobody offers is not charged.
    cart.apply(
        &snapshot,
        &serde_json::from_str(r#"{"op":"choose_delivery","pickup":"store-city"}"#).unwrap(),
    )
    .unwrap();
    let (quote, _) = quote_with_delivery(
        &snapshot,
        &cart,
        &QuoteContext::default(),
        &Destination::postcode("20095"),
        now,
    )
    .unwrap();
    assert_eq!(quote.delivery.unwrap().total.amount().to_string(), "0.00");
    cart.apply(
        &snapshot,
        &serde_json::from_str(r#"{"op":"choose_delivery","level":"same_day"}"#).unwrap(),
    )
    .unwrap();
    let (quote, _) = quote_with_delivery(
        &snapshot,
        &cart,
        &QuoteContext::default(),
        &Destination::postcode("20095"),
        now,
    )
    .unwrap();
    assert!(quote.delivery.is_none());
    let err = cart
        .apply(
            &snapshot,
            &serde_json::from_str(r#"{"op":"choose_delivery","pickup":"wh-north"}"#).unwrap(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "unknown_location");
}

#[test]
fn the_delivery_address_is_kept_with_the_cart_and_checked_against_the_network() {
    let snapshot = snapshot(&[]);
    let op = |json: Value| -> CartOp { serde_json::from_value(json).unwrap() };
    let mut cart = Cart::new();
    cart.apply(
        &snapshot,
        &op(serde_json::json!({"op": "set_address", "address": {"postcode": "10115"}})),
    )
    .unwrap();
    assert_eq!(cart.address(), Some(&Destination::postcode("10115")));
    // Read back from JSON (the server stores it, devices exchange it), it is the same cart.
    let json = serde_json::to_value(&cart).unwrap();
    assert_eq!(json["address"], serde_json::json!({"postcode": "10115"}));
    assert_eq!(serde_json::from_value::<Cart>(json).unwrap(), cart);
    for (address, code) in [
        (serde_json::json!({"postcode": "99999"}), "unknown_postcode"),
        (
            serde_json::json!({"lat": 91.0, "lon": 13.4}),
            "invalid_destination",
        ),
        (serde_json::json!({"lat": 52.5}), "invalid_destination"),
        (serde_json::json!({}), "invalid_destination"),
    ] {
        let err = cart
            .apply(
                &snapshot,
                &op(serde_json::json!({"op": "set_address", "address": address})),
            )
            .unwrap_err();
        assert_eq!(err.code(), code, "{address}");
    }
    assert_eq!(
        cart.address(),
        Some(&Destination::postcode("10115")),
        "refused edits change nothing"
    );
    cart.apply(
        &snapshot,
        &op(serde_json::json!({"op": "set_address", "address": {"lat": 53.55, "lon": 10.0}})),
    )
    .unwrap();
    assert!(cart.address().is_some_and(|a| a.postcode.is_none()));
    cart.apply(&snapshot, &op(serde_json::json!({"op": "set_address"})))
        .unwrap();
    assert_eq!(cart.address(), None, "no address forgets it");
    assert!(
        serde_json::from_value::<CartOp>(serde_json::json!({"op": "set_address", "sku": "X"}))
            .is_err()
    );
    assert!(
        serde_json::from_value::<Cart>(
            serde_json::json!({"lines": [], "address": {"lat": 100.0, "lon": 0.0}})
        )
        .is_err()
    );
}

#[test]
fn availability_follows_live_stock_for_the_skus_it_lists() {
    let snapshot = snapshot(&[]);
    let records: Vec<StockRecord> = serde_json::from_value(serde_json::json!([
        {"sku": "BOX", "location": "wh-north", "on_hand": 3, "reserved": 2, "safety": 1,
         "incoming": [{"date": "2026-12-01", "quantity": 5}]},
        {"sku": "BOX", "location": "nowhere", "on_hand": 50}
    ]))
    .unwrap();
    let (box_, tv) = (Sku::new("BOX").unwrap(), Sku::new("TV75").unwrap());
    let light = Sku::new("LIGHT").unwrap();
    let live = StockLevels::new(snapshot.network(), [light.clone()], records).unwrap();
    // The snapshot: 7 at wh-north, 5 at wh-south, 1 at store-city.
    let before = availability(&snapshot, &box_).unwrap();
    assert_eq!((before.available, before.locations.len()), (13, 3));
    let after = availability_with(&snapshot, &live, &box_).unwrap();
    assert_eq!(after.available, 0);
    assert_eq!(serde_json::to_value(after.status).unwrap(), "backorder");
    assert_eq!(
        after.backorder_date.map(|d| d.to_string()).as_deref(),
        Some("2026-12-01")
    );
    let north = &after.locations[..];
    assert_eq!(north.len(), 1, "a location the network lacks is left out");
    assert_eq!(
        (north[0].on_hand, north[0].reserved, north[0].safety),
        (3, 2, 1)
    );
    // Listed without records: none anywhere. Not listed: the snapshot's.
    let light = availability_with(&snapshot, &live, &light).unwrap();
    assert_eq!(serde_json::to_value(light.status).unwrap(), "unavailable");
    assert_eq!(
        availability_with(&snapshot, &live, &tv).unwrap(),
        availability(&snapshot, &tv).unwrap()
    );
}

#[test]
fn live_stock_keeps_the_snapshot_limits() {
    let snapshot = snapshot(&[]);
    let twice: Vec<StockRecord> = serde_json::from_value(serde_json::json!([
        {"sku": "BOX", "location": "wh-north", "on_hand": 1},
        {"sku": "BOX", "location": "wh-north", "on_hand": 2}
    ]))
    .unwrap();
    assert!(StockLevels::new(snapshot.network(), [], twice).is_err());
    let huge: Vec<StockRecord> = serde_json::from_value(serde_json::json!([
        {"sku": "BOX", "location": "wh-north", "on_hand": 2_000_000_000u32}
    ]))
    .unwrap();
    assert!(StockLevels::new(snapshot.network(), [], huge).is_err());
}

/// What every option for a cart ships, and why services refused it.
struct Sourced {
    /// Per shipment line of every option: (location, SKU, units).
    shipped: Vec<(String, String, u32)>,
    /// The refusing services' codes.
    refused: Vec<String>,
}

/// The options for `cart`, sourced without the `exclude`d locations.
fn sourced_without(cart: &[(&str, u32)], exclude: &[&str]) -> Sourced {
    let snapshot = snapshot(&[]);
    let mut c = Cart::new();
    for (sku, quantity) in cart {
        let op: CartOp = serde_json::from_value(
            serde_json::json!({"op": "add", "sku": sku, "quantity": quantity}),
        )
        .unwrap();
        c.apply(&snapshot, &op).unwrap();
    }
    let now = Timestamp::parse("2026-11-23T08:00:00Z").unwrap();
    let goods = omnicart_engine::quote(&snapshot, &c, &QuoteContext::default()).unwrap();
    let exclude: Vec<String> = exclude.iter().map(|s| s.to_string()).collect();
    let to: Destination =
        serde_json::from_value(serde_json::json!({"lat": 53.56, "lon": 9.99})).unwrap();
    let request = DeliveryRequest {
        destination: &to,
        now,
        goods_value: goods.total,
        promotions: &goods.delivery_promotions,
        stock: None,
        gifts: &[],
        exclude: &exclude,
    };
    let quote = delivery_options(&snapshot, &c, &request).unwrap();
    let shipped = quote
        .options
        .iter()
        .flat_map(|o| &o.shipments)
        .flat_map(|s| {
            s.lines
                .iter()
                .map(|l| (s.location.clone(), l.sku.as_str().to_owned(), l.quantity))
        })
        .collect();
    let refused = quote.unavailable.iter().map(|u| u.code.clone()).collect();
    Sourced { shipped, refused }
}

#[test]
fn an_excluded_location_ships_nothing_and_the_rest_of_the_network_takes_the_line() {
    // Every option ships BOX from wh-north, the nearest holder (the first case above).
    let all = sourced_without(&[("BOX", 1)], &[]).shipped;
    assert!(!all.is_empty() && all.iter().all(|(l, _, _)| l == "wh-north"));
    // Without it, wh-south (5 on hand) takes the unit in every option.
    let moved = sourced_without(&[("BOX", 1)], &["wh-north"]).shipped;
    assert!(!moved.is_empty());
    assert!(
        moved
            .iter()
            .all(|(l, s, q)| l != "wh-north" && s == "BOX" && *q == 1)
    );
    // 7 units: wh-south holds 5 and store-city 1, so without wh-north no service can bring
    // them: refused as `no_stock`, never fewer units.
    let none = sourced_without(&[("BOX", 7)], &["wh-north"]);
    assert!(none.shipped.is_empty(), "{:?}", none.shipped);
    assert!(
        none.refused.iter().any(|c| c == "no_stock"),
        "{:?}",
        none.refused
    );
}
