//! The adapter in real headless Chromium (wasm-bindgen-test): load the demo snapshot, edit and
//! price a cart through the JS-facing API, and check that errors carry their codes.
#![cfg(target_arch = "wasm32")]

use omnicart_wasm::Engine;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).expect("test JSON")
}

fn engine() -> Engine {
    Engine::new(json(include_str!("../../server/data/demo-catalogue.json")))
        .expect("demo snapshot loads")
}

fn get(value: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(value.clone(), |v, key| {
        js_sys::Reflect::get(&v, &key.into()).unwrap()
    })
}

fn code_of(err: JsValue) -> String {
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "errors are JS Error objects"
    );
    get(&err, "code").as_string().unwrap()
}

#[wasm_bindgen_test]
fn prices_a_cart_exactly() {
    let engine = engine();
    let cart = json(
        r#"{"lines":[{"sku":"LUM-OLED-C4-55","quantity":1},{"sku":"CBL-HDMI21-2M","quantity":3}]}"#,
    );
    let quote = engine.quote(cart, None).unwrap();
    // 1399.00 + 3 × 19.99, the cheapest cable free (buy 2 get 1), less €25 (spend €500)
    assert_eq!(get(&quote, "total.amount").as_string().unwrap(), "1413.98");
    assert_eq!(
        get(&quote, "lines.1.adjustments.0.promotion_id")
            .as_string()
            .unwrap(),
        "cables-3-for-2"
    );
    assert_eq!(get(&quote, "total.currency").as_string().unwrap(), "EUR");
    // Each line carries the rate its tax was computed at (German VAT), as a string.
    assert_eq!(get(&quote, "lines.0.tax_rate").as_string().unwrap(), "0.19");
    assert_eq!(get(&quote, "item_count").as_f64().unwrap(), 4.0);
    let file = json(include_str!("../../server/data/demo-catalogue.json"));
    assert_eq!(
        engine.snapshot_version(),
        get(&file, "version").as_string().unwrap()
    );
}

#[wasm_bindgen_test]
fn applies_ops_and_replaces_in_place() {
    let engine = engine();
    let cart = json(r#"{"lines":[]}"#);
    let ops = json(
        r#"[{"op":"add","sku":"VIS-Q80-55","quantity":1},{"op":"add","sku":"PS5-SLIM-DISC","quantity":1},
            {"op":"replace","sku":"VIS-Q80-55","with":"VIS-Q80-65"}]"#,
    );
    let cart = engine.apply_ops(cart, ops).unwrap();
    assert_eq!(get(&cart, "lines.0.sku").as_string().unwrap(), "VIS-Q80-65");
    let quote = engine.quote(cart, None).unwrap();
    assert_eq!(
        get(&quote, "subtotal.amount").as_string().unwrap(),
        "1748.99"
    );
}

#[wasm_bindgen_test]
fn errors_carry_codes() {
    let engine = engine();
    let empty = || json(r#"{"lines":[]}"#);
    let unknown = engine
        .apply_ops(empty(), json(r#"[{"op":"add","sku":"NOPE","quantity":1}]"#))
        .unwrap_err();
    assert_eq!(code_of(unknown.clone()), "unknown_sku");
    assert_eq!(get(&unknown, "opIndex").as_f64(), Some(0.0));
    let zero = engine
        .apply_ops(empty(), json(r#"[{"op":"add","sku":"NOPE","quantity":0}]"#))
        .unwrap_err();
    assert_eq!(code_of(zero), "invalid_input");
    let bad_snapshot = Engine::new(json(
        r#"{"version":"x","currency":"EUR","categories":[],"products":[1]}"#,
    ));
    assert_eq!(code_of(bad_snapshot.err().unwrap()), "snapshot_invalid");
}
