//! Edit-commit latency, in process: places `N` guest orders of one soundbar through the router
//! (SQLite in a temporary folder, the demo catalogue with its stock ×1000, the test gateway),
//! then a call-centre agent commits two edits per order, one after another: a TV with its
//! installation added (re-priced by the engine, a TV reserved, a fulfilment order's lines
//! replaced, the difference authorized on top of the hold), then the TV taken off (released).
//! Prints edits/s and latency percentiles. No HTTP socket and no concurrency.
//!
//! ```text
//! cargo run -p omnicart-server --example edits_load -- 150
//! ```

use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use omnicart_server::catalogue::Catalogue;
use omnicart_server::store::Db;
use omnicart_server::{AppState, http::app};
use serde_json::{Value, json};
use tower::ServiceExt;

const AGENT: &str = "edits-load-agent-key-0123456789";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(150);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("load.db").display());
    let db = Db::connect(&url).await.expect("database");
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo-catalogue.json");
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(demo).unwrap()).unwrap();
    for s in json["network"]["stock"].as_array_mut().unwrap() {
        s["on_hand"] = json!(s["on_hand"].as_u64().unwrap() * 1000);
    }
    let path = dir.path().join("catalogue.json");
    std::fs::write(&path, json.to_string()).unwrap();
    let catalogue = Catalogue::load(&path).expect("the catalogue");
    let many = std::num::NonZeroU32::new(1_000_000).unwrap();
    let limits = omnicart_server::service::limits::LimitsConfig {
        carts: many,
        sync: many,
        cart_sync: many,
        ..Default::default()
    };
    let state = AppState::new(db, catalogue)
        .expect("state")
        .with_limits(limits)
        .with_integration_keys(&[("load".to_owned(), AGENT.to_owned())]);
    let router = app(state, None);
    let mut numbers = Vec::new();
    for i in 0..n {
        numbers.push(place(&router, i).await);
    }
    let add = json!([
        {"op": "add", "sku": "LUM-OLED-C4-55", "quantity": 1},
        {"op": "attach_service", "sku": "LUM-OLED-C4-55", "service": "SVC-INSTALL-TV"}
    ]);
    let remove = json!([{"op": "remove", "sku": "LUM-OLED-C4-55"}]);
    let mut micros = Vec::new();
    let started = Instant::now();
    for number in &numbers {
        for (version, ops) in [(0, &add), (1, &remove)] {
            let uri = format!("/api/orders/{number}/edits");
            let body = json!({"version": version, "ops": ops});
            let t = Instant::now();
            let (status, reply) = call(&router, &uri, body, true).await;
            micros.push(t.elapsed().as_micros() as u64);
            assert_eq!(status, StatusCode::OK, "{reply}");
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    micros.sort_unstable();
    let p = |q: usize| micros[(micros.len() - 1) * q / 100] as f64 / 1000.0;
    println!(
        "{} orders, {} edit commits in {elapsed:.2} s: {:.0} edits/s; p50 {:.2} ms, p99 {:.2} ms",
        numbers.len(),
        micros.len(),
        micros.len() as f64 / elapsed,
        p(50),
        p(99)
    );
}

async fn call(router: &axum::Router, uri: &str, body: Value, agent: bool) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", omnicart_server::ids::random_id("k-"));
    if agent {
        request = request.header(omnicart_api::INTEGRATION_KEY_HEADER, AGENT);
    }
    let reply = router
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = reply.status();
    let bytes = reply.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Places one guest order of one soundbar, delivered at standard; its number.
async fn place(router: &axum::Router, i: usize) -> String {
    let (_, cart) = call(router, "/api/carts", json!({}), false).await;
    let id = cart["id"].as_str().expect("a cart").to_owned();
    let ops = json!({"version": cart["version"].clone(), "ops": [
        {"op": "add", "sku": "SON-BEAM-30", "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]});
    let (_, edited) = call(router, &format!("/api/carts/{id}/ops"), ops, false).await;
    let body = json!({
        "cart_id": id,
        "expected_total": edited["quote"]["total"].clone(),
        "contact": {"email": format!("load{i}@example.com"), "name": "Load"},
        "shipping_address": {"name": "Load", "street": ["Invalidenstr. 1"], "postcode": "10115", "city": "Berlin", "country": "DE"},
        "payment": {"provider": "test", "token": omnicart_api::checkout::test_cards::SUCCESS}
    });
    let (_, placed) = call(router, "/api/checkout", body, false).await;
    placed["order"]["number"]
        .as_str()
        .unwrap_or_else(|| panic!("placed: {placed}"))
        .to_owned()
}
