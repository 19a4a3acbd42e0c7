//! Fulfilment-update throughput, in process: places `--orders` guest orders of one item
//! through the router (SQLite in a temporary folder, the demo catalogue, the test gateway),
//! then moves every fulfilment order open → picking → packed → shipped (the ship capturing
//! the parcel through the provider and the order's ledger) → delivered with
//! `service::fulfilment::apply`, one after another, and prints transitions/s and latency
//! percentiles. No HTTP socket and no concurrency: it measures the service and the store.
//!
//! ```text
//! cargo run -p omnicart-server --example fulfilment_load -- 150
//! cargo run -p omnicart-server --example fulfilment_load -- 150 reject
//! ```
//!
//! With `reject`, each fulfilment order's line is rejected instead
//! (`service::resourcing::reject`: the engine sources it again without that location, the
//! reservation moves, a new fulfilment order opens, the shopper is mailed), one at a time.

use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use omnicart_order::{FulfilmentState, Parcel};
use omnicart_server::catalogue::Catalogue;
use omnicart_server::service::fulfilment::{Action, apply};
use omnicart_server::store::{Db, fulfilment, orders};
use omnicart_server::{AppState, http::app};
use serde_json::{Value, json};
use tower::ServiceExt;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(150);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("load.db").display());
    let db = Db::connect(&url).await.expect("database");
    // The demo catalogue with every stock record a thousand times larger.
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo-catalogue.json");
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(demo).unwrap()).unwrap();
    for s in json["network"]["stock"].as_array_mut().unwrap() {
        s["on_hand"] = json!(s["on_hand"].as_u64().unwrap() * 1000);
    }
    let path = dir.path().join("catalogue.json");
    std::fs::write(&path, json.to_string()).unwrap();
    let catalogue = Catalogue::load(&path).expect("the catalogue");
    // All requests come from one address: lift the per-address limits for the placements.
    let many = std::num::NonZeroU32::new(1_000_000).unwrap();
    let limits = omnicart_server::service::limits::LimitsConfig {
        carts: many,
        sync: many,
        cart_sync: many,
        ..Default::default()
    };
    let state = AppState::new(db, catalogue)
        .expect("state")
        .with_limits(limits);
    let router = app(state.clone(), None);
    let mut ids = Vec::new();
    for i in 0..n {
        let number = place(&router, i).await;
        let row = orders::by_number(&state.db, &number)
            .await
            .unwrap()
            .unwrap();
        for f in fulfilment::of_order(&state.db, &row.id).await.unwrap() {
            ids.push(f.id);
        }
    }
    if std::env::args().nth(2).as_deref() == Some("reject") {
        return rejections(&state, &ids).await;
    }
    let mut micros = Vec::new();
    let started = Instant::now();
    for id in &ids {
        let parcel = Parcel {
            carrier: "DHL".into(),
            tracking_number: format!("T-{id}"),
            label: String::new(),
        };
        for action in [
            Action::To(FulfilmentState::Picking),
            Action::To(FulfilmentState::Packed),
            Action::Ship(parcel),
            Action::To(FulfilmentState::Delivered),
        ] {
            let t = Instant::now();
            let at = omnicart_engine::Timestamp::from_unix(omnicart_server::ids::now_unix());
            apply(&state, "load", id, action, at)
                .await
                .expect("transition");
            micros.push(t.elapsed().as_micros() as u64);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    micros.sort_unstable();
    let p = |q: usize| micros[(micros.len() - 1) * q / 100] as f64 / 1000.0;
    println!(
        "{} fulfilment orders, {} transitions in {elapsed:.2} s: {:.0} transitions/s; \
         p50 {:.2} ms, p99 {:.2} ms (ships capture)",
        ids.len(),
        micros.len(),
        micros.len() as f64 / elapsed,
        p(50),
        p(99)
    );
}

/// Rejects line 0 of every fulfilment order in turn; prints rejections/s and percentiles.
async fn rejections(state: &AppState, ids: &[String]) {
    let mut micros = Vec::new();
    let started = Instant::now();
    for id in ids {
        let request = omnicart_api::RejectionRequest {
            lines: vec![0],
            reason: "short_pick".into(),
        };
        let t = Instant::now();
        let at = omnicart_engine::Timestamp::from_unix(omnicart_server::ids::now_unix());
        let reply = omnicart_server::service::resourcing::reject(state, "load", id, request, at)
            .await
            .expect("rejection");
        assert_eq!(reply.resourced.len(), 1, "sourced again elsewhere");
        micros.push(t.elapsed().as_micros() as u64);
    }
    let elapsed = started.elapsed().as_secs_f64();
    micros.sort_unstable();
    let p = |q: usize| micros[(micros.len() - 1) * q / 100] as f64 / 1000.0;
    println!(
        "{} rejections re-sourced in {elapsed:.2} s: {:.0}/s; p50 {:.2} ms, p99 {:.2} ms",
        micros.len(),
        micros.len() as f64 / elapsed,
        p(50),
        p(99)
    );
}

async fn call(router: &axum::Router, method: &str, uri: &str, body: Value) -> Value {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", format!("k-{uri}-{}", rand_key()))
        .body(Body::from(body.to_string()))
        .unwrap();
    let reply = router.clone().oneshot(request).await.unwrap();
    let bytes = reply.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

fn rand_key() -> String {
    omnicart_server::ids::random_id("")
}

/// Places one guest order of one soundbar, delivered at standard; its number.
async fn place(router: &axum::Router, i: usize) -> String {
    let cart = call(router, "POST", "/api/carts", json!({})).await;
    let id = cart["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a cart: {cart}"))
        .to_owned();
    let ops = json!({"version": cart["version"].clone(), "ops": [
        {"op": "add", "sku": "SON-BEAM-30", "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]});
    let edited = call(router, "POST", &format!("/api/carts/{id}/ops"), ops).await;
    let total = edited["quote"]["total"].clone();
    let body = json!({
        "cart_id": id,
        "expected_total": total,
        "contact": {"email": format!("load{i}@example.com"), "name": "Load"},
        "shipping_address": {"name": "Load", "street": ["Invalidenstr. 1"], "postcode": "10115", "city": "Berlin", "country": "DE"},
        "payment": {"provider": "test", "token": omnicart_api::checkout::test_cards::SUCCESS}
    });
    let placed = call(router, "POST", "/api/checkout", body).await;
    placed["order"]["number"]
        .as_str()
        .unwrap_or_else(|| panic!("placed: {placed}"))
        .to_owned()
}
