//! Once-per-customer coupons over HTTP: the signed-in customer's used codes (from their orders
//! not cancelled) reach every quote the server makes for them (cart views, `GET /api/me` for
//! the page's own quote, the re-quote at placement), and cancelling gives a code back.

mod common;

use axum::http::StatusCode;
use common::{KYLIE, MIKE, TestApp, app_with_catalogue, checkout_body};
use omnicart_api::checkout::test_cards;
use serde_json::{Value, json};

const SKU: &str = "SON-BEAM-30";
const CODE: &str = "THANKS15";

/// The demo catalogue with a once-per-customer coupon: €15 off the order.
async fn app() -> TestApp {
    let (app, _state) = app_with_catalogue(|j| {
        j["promotions"].as_array_mut().unwrap().push(json!({
            "id": "thanks15",
            "label": "THANKS15: €15 off, once per customer",
            "once_per_customer": true,
            "conditions": [{"type": "coupon", "code": CODE}],
            "action": {"type": "order_amount_off", "amount": "15.00"}
        }));
    })
    .await;
    app
}

/// The customer's cart with one sound bar, delivered at standard to Berlin, and the code.
fn ops() -> Value {
    json!([
        {"op": "add", "sku": SKU, "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"},
        {"op": "apply_coupon", "code": CODE}
    ])
}

/// The code's outcome in a cart view's quote: `None` when applied, else the reason's code.
fn outcome(view: &Value) -> Option<String> {
    let coupon = view["quote"]["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == CODE)
        .unwrap_or_else(|| panic!("no outcome for {CODE}: {view:?}"));
    match coupon["applied"].as_bool().unwrap() {
        true => None,
        false => Some(coupon["reason_code"].as_str().unwrap().to_owned()),
    }
}

/// Places the customer's cart at the server's total; the order's number.
async fn place(app: &TestApp, cart: &str, cookie: &str, key: &str) -> String {
    let total = app.server_total(cart, Some(cookie)).await;
    let body = checkout_body(cart, &total, test_cards::SUCCESS);
    let reply = app.checkout(key, &body, Some(cookie)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    reply.json["order"]["number"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_once_per_customer_coupon_applies_once_until_its_order_is_cancelled() {
    let app = app().await;
    let (mike, cart) = app.sign_in(MIKE).await;
    let me = app.get("/api/me", Some(&mike)).await.json;
    assert_eq!(me["used_coupons"], json!([]));

    // First order: the code applies, and the checkout's total is the cart's.
    let first = app.edit_now(&cart, &ops(), Some(&mike)).await;
    assert_eq!(outcome(&first), None, "{first:?}");
    let discounted = first["quote"]["total"].clone();
    assert_eq!(app.server_total(&cart, Some(&mike)).await, discounted);
    let number = place(&app, &cart, &mike, "first").await;
    let me = app.get("/api/me", Some(&mike)).await.json;
    assert_eq!(me["used_coupons"], json!([CODE]), "the page quotes with it");

    // The next cart: the engine refuses the code, in the cart view and at placement.
    let second = app.edit_now(&cart, &ops(), Some(&mike)).await;
    assert_eq!(
        outcome(&second).as_deref(),
        Some("coupon_already_used"),
        "{second:?}"
    );
    let rejected = &second["quote"]["rejected"];
    assert!(
        rejected
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["promotion_id"] == "thanks15" && r["code"] == "coupon_already_used"),
        "{rejected:?}"
    );
    let full = second["quote"]["total"].clone();
    assert_ne!(full, discounted);
    let stale = checkout_body(&cart, &discounted, test_cards::SUCCESS);
    let reply = app.checkout("second-stale", &stale, Some(&mike)).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "price_changed"),
        "{:?}",
        reply.json
    );
    assert_eq!(reply.json["error"]["total"], full);

    // Another customer still has it (at their own prices: Kylie is a member).
    let (kylie, kylie_cart) = app.sign_in(KYLIE).await;
    let theirs = app.edit_now(&kylie_cart, &ops(), Some(&kylie)).await;
    assert_eq!(outcome(&theirs), None, "{theirs:?}");

    // Cancelling the first order gives the code back.
    let cancelled = app
        .post(&format!("/api/orders/{number}/cancel"), "", Some(&mike))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.json);
    let me = app.get("/api/me", Some(&mike)).await.json;
    assert_eq!(me["used_coupons"], json!([]));
    let again = app.get(&format!("/api/carts/{cart}"), Some(&mike)).await;
    assert_eq!(outcome(&again.json), None, "{:?}", again.json);
    assert_eq!(again.json["quote"]["total"], discounted);
    let body = checkout_body(&cart, &discounted, test_cards::SUCCESS);
    let reply = app.checkout("third", &body, Some(&mike)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let me = app.get("/api/me", Some(&mike)).await.json;
    assert_eq!(me["used_coupons"], json!([CODE]), "used again");
}

#[tokio::test]
async fn a_reusable_code_stays_reusable_for_the_customer_who_used_it() {
    let (app, _state) = app_with_catalogue(|_| {}).await;
    let (mike, cart) = app.sign_in(MIKE).await;
    let cables = json!([
        {"op": "add", "sku": "CBL-HDMI21-2M", "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"},
        {"op": "apply_coupon", "code": "CABLE20"}
    ]);
    for round in ["first", "second"] {
        let view = app.edit_now(&cart, &cables, Some(&mike)).await;
        let applied = view["quote"]["coupons"][0]["applied"].as_bool();
        assert_eq!(applied, Some(true), "{round}: {view:?}");
        place(&app, &cart, &mike, round).await;
    }
    let me = app.get("/api/me", Some(&mike)).await.json;
    assert_eq!(me["used_coupons"], json!(["CABLE20"]), "each code once");
}
