//! Snapshot loading: the demo catalogue loads, and each kind of bad catalogue is refused with
//! an error naming the bad field.

use omnicart_engine::{ErrorCode, Snapshot, Sku};

const BASE: &str = include_str!("data/snapshot.json");

fn load(json: &str) -> Result<Snapshot, String> {
    serde_json::from_str::<Snapshot>(json).map_err(|e| e.to_string())
}

#[test]
fn demo_catalogue_loads_with_enough_skus() {
    let demo = load(include_str!("../../server/data/demo-catalogue.json")).expect("demo catalogue is valid");
    let skus: usize = demo.products().iter().map(|p| p.variants.len()).sum();
    assert!(skus >= 30, "demo has {skus} SKUs");
    let tv = Sku::new("LUM-OLED-C4-55").unwrap();
    let services: Vec<_> = demo.services_for(&tv).iter().map(|(_, v)| v.sku.to_string()).collect();
    assert!(services.contains(&"SVC-INSTALL-TV".to_string()));
}

#[test]
fn bad_catalogues_are_refused_naming_the_field() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("duplicate SKU", r#""sku": "TV-65""#, r#""sku": "TV-55""#, "duplicate SKU TV-55"),
        ("unknown category", r#""category": "cable""#, r#""category": "cables""#, "products[1] (cable).category"),
        ("price finer than a cent", r#""price": "33.33""#, r#""price": "33.333""#, "variants[0].price"),
        ("negative price", r#""price": "33.33""#, r#""price": "-1.00""#, "must not be negative"),
        ("price as a float", r#""price": "33.33""#, r#""price": 33.33"#, "invalid type"),
        ("unknown service", r#""services": ["INSTALL"]"#, r#""services": ["NOPE"]"#, "unknown SKU NOPE"),
        ("service that is goods", r#""services": ["INSTALL"]"#, r#""services": ["CBL"]"#, "CBL is not a service"),
        ("unknown currency", r#""currency": "EUR""#, r#""currency": "EUX""#, "unknown currency"),
        ("unknown field", r#""brand": "C","#, r#""brand": "C", "colour": "red","#, "unknown field `colour`"),
        ("empty name", r#""name": "Cable""#, r#""name": " ""#, "products[1] (cable).name"),
        ("bad SKU", r#""sku": "CBL""#, r#""sku": "C B L""#, "a SKU is 1 to 64 characters"),
    ];
    assert!(load(BASE).is_ok());
    for (name, from, to, expected) in cases {
        assert!(BASE.contains(from), "{name}: fixture lacks {from}");
        let broken = BASE.replacen(from, to, 1);
        let err = load(&broken).expect_err(name);
        assert!(err.contains(expected), "{name}: {err:?} should mention {expected:?}");
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
    assert!(err.to_string().starts_with("products[0] (tv).variants[1].sku"), "{err}");
    let typed = omnicart_engine::SnapshotError::Invalid { field: "x".into(), problem: "y".into() };
    assert_eq!(typed.code(), "snapshot_invalid");
}
