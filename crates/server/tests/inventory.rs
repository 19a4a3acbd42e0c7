//! The inventory feed, `PUT /api/inventory` (issue 16): on-hand counts and incoming supply
//! per location and SKU replace the database's, reservations stay, a resent feed changes
//! nothing, and bad records are refused clearly with nothing written. Runs on SQLite and, with
//! `OMNICART_TEST_POSTGRES`, on PostgreSQL (the harness picks).

mod common;

use axum::http::StatusCode;
use common::{Reply, TestApp, app_with_catalogue, checkout_body};
use omnicart_api::checkout::test_cards;
use omnicart_engine::{Sku, Snapshot, availability};
use omnicart_server::AppState;
use serde_json::{Value, json};

const BEAM: &str = "SON-BEAM-30";
const DORTMUND: &str = "wh-dortmund";
const LEIPZIG: &str = "wh-leipzig";
const KEY: &str = "erp-test-key-0123456789abcdef";

async fn keyed_app() -> (TestApp, AppState) {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let state = state.with_integration_keys(&[("erp".to_owned(), KEY.to_owned())]);
    let router = omnicart_server::http::app(state.clone(), None);
    let app = TestApp {
        router,
        dir: app.dir,
    };
    (app, state)
}

async fn feed(app: &TestApp, body: &Value, key: Option<&str>) -> Reply {
    let mut request = axum::http::Request::builder()
        .method("PUT")
        .uri(omnicart_api::routes::INVENTORY)
        .header(axum::http::header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header(omnicart_api::INTEGRATION_KEY_HEADER, key);
    }
    app.raw(
        request
            .body(axum::body::Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// (on hand, reserved, incoming as stored) of `sku` at `location`.
async fn row(state: &AppState, location: &str, sku: &str) -> (i64, i64, Value) {
    let (on_hand, reserved, incoming): (i64, i64, String) = sqlx::query_as(
        "SELECT on_hand, reserved, incoming FROM stock WHERE location = $1 AND sku = $2",
    )
    .bind(location)
    .bind(sku)
    .fetch_one(state.db.pool())
    .await
    .unwrap();
    (on_hand, reserved, serde_json::from_str(&incoming).unwrap())
}

/// Places a guest order of one [`BEAM`], delivered at standard to Berlin; where it ships from.
async fn place_one(app: &TestApp) -> String {
    let cart = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": BEAM, "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]);
    app.edit_now(&cart, &ops, None).await;
    let total = app.server_total(&cart, None).await;
    let body = checkout_body(&cart, &total, test_cards::SUCCESS);
    let reply = app.checkout(&format!("k-{cart}"), &body, None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    reply.json["order"]["shipments"][0]["location"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_feed_sets_counts_and_arrivals_keeps_reservations_and_is_idempotent() {
    let (app, state) = keyed_app().await;
    let from = place_one(&app).await;
    let (_, reserved, _) = row(&state, &from, BEAM).await;
    assert!(reserved >= 1);
    let body = json!({"records": [
        {"location": from, "sku": BEAM, "on_hand": 40, "incoming": [
            {"date": "2030-01-09", "quantity": 5},
            {"date": "2030-01-02", "quantity": 3},
            {"date": "2030-01-09", "quantity": 2}
        ]},
        {"location": LEIPZIG, "sku": BEAM, "on_hand": 0}
    ]});
    let reply = feed(&app, &body, Some(KEY)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json, json!({"updated": 2, "unchanged": 0}));
    let (on_hand, after, incoming) = row(&state, &from, BEAM).await;
    assert_eq!((on_hand, after), (40, reserved), "reservations stay");
    assert_eq!(
        incoming,
        json!([{"date": "2030-01-02", "quantity": 3}, {"date": "2030-01-09", "quantity": 7}]),
        "sorted by date, one entry per date"
    );
    assert_eq!(row(&state, LEIPZIG, BEAM).await.0, 0);

    // The same feed again writes nothing.
    let again = feed(&app, &body, Some(KEY)).await;
    assert_eq!(again.json, json!({"updated": 0, "unchanged": 2}));
    assert_eq!(row(&state, &from, BEAM).await.1, reserved);

    // The page's snapshot follows the feed: Leipzig shows none of it now.
    let served = app.get("/api/snapshot", None).await;
    let snapshot = Snapshot::from_json(&served.json.to_string()).unwrap();
    let a = availability(&snapshot, &Sku::new(BEAM).unwrap()).unwrap();
    assert!(
        a.locations
            .iter()
            .all(|l| l.location != LEIPZIG || l.available == 0)
    );
    let there = a.locations.iter().find(|l| l.location == from).unwrap();
    assert_eq!(i64::from(there.on_hand), 40);
}

#[tokio::test]
async fn bad_records_are_refused_clearly_and_nothing_is_written() {
    let (app, state) = keyed_app().await;
    let good = json!({"location": DORTMUND, "sku": BEAM, "on_hand": 7});
    omnicart_server::service::checkout::prepare(&state)
        .await
        .unwrap();
    let before = row(&state, DORTMUND, BEAM).await;
    let too_many: Vec<Value> = (0..=omnicart_api::supply::MAX_INVENTORY_RECORDS)
        .map(|_| good.clone())
        .collect();
    let cases = [
        (
            json!({"location": "wh-atlantis", "sku": BEAM, "on_hand": 1}),
            "unknown_location",
        ),
        (
            json!({"location": DORTMUND, "sku": "NO-SUCH-SKU", "on_hand": 1}),
            "unknown_sku",
        ),
        (
            json!({"location": DORTMUND, "sku": "SVC-SETUP", "on_hand": 1}),
            "unknown_sku",
        ),
        (
            json!({"location": DORTMUND, "sku": BEAM, "on_hand": -1}),
            "invalid_stock",
        ),
        (
            json!({"location": DORTMUND, "sku": BEAM, "on_hand": 1_000_000_001i64}),
            "invalid_stock",
        ),
        (
            json!({"location": DORTMUND, "sku": BEAM, "on_hand": 1, "incoming": [{"date": "2030-02-30", "quantity": 1}]}),
            "invalid_stock",
        ),
        (
            json!({"location": DORTMUND, "sku": BEAM, "on_hand": 1, "incoming": [{"date": "2030-02-03", "quantity": 0}]}),
            "invalid_stock",
        ),
        (good.clone(), "invalid_stock"),
    ];
    for (bad, code) in cases {
        // The good record first: refused whole, it is not written either.
        let body = json!({"records": [good, bad]});
        let reply = feed(&app, &body, Some(KEY)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(reply.code(), code, "{bad}: {:?}", reply.json);
        assert_eq!(reply.json["error"]["op_index"], 1, "{bad}");
    }
    let reply = feed(&app, &json!({"records": too_many}), Some(KEY)).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_stock")
    );
    let reply = feed(&app, &json!({"records": [good]}), None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "integration_key_required");
    assert_eq!(row(&state, DORTMUND, BEAM).await, before, "nothing written");
}
