//! Two lines drawing on one stock record are checked against their summed demand, end to end.
//!
//! A cart holds one line per SKU, but a quote may hold two lines of one SKU: the shopper's
//! and a promotion's free gift of the same item (the demo's "free 2 m HDMI cable with orders
//! over €1,000"). Collected at a store, both come off the store's one record of that cable;
//! delivered, both are in the plan and reserved. A gift is given while stocks last: when the
//! network cannot promise it on top of the cart's own units, it is not given.

mod common;

use axum::http::StatusCode;
use common::{TestApp, app_with_catalogue, checkout_body};
use omnicart_api::checkout::test_cards;
use omnicart_server::AppState;
use serde_json::{Value, json};

const TV: &str = "LUM-OLED-C4-55";
const CABLE: &str = "CBL-HDMI21-2M";
const STORE: &str = "store-berlin-alexanderplatz";

/// The demo catalogue with the cable stocked at the store only, `on_hand` units.
async fn app(on_hand: u32) -> (TestApp, AppState) {
    app_with_catalogue(|j| {
        let stock = j["network"]["stock"].as_array_mut().unwrap();
        stock.retain(|s| s["sku"] != CABLE);
        stock.push(json!({"sku": CABLE, "location": STORE, "on_hand": on_hand}));
    })
    .await
}

/// A guest cart: a TV (over €1,000, so the cable comes free while stocks last) and one
/// cable, picked up at the store. With the gift, its quote has two lines of the cable.
async fn cart(app: &TestApp, gift: bool) -> String {
    let cart = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": TV, "quantity": 1},
        {"op": "add", "sku": CABLE, "quantity": 1},
        {"op": "choose_delivery", "pickup": STORE}
    ]);
    let view = app.edit_now(&cart, &ops, None).await;
    let cables: Vec<bool> = view["quote"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["sku"] == CABLE)
        .map(|l| l["gift"].as_bool().unwrap())
        .collect();
    let expected: &[bool] = if gift { &[false, true] } else { &[false] };
    assert_eq!(cables, expected, "{view:?}");
    cart
}

async fn reserved(state: &AppState) -> i64 {
    reserved_at(state, STORE).await
}

/// The cable's units reserved at `location`.
async fn reserved_at(state: &AppState, location: &str) -> i64 {
    sqlx::query_scalar("SELECT reserved FROM stock WHERE sku = $1 AND location = $2")
        .bind(CABLE)
        .bind(location)
        .fetch_one(state.db.pool())
        .await
        .unwrap()
}

async fn place(app: &TestApp, cart: &str) -> common::Reply {
    // The cart's view is priced as placement prices it (delivery included).
    let total: Value =
        app.get(&format!("/api/carts/{cart}"), None).await.json["quote"]["total"].clone();
    let mut body: Value =
        serde_json::from_str(&checkout_body(cart, &total, test_cards::SUCCESS)).unwrap();
    // Collected: no delivery address.
    body.as_object_mut().unwrap().remove("shipping_address");
    app.checkout("place", &body.to_string(), None).await
}

/// With one cable at the store, the only one in the network, the cart's own cable takes it:
/// the gift's demand on the same record is counted with it, so the gift is not given
/// (`gift_out_of_stock`, while stocks last) and the order is collected with one cable held.
#[tokio::test]
async fn one_unit_for_two_lines_needing_one_each_keeps_the_shoppers_line_and_drops_the_gift() {
    let (app, state) = app(1).await;
    let cart = cart(&app, false).await;
    let view = app.get(&format!("/api/carts/{cart}"), None).await;
    let rejected: Vec<&str> = view.json["quote"]["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["promotion_id"] == "gift-cable-1000")
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(rejected, ["gift_out_of_stock"]);
    let reply = place(&app, &cart).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    assert_eq!(reserved(&state).await, 1, "the shopper's cable");
}

#[tokio::test]
async fn two_units_for_two_lines_needing_one_each_are_placed_and_both_reserved() {
    let (app, state) = app(2).await;
    let cart = cart(&app, true).await;
    let reply = place(&app, &cart).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    assert_eq!(reserved(&state).await, 2);
}

/// Delivered, the gift is shipped and reserved too: the plan sources the cable line and the
/// free cable from one record (the delivery plan used to hold the cart's lines only, and a
/// gift left the warehouse unreserved).
#[tokio::test]
async fn a_delivered_orders_gift_is_reserved_with_its_line() {
    let (app, state) = app_with_catalogue(|j| {
        let stock = j["network"]["stock"].as_array_mut().unwrap();
        stock.retain(|s| s["sku"] != CABLE);
        stock.push(json!({"sku": CABLE, "location": "wh-bad-hersfeld", "on_hand": 5}));
    })
    .await;
    let cart = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": TV, "quantity": 1},
        {"op": "add", "sku": CABLE, "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]);
    let view = app.edit_now(&cart, &ops, None).await;
    let gifts = view["quote"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["sku"] == CABLE && l["gift"] == true)
        .count();
    assert_eq!(gifts, 1, "{view:?}");
    let body = checkout_body(&cart, &view["quote"]["total"], test_cards::SUCCESS);
    let placed = app.checkout("delivered", &body, None).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    let shipped: u64 = placed.json["order"]["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["lines"].as_array().unwrap())
        .filter(|l| l["sku"] == CABLE)
        .map(|l| l["quantity"].as_u64().unwrap())
        .sum();
    assert_eq!(shipped, 2, "{:?}", placed.json["order"]["shipments"]);
    let reserved = reserved_at(&state, "wh-bad-hersfeld").await;
    assert_eq!(reserved, 2, "the cable and its free twin");
}

/// No cable left anywhere: the gift is not given (`gift_out_of_stock`, while stocks last) and
/// the TV is sold without it, nothing of the cable held.
#[tokio::test]
async fn a_gift_out_of_stock_is_not_given_and_the_order_goes_ahead() {
    let (app, state) = app_with_catalogue(|j| {
        let stock = j["network"]["stock"].as_array_mut().unwrap();
        stock.retain(|s| s["sku"] != CABLE);
        stock.push(json!({"sku": CABLE, "location": "wh-bad-hersfeld", "on_hand": 1}));
    })
    .await;
    // The last cable goes to a first order (the TV's gift).
    let first = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": TV, "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]);
    let view = app.edit_now(&first, &ops, None).await;
    let body = checkout_body(&first, &view["quote"]["total"], test_cards::SUCCESS);
    let placed = app.checkout("first", &body, None).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    // The next TV: the live stock has no cable, so no gift, and it is placed.
    let second = app.anonymous_cart().await;
    app.edit_now(&second, &ops, None).await;
    let total = app.server_total(&second, None).await;
    let body = checkout_body(&second, &total, test_cards::SUCCESS);
    let placed = app.checkout("second", &body, None).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    let lines = placed.json["order"]["lines"].as_array().unwrap();
    assert!(lines.iter().all(|l| l["gift"] != true), "{lines:?}");
    let reserved = reserved_at(&state, "wh-bad-hersfeld").await;
    assert_eq!(reserved, 1, "only the first order's gift");
}
