//! The contract's JSON shapes, as both ends read and write them.

use omnicart_api::{CartView, ErrorBody, ErrorDetail, SignIn, SyncReply, SyncRequest, code};
use omnicart_engine::Cart;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

#[test]
fn an_error_body_names_only_the_fields_it_has() {
    let body: ErrorBody<Value> = ErrorBody {
        error: ErrorDetail {
            code: code::STALE_VERSION.into(),
            message: "the cart changed".into(),
            op_index: None,
            current: None,
            total: None,
            lines: Vec::new(),
            alternatives: None,
            promotions: Vec::new(),
            reason: None,
            request_id: None,
        },
    };
    let text = serde_json::to_value(&body).unwrap();
    assert_eq!(
        text,
        json!({"error": {"code": "stale_version", "message": "the cart changed"}})
    );
}

#[test]
fn a_client_that_skips_the_priced_cart_reads_the_same_error_and_reply() {
    let view = CartView {
        id: "cart_1".into(),
        version: 3,
        cart: Cart::new(),
        quote: None,
    };
    let error = json!({"error": {"code": "stale_version", "message": "m", "op_index": 2,
        "current": serde_json::to_value(&view).unwrap()}});
    let skipped: ErrorBody<IgnoredAny> = serde_json::from_value(error.clone()).unwrap();
    assert_eq!(skipped.error.op_index, Some(2));
    assert!(skipped.error.current.is_some());
    let full: ErrorBody = serde_json::from_value(error).unwrap();
    assert_eq!(full.error.current, Some(view.clone()));

    let reply = SyncReply {
        cursor: 4,
        generation: 1,
        base: None,
        ops: Vec::new(),
        cart: view,
    };
    let text = serde_json::to_string(&reply).unwrap();
    let skipped: SyncReply<IgnoredAny> = serde_json::from_str(&text).unwrap();
    assert_eq!((skipped.cursor, skipped.generation), (4, 1));
}

#[test]
fn requests_refuse_unknown_fields_and_default_what_may_be_left_out() {
    let pull: SyncRequest = serde_json::from_value(json!({"cursor": 7})).unwrap();
    assert_eq!((pull.cursor, pull.generation, pull.ops.len()), (7, 0, 0));
    let unknown =
        serde_json::from_value::<SignIn>(json!({"email": "a@b.c", "password": "p", "admin": true}));
    assert!(unknown.is_err());
    let sign_in = SignIn {
        email: "a@b.c".into(),
        password: "p".into(),
        cart_id: None,
    };
    assert_eq!(
        serde_json::to_value(&sign_in).unwrap(),
        json!({"email": "a@b.c", "password": "p"})
    );
}

#[test]
fn a_checkout_request_reads_without_any_price_but_the_total_seen() {
    let text = json!({
        "cart_id": "cart_1",
        "expected_total": {"amount": "1299.00", "currency": "EUR"},
        "contact": {"email": "mike@example.com", "name": "Mike"},
        "payment": {"provider": "test", "token": omnicart_api::checkout::test_cards::SUCCESS}
    });
    let request: omnicart_api::CheckoutRequest = serde_json::from_value(text.clone()).unwrap();
    assert_eq!(request.shipping_address, None);
    assert_eq!(serde_json::to_value(&request).unwrap(), text);
    let mut tampered = text;
    tampered["unit_price"] = json!("1.00");
    assert!(serde_json::from_value::<omnicart_api::CheckoutRequest>(tampered).is_err());
}

#[test]
fn an_out_of_stock_refusal_names_its_lines_and_skips_empty_fields() {
    let text = json!({"error": {
        "code": "out_of_stock",
        "message": "sold out",
        "lines": [{"sku": "TV-1", "location": "wh-1", "requested": 1, "available": 0}],
        "alternatives": {"levels": ["express"], "pickup_locations": []}
    }});
    let body: ErrorBody<IgnoredAny> = serde_json::from_value(text.clone()).unwrap();
    assert_eq!(body.error.lines[0].available, 0);
    assert!(body.error.promotions.is_empty() && body.error.reason.is_none());
    let back: ErrorBody<Value> = serde_json::from_value(text.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), text);
}
