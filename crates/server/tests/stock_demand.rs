//! Two lines drawing on one stock record are checked against their summed demand, end to end.
//!
//! A cart holds one line per SKU, but a quote may hold two lines of one SKU: the shopper's
//! and a promotion's free gift of the same item (the demo's "free 2 m HDMI cable with orders
//! over €1,000"). Collected at a store, both come off the store's one record of that cable.

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

/// A guest cart: a TV (over €1,000, so the cable comes free) and one cable, picked up at the
/// store. Its quote has two lines of the cable, one of them the gift.
async fn cart(app: &TestApp) -> String {
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
    assert_eq!(cables, [false, true], "{view:?}");
    cart
}

async fn reserved(state: &AppState) -> i64 {
    sqlx::query_scalar("SELECT reserved FROM stock WHERE sku = $1 AND location = $2")
        .bind(CABLE)
        .bind(STORE)
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

#[tokio::test]
async fn one_unit_for_two_lines_needing_one_each_is_out_of_stock_naming_the_record() {
    let (app, state) = app(1).await;
    let cart = cart(&app).await;
    let reply = place(&app, &cart).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "out_of_stock"),
        "{:?}",
        reply.json
    );
    let lines = reply.json["error"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["sku"], CABLE);
    assert_eq!(lines[0]["location"], STORE);
    assert_eq!(lines[0]["requested"], 2);
    assert_eq!(lines[0]["available"], 1);
    assert_eq!(reserved(&state).await, 0, "nothing held");
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert_eq!(orders, 0);
}

#[tokio::test]
async fn two_units_for_two_lines_needing_one_each_are_placed_and_both_reserved() {
    let (app, state) = app(2).await;
    let cart = cart(&app).await;
    let reply = place(&app, &cart).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    assert_eq!(reserved(&state).await, 2);
}
