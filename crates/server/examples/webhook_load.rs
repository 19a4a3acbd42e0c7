//! Webhook dispatcher throughput, in process: a writer commits `--events` events (one per
//! write transaction, spread over 100 orders, as changes would) while the dispatcher
//! delivers them over loopback HTTP to a receiver that answers 204 at once; prints
//! events/s from the first commit to the last delivery and the delay from each event's
//! commit to its delivery (p50, p99). SQLite in a temporary folder, or PostgreSQL when
//! `DATABASE_URL` names a database.
//!
//! ```text
//! cargo run --release -p omnicart-server --example webhook_load -- 5000
//! ```

use std::time::Instant;

use omnicart_server::service::webhooks::{Webhooks, spawn_dispatcher};
use omnicart_server::store::Db;
use omnicart_server::store::outbox::{self, NewEvent};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("load.db").display()));
    let db = Db::connect(&url).await.expect("database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
    );
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    let config = Webhooks {
        urls: vec![format!("http://{addr}/hook")],
        secret: "whsec-load-0123456789abcdef".into(),
        max_attempts: 12,
        retry_base_ms: 1000,
    };
    spawn_dispatcher(db.clone(), config)
        .await
        .expect("dispatcher");
    let data =
        serde_json::json!({"state": "shipped", "lines": [{"sku": "SON-BEAM-30", "quantity": 1}]});
    let started = Instant::now();
    for i in 0..n {
        let order = format!("ord_load_{}", i % 100);
        let mut tx = db.begin_write().await.unwrap();
        let event = NewEvent {
            kind: "order.updated",
            order_id: &order,
            order_number: "0000-0000-000",
            data: &data,
        };
        outbox::append(&mut tx, &event).await.unwrap();
        tx.commit().await.unwrap();
    }
    let written = started.elapsed();
    let delivered = "SELECT COUNT(*) FROM event_deliveries WHERE delivered_at IS NOT NULL";
    loop {
        let (done,): (i64,) = sqlx::query_as(delivered)
            .fetch_one(db.pool())
            .await
            .unwrap();
        if done == n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let total = started.elapsed();
    let mut delays: Vec<i64> = sqlx::query_as::<_, (i64,)>(
        "SELECT d.delivered_at - o.created_ms FROM event_deliveries d JOIN outbox o ON o.id = d.event_id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|(d,)| d)
    .collect();
    delays.sort_unstable();
    let at = |q: f64| delays[((delays.len() - 1) as f64 * q).round() as usize];
    println!(
        "{n} events over 100 orders: written in {:.2} s, all delivered after {:.2} s: {:.0} events/s; commit to delivery p50 {} ms, p99 {} ms, max {} ms",
        written.as_secs_f64(),
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
        at(0.5),
        at(0.99),
        delays[delays.len() - 1]
    );
}
