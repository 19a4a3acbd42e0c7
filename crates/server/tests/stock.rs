//! Live stock against a real database: the snapshot the page loads carries the database's
//! stock (its ETag changes with it, and only with it), placement re-quotes with it (so the
//! plan moves to where units are left), and `out_of_stock` names the date incoming supply
//! gives. Two apps over one database stand for two server processes: each has its own
//! catalogue and feed cache, and only the database in common.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Reply, TestApp, app_with_catalogue, database_url, edited_catalogue};
use omnicart_api::checkout::test_cards;
use omnicart_engine::{
    Cart, CartOp, Destination, QuoteContext, Sku, Snapshot, Timestamp, availability,
    quote_with_delivery,
};
use omnicart_server::store::Db;
use omnicart_server::{AppState, app};
use serde_json::{Value, json};

const SKU: &str = "SON-BEAM-30";
const BAD_HERSFELD: &str = "wh-bad-hersfeld";
const DORTMUND: &str = "wh-dortmund";

/// Leaves `sku` the stock records `records` (`[location, on_hand, incoming]`).
fn stock_of(json: &mut Value, sku: &str, records: &[(&str, u32, Value)]) {
    let stock = json["network"]["stock"].as_array_mut().unwrap();
    stock.retain(|s| s["sku"] != sku);
    for (location, on_hand, incoming) in records {
        stock.push(
            json!({"sku": sku, "location": location, "on_hand": on_hand, "incoming": incoming}),
        );
    }
}

fn cart_ops(sku: &str) -> Vec<Value> {
    vec![
        json!({"op": "add", "sku": sku, "quantity": 1}),
        json!({"op": "set_address", "address": {"postcode": "10115"}}),
        json!({"op": "choose_delivery", "level": "standard"}),
    ]
}

/// A guest cart with one `sku`, delivered at standard to Berlin.
async fn guest_cart(app: &TestApp, sku: &str) -> String {
    let cart = app.anonymous_cart().await;
    let ops = Value::from(cart_ops(sku)).to_string();
    let reply = app.edit(&cart, 1, &ops, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    cart
}

fn body(cart: &str, total: &Value) -> String {
    json!({
        "cart_id": cart,
        "expected_total": total,
        "contact": {"email": "shopper@example.com", "name": "A Shopper"},
        "shipping_address": {"name": "A Shopper", "street": ["Invalidenstr. 1"], "postcode": "10115", "city": "Berlin", "country": "DE"},
        "payment": {"provider": "test", "token": test_cards::SUCCESS}
    })
    .to_string()
}

async fn checkout(app: &TestApp, key: &str, body: &str) -> Reply {
    let request = Request::builder()
        .method("POST")
        .uri("/api/checkout")
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key);
    app.raw(request.body(Body::from(body.to_owned())).unwrap())
        .await
}

/// The server's total for the cart: a checkout with a total it cannot have is refused with it.
async fn server_total(app: &TestApp, cart: &str) -> Value {
    let zero = json!({"amount": "0.01", "currency": "EUR"});
    let reply = checkout(app, &format!("probe-{cart}"), &body(cart, &zero)).await;
    assert_eq!(reply.code(), "price_changed", "{:?}", reply.json);
    reply.json["error"]["total"].clone()
}

/// Places an order for one `sku`; returns the location it ships from.
async fn place_one(app: &TestApp, sku: &str) -> String {
    let cart = guest_cart(app, sku).await;
    let total = server_total(app, &cart).await;
    let reply = checkout(app, &format!("order-{cart}"), &body(&cart, &total)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let shipments = reply.json["order"]["shipments"].as_array().unwrap();
    assert_eq!(shipments.len(), 1);
    shipments[0]["location"].as_str().unwrap().to_owned()
}

/// `GET /api/snapshot`, with `If-None-Match: etag` if given.
async fn snapshot_reply(app: &TestApp, etag: Option<&str>) -> Reply {
    let mut request = Request::builder().uri("/api/snapshot");
    if let Some(etag) = etag {
        request = request.header(header::IF_NONE_MATCH, etag);
    }
    app.raw(request.body(Body::empty()).unwrap()).await
}

/// The served snapshot as the page's engine loads it, and its ETag.
async fn served(app: &TestApp) -> (String, Snapshot) {
    let reply = snapshot_reply(app, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let etag = reply.headers[header::ETAG].to_str().unwrap().to_owned();
    let snapshot = Snapshot::from_json(&reply.json.to_string()).expect("the page loads it");
    (etag, snapshot)
}

/// What `location` can promise of `sku` by the engine's availability of `snapshot`.
fn available_at(snapshot: &Snapshot, sku: &str, location: &str) -> u32 {
    let a = availability(snapshot, &Sku::new(sku).unwrap()).unwrap();
    a.locations
        .iter()
        .find(|l| l.location == location)
        .map_or(0, |l| l.available)
}

async fn count(state: &AppState, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(state.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_served_snapshot_shows_the_last_unit_gone_and_its_etag_changes() {
    let (app, _state) = app_with_catalogue(|j| {
        stock_of(
            j,
            SKU,
            &[(BAD_HERSFELD, 1, json!([])), (DORTMUND, 4, json!([]))],
        )
    })
    .await;
    let (before, snapshot) = served(&app).await;
    assert_eq!(available_at(&snapshot, SKU, BAD_HERSFELD), 1);
    let from = place_one(&app, SKU).await;
    assert_eq!(from, BAD_HERSFELD, "the one unit there ships");
    let (after, snapshot) = served(&app).await;
    assert_ne!(after, before, "the stock changed, so does the ETag");
    assert_eq!(available_at(&snapshot, SKU, BAD_HERSFELD), 0);
    assert_eq!(available_at(&snapshot, SKU, DORTMUND), 4);
    let a = availability(&snapshot, &Sku::new(SKU).unwrap()).unwrap();
    let there = a.locations.iter().find(|l| l.location == BAD_HERSFELD);
    assert_eq!(there.map(|l| (l.on_hand, l.reserved)), Some((1, 1)));
    // A browser holding the old snapshot gets the new one.
    let stale = snapshot_reply(&app, Some(&before)).await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.headers[header::ETAG].to_str().unwrap(), after);
}

#[tokio::test]
async fn unchanged_stock_keeps_the_etag_and_answers_304_and_any_writer_changes_it() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (first, _) = served(&app).await;
    // A cart edit is not a stock change.
    guest_cart(&app, SKU).await;
    let (second, _) = served(&app).await;
    assert_eq!(first, second);
    let fresh = snapshot_reply(&app, Some(&first)).await;
    assert_eq!(fresh.status, StatusCode::NOT_MODIFIED);
    assert_eq!(fresh.json, Value::Null, "no body");
    assert_eq!(fresh.headers[header::ETAG].to_str().unwrap(), first);
    // Another process (here: SQL behind the app's back) receiving goods: served at once.
    sqlx::query("UPDATE stock SET on_hand = on_hand + 7 WHERE location = $1 AND sku = $2")
        .bind(DORTMUND)
        .bind(SKU)
        .execute(state.db.pool())
        .await
        .unwrap();
    let (third, snapshot) = served(&app).await;
    assert_ne!(third, first);
    let on_hand = count(
        &state,
        &format!("SELECT on_hand - reserved - safety FROM stock WHERE location = '{DORTMUND}' AND sku = '{SKU}'"),
    )
    .await;
    assert_eq!(i64::from(available_at(&snapshot, SKU, DORTMUND)), on_hand);
    assert_eq!(
        snapshot_reply(&app, Some(&first)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_location_reserved_out_in_the_database_gives_way_to_one_with_stock() {
    let (app, state) = app_with_catalogue(|j| {
        stock_of(
            j,
            SKU,
            &[(BAD_HERSFELD, 5, json!([])), (DORTMUND, 5, json!([]))],
        )
    })
    .await;
    // By the catalogue's stock, the engine ships from Bad Hersfeld.
    let snapshot = &state.catalogue.snapshot;
    let mut cart = Cart::new();
    for op in cart_ops(SKU) {
        cart.apply(snapshot, &serde_json::from_value::<CartOp>(op).unwrap())
            .unwrap();
    }
    let now = Timestamp::from_unix(omnicart_server::ids::now_unix());
    let context = QuoteContext {
        now: Some(now),
        ..QuoteContext::default()
    };
    let to = Destination::postcode("10115");
    let (_, delivery) = quote_with_delivery(snapshot, &cart, &context, &to, now).unwrap();
    let standard = delivery
        .options
        .iter()
        .find(|o| o.level.name() == "Standard");
    assert_eq!(
        standard.map(|o| o.shipments[0].location.as_str()),
        Some(BAD_HERSFELD)
    );
    // The database (loaded from the catalogue first) has all of it reserved.
    omnicart_server::service::checkout::prepare(&state)
        .await
        .unwrap();
    sqlx::query("UPDATE stock SET reserved = on_hand WHERE location = $1 AND sku = $2")
        .bind(BAD_HERSFELD)
        .bind(SKU)
        .execute(state.db.pool())
        .await
        .unwrap();
    let from = place_one(&app, SKU).await;
    assert_eq!(from, DORTMUND);
    let reserved = |location: &str| {
        format!("SELECT reserved FROM stock WHERE location = '{location}' AND sku = '{SKU}'")
    };
    assert_eq!(count(&state, &reserved(DORTMUND)).await, 1);
    assert_eq!(count(&state, &reserved(BAD_HERSFELD)).await, 5);
}

#[tokio::test]
async fn out_of_stock_names_the_date_incoming_supply_can_promise_the_line() {
    let now = omnicart_server::ids::now_unix();
    let arrives = serde_json::to_value(Timestamp::from_unix(now + 10 * 86_400)).unwrap();
    let arrives = &arrives.as_str().unwrap()[..10];
    let incoming = json!([{"date": arrives, "quantity": 5}]);
    let (app, state) =
        app_with_catalogue(|j| stock_of(j, SKU, &[(BAD_HERSFELD, 1, incoming)])).await;
    assert_eq!(place_one(&app, SKU).await, BAD_HERSFELD);
    let cart = guest_cart(&app, SKU).await;
    let total = json!({"amount": "99.00", "currency": "EUR"});
    let reply = checkout(&app, "late", &body(&cart, &total)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.code(), "out_of_stock", "{:?}", reply.json);
    let line = &reply.json["error"]["lines"][0];
    assert_eq!(line["sku"], SKU);
    assert_eq!(line["location"], BAD_HERSFELD);
    assert_eq!(
        (line["requested"].as_u64(), line["available"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(line["available_on"], arrives, "{line}");
    // Nothing can be had now: no level, no store.
    let alternatives = &reply.json["error"]["alternatives"];
    assert_eq!(alternatives["levels"], json!([]));
    assert_eq!(alternatives["pickup_locations"], json!([]));
    let held = count(&state, "SELECT COUNT(*) FROM stock_reservations").await;
    assert_eq!(held, 1, "only the first order's unit");
}

#[tokio::test]
async fn two_servers_on_one_database_both_serve_live_stock() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(&dir).await;
    let mut apps = Vec::new();
    for _ in 0..2 {
        let db = Db::connect(&url).await.unwrap();
        let catalogue = edited_catalogue(|j| stock_of(j, SKU, &[(BAD_HERSFELD, 1, json!([]))]));
        let state = AppState::new(db, catalogue).unwrap();
        let router = app(state, None);
        apps.push(TestApp {
            router,
            dir: tempfile::tempdir().unwrap(),
        });
    }
    let (one, two) = (&apps[0], &apps[1]);
    let (before, snapshot) = served(two).await;
    assert_eq!(available_at(&snapshot, SKU, BAD_HERSFELD), 1);
    assert_eq!(served(one).await.0, before, "one stock, one ETag");
    assert_eq!(place_one(one, SKU).await, BAD_HERSFELD);
    let (after, snapshot) = served(two).await;
    assert_ne!(
        after, before,
        "the other server's sale changes this one's feed"
    );
    assert_eq!(available_at(&snapshot, SKU, BAD_HERSFELD), 0);
    assert_eq!(served(one).await.0, after);
    drop(dir);
}
