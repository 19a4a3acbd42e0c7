//! Snapshot loading: the demo catalogue loads, and each kind of bad catalogue is refused with
//! an error naming the bad field.

use omnicart_engine::{Cart, ErrorCode, QuoteContext, Sku, Snapshot, quote};

const BASE: &str = include_str!("data/snapshot.json");

fn load(json: &str) -> Result<Snapshot, String> {
    serde_json::from_str::<Snapshot>(json).map_err(|e| e.to_string())
}

#[test]
fn demo_catalogue_loads_with_enough_skus() {
    let demo = load(include_str!("../../server/data/demo-catalogue.json"))
        .expect("demo catalogue is valid");
    let skus: usize = demo.products().iter().map(|p| p.variants.len()).sum();
    assert!(skus >= 30, "demo has {skus} SKUs");
    let tv = Sku::new("LUM-OLED-C4-55").unwrap();
    let services: Vec<_> = demo
        .services_for(&tv)
        .iter()
        .map(|(_, v)| v.sku.to_string())
        .collect();
    assert!(services.contains(&"SVC-INSTALL-TV".to_string()));
}

/// The demo promotions do what their labels say (hand-computed).
#[test]
fn demo_promotions_behave_as_advertised() {
    let demo = load(include_str!("../../server/data/demo-catalogue.json")).unwrap();
    assert!(demo.promotions().len() >= 12);
    let context: QuoteContext = serde_json::from_str(r#"{"now": "2026-11-22T12:00:00Z"}"#).unwrap();
    let cart = |json: &str| serde_json::from_str::<Cart>(json).unwrap();
    let applied = |q: &omnicart_engine::Quote| {
        q.applied
            .iter()
            .map(|a| format!("{}:{}", a.promotion_id, a.amount.amount()))
            .collect::<Vec<_>>()
    };

    // TV + PlayStation: 1399.00 + 549.99 − 20% of 549.99 (110.00) − €100 (spend €1,500), free cable.
    let q = quote(&demo, &cart(r#"{"lines":[{"sku":"LUM-OLED-C4-55","quantity":1},{"sku":"PS5-SLIM-DISC","quantity":1}]}"#), &context).unwrap();
    assert_eq!(q.total.amount().to_string(), "1738.99");
    // Free delivery qualifies; its amount is known once a delivery option is chosen.
    assert_eq!(
        applied(&q),
        [
            "ps-with-tv:110.00",
            "gift-cable-1000:19.99",
            "spend-and-save:100.00",
            "free-delivery-99:0.00"
        ]
    );
    assert!(
        q.lines
            .iter()
            .any(|l| l.gift && l.sku.as_str() == "CBL-HDMI21-2M")
    );

    // The exclusive Xbox price (saves 50.99) beats spend-and-save (25.00) and stands alone.
    let q = quote(&demo, &cart(r#"{"lines":[{"sku":"XBX-SERIES-X","quantity":1},{"sku":"CBL-HDMI21-2M","quantity":1}]}"#), &context).unwrap();
    assert_eq!(q.total.amount().to_string(), "468.99");
    assert_eq!(applied(&q), ["xbox-exclusive:50.99"]);

    // A TV alone is told about the PlayStation offer, with the saving.
    let q = quote(
        &demo,
        &cart(r#"{"lines":[{"sku":"NRD-LED-43","quantity":1}]}"#),
        &context,
    )
    .unwrap();
    let hint = q
        .hints
        .iter()
        .find(|h| &*h.promotion_id == "ps-with-tv")
        .unwrap_or_else(|| panic!("PlayStation hint in {:#?}", q.hints));
    assert_eq!(hint.add.as_ref().unwrap().sku.as_str(), "PS5-SLIM-DIGITAL");
    assert_eq!(hint.saving.unwrap().amount().to_string(), "90.00");

    // A product page lists the offers that name the product, without coupon offers.
    let offers: Vec<&str> = demo
        .offers_for(&Sku::new("PS5-SLIM-DIGITAL").unwrap())
        .iter()
        .map(|p| &*p.id)
        .collect();
    assert_eq!(offers, ["ps-with-tv"]);
    let offers: Vec<&str> = demo
        .offers_for(&Sku::new("CBL-HDMI21-1M").unwrap())
        .iter()
        .map(|p| &*p.id)
        .collect();
    assert_eq!(
        offers,
        ["cables-3-for-2"],
        "CABLE20 needs a code, so it is not advertised"
    );

    // Expired and first-order-only coupons say why.
    let q = quote(
        &demo,
        &cart(
            r#"{"lines":[{"sku":"NRD-LED-43","quantity":1}],"coupons":["stream20","welcome10"]}"#,
        ),
        &context,
    )
    .unwrap();
    let reasons: Vec<_> = q
        .coupons
        .iter()
        .map(|c| (c.code.as_str(), c.reason_code.as_deref()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("STREAM20", Some("expired")),
            ("WELCOME10", Some("first_order_only"))
        ]
    );
}

#[test]
fn bad_catalogues_are_refused_naming_the_field() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "duplicate SKU",
            r#""sku": "TV-65""#,
            r#""sku": "TV-55""#,
            "duplicate SKU TV-55",
        ),
        (
            "unknown category",
            r#""category": "cable""#,
            r#""category": "cables""#,
            "products[1] (cable).category",
        ),
        (
            "price finer than a cent",
            r#""price": "33.33""#,
            r#""price": "33.333""#,
            "variants[0].price",
        ),
        (
            "negative price",
            r#""price": "33.33""#,
            r#""price": "-1.00""#,
            "must not be negative",
        ),
        (
            "price as a float",
            r#""price": "33.33""#,
            r#""price": 33.33"#,
            "invalid type",
        ),
        (
            "unknown service",
            r#""services": ["INSTALL"]"#,
            r#""services": ["NOPE"]"#,
            "unknown SKU NOPE",
        ),
        (
            "service that is goods",
            r#""services": ["INSTALL"]"#,
            r#""services": ["CBL"]"#,
            "CBL is not a service",
        ),
        (
            "unknown currency",
            r#""currency": "EUR""#,
            r#""currency": "EUX""#,
            "unknown currency",
        ),
        (
            "price in scientific notation",
            r#""price": "33.33""#,
            r#""price": "3.333e1""#,
            "is not a decimal amount",
        ),
        (
            "unknown field",
            r#""brand": "C","#,
            r#""brand": "C", "colour": "red","#,
            "unknown field `colour`",
        ),
        (
            "empty name",
            r#""name": "Cable""#,
            r#""name": " ""#,
            "products[1] (cable).name",
        ),
        (
            "bad SKU",
            r#""sku": "CBL""#,
            r#""sku": "C B L""#,
            "a SKU is 1 to 64 characters",
        ),
    ];
    assert!(load(BASE).is_ok());
    for (name, from, to, expected) in cases {
        assert!(BASE.contains(from), "{name}: fixture lacks {from}");
        let broken = BASE.replacen(from, to, 1);
        let err = load(&broken).expect_err(name);
        assert!(
            err.contains(expected),
            "{name}: {err:?} should mention {expected:?}"
        );
    }
}

#[test]
fn promotion_amounts_are_bounded() {
    // Ten trillion is the most a promotion may name: past it, a threshold would not fit the
    // integers promotions compute in.
    let with = |amount: &str| {
        let mut snapshot: serde_json::Value = serde_json::from_str(BASE).unwrap();
        snapshot["promotions"] = serde_json::json!([{"id": "big", "label": "Big spender", "conditions": [{"type": "subtotal_at_least", "amount": amount}],
            "action": {"type": "order_amount_off", "amount": "5.00"}}]);
        load(&snapshot.to_string())
    };
    assert!(with("10000000000000.00").is_ok());
    let err = with("10000000000000.01").unwrap_err();
    assert!(
        err.contains("promotions[0] (big).conditions.amount")
            && err.contains("at most 10000000000000"),
        "{err}"
    );
}

#[test]
fn tax_rates_are_plain_decimals() {
    let catalogue = include_str!("data/promo_catalogue.json");
    assert!(load(catalogue).is_ok());
    for bad in ["1.9e-1", "0,19", "19%", "1.00"] {
        let broken = catalogue.replacen(r#""rate": "0.19""#, &format!(r#""rate": "{bad}""#), 1);
        let err = load(&broken).expect_err(bad);
        assert!(err.contains("pricing.tax_rates[0].rate"), "{bad}: {err}");
    }
}

#[test]
fn snapshot_round_trips_through_json() {
    let snapshot = load(BASE).unwrap();
    let json = serde_json::to_string(&snapshot).unwrap();
    let again = load(&json).unwrap();
    assert_eq!(again.products(), snapshot.products());
    assert_eq!(again.version(), "test-1");
}

#[test]
fn validation_errors_have_a_code() {
    let broken = BASE.replacen(r#""sku": "TV-65""#, r#""sku": "TV-55""#, 1);
    let data: serde_json::Value = serde_json::from_str(&broken).unwrap();
    let err = serde_json::from_value::<Snapshot>(data).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("products[0] (tv).variants[1].sku"),
        "{err}"
    );
    let typed = omnicart_engine::SnapshotError::Invalid {
        field: "x".into(),
        problem: "y".into(),
    };
    assert_eq!(typed.code(), "snapshot_invalid");
}
