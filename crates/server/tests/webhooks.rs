//! Events to other systems through the outbox (issue 17): every change of an order and its
//! fulfilment is delivered to a real HTTP receiver on loopback, signed (the receiver checks
//! each signature as a retailer's would), in order per order, again after failures with the
//! same id, dead after the last attempt and then replayed; a rolled-back change emits
//! nothing. Runs on SQLite and, with `OMNICART_TEST_POSTGRES`, on PostgreSQL.

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::StatusCode;
use common::receiver::{Receiver, SECRET, Seen, receiver};
use common::{TestApp, app_with_catalogue, checkout_body};
use omnicart_api::checkout::test_cards;
use omnicart_engine::Timestamp;
use omnicart_order::{FulfilmentState, Parcel};
use omnicart_server::AppState;
use omnicart_server::service::fulfilment::{Action, apply};
use omnicart_server::service::webhooks::{Webhooks, spawn_dispatcher};
use omnicart_server::store::fulfilment::of_order;
use omnicart_server::store::orders;
use omnicart_server::store::outbox::{self, NewEvent};
use serde_json::json;

const SKU: &str = "SON-BEAM-30";
const KEY: &str = "erp-test-key-0123456789abcdef";

fn webhooks(url: String, max_attempts: i64) -> Webhooks {
    Webhooks {
        urls: vec![url],
        secret: SECRET.into(),
        max_attempts,
        retry_base_ms: 20,
    }
}

/// A guest order of one [`SKU`], delivered to Berlin: its id, number and guest token.
async fn placed(app: &TestApp, state: &AppState) -> (String, String, String) {
    let cart = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": SKU, "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]);
    app.edit_now(&cart, &ops, None).await;
    let total = app.get(&format!("/api/carts/{cart}"), None).await.json["quote"]["total"].clone();
    let body = checkout_body(&cart, &total, test_cards::SUCCESS);
    let reply = app.checkout(&format!("k-{cart}"), &body, None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let number = reply.json["order"]["number"].as_str().unwrap().to_owned();
    let token = reply.json["guest_token"].as_str().unwrap().to_owned();
    let row = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap();
    (row.id, number, token)
}

/// Ships the order's first fulfilment order: picking, packed, shipped (captured).
async fn ship(state: &AppState, order_id: &str) {
    let id = of_order(&state.db, order_id).await.unwrap()[0].id.clone();
    let at = Timestamp::from_unix(1_900_000_000);
    for to in [FulfilmentState::Picking, FulfilmentState::Packed] {
        apply(state, "wms", &id, Action::To(to), at).await.unwrap();
    }
    let parcel = Parcel {
        carrier: "DHL".into(),
        tracking_number: "JD0001".into(),
        label: String::new(),
    };
    apply(state, "wms", &id, Action::Ship(parcel), at)
        .await
        .unwrap();
}

async fn count(state: &AppState, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    n
}

/// Waits (up to a minute, for a loaded machine) until `done` holds of what was received.
async fn until(r: &Receiver, done: impl Fn(&[Seen]) -> bool) -> Vec<Seen> {
    for _ in 0..3000 {
        let seen = r.seen.lock().unwrap().clone();
        if done(&seen) {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not received: {:#?}", r.seen.lock().unwrap());
}

fn accepted(seen: &[Seen]) -> Vec<&Seen> {
    seen.iter().filter(|s| s.accepted).collect()
}

/// Each order's accepted events are its sequence 1, 2, 3, … in turn, every id once.
fn assert_in_order(seen: &[Seen]) {
    let mut next: HashMap<String, i64> = HashMap::new();
    for s in accepted(seen) {
        let order = s.body["order_number"].as_str().unwrap().to_owned();
        let expected = next.entry(order).or_insert(1);
        assert_eq!(s.body["sequence"], json!(*expected), "{s:?}");
        *expected += 1;
    }
}

#[tokio::test]
async fn every_change_is_delivered_signed_and_in_order() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let r = Receiver::default();
    spawn_dispatcher(state.db.clone(), webhooks(receiver(&r).await, 5))
        .await
        .unwrap();
    let (first, number, _) = placed(&app, &state).await;
    let (_, second, token) = placed(&app, &state).await;
    ship(&state, &first).await;
    // The second order is cancelled by its shopper.
    let reply = app
        .post(
            &format!("/api/orders/{second}/cancel?token={token}"),
            "",
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    let written = count(&state, "SELECT COUNT(*) FROM outbox").await;
    let seen = until(&r, |s| accepted(s).len() as i64 == written).await;
    assert!(seen.iter().all(|s| s.signed), "{seen:#?}");
    assert_in_order(&seen);
    let kinds: Vec<&str> = seen
        .iter()
        .filter(|s| s.body["order_number"] == json!(number))
        .map(|s| s.kind.as_str())
        .collect();
    assert_eq!(kinds[..2], ["order.placed", "fulfilment.open"], "{kinds:?}");
    for kind in [
        "fulfilment.picking",
        "fulfilment.packed",
        "fulfilment.shipped",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert!(
        kinds
            .iter()
            .any(|k| k.starts_with("order.") && *k != "order.placed")
    );
    // The ERP's invoice lines and tax, the CRM's customer, in the placed event.
    let placed = &seen[seen.iter().position(|s| s.kind == "order.placed").unwrap()].body;
    assert!(
        placed["data"]["order"]["lines"][0]["tax"].is_object(),
        "{placed}"
    );
    assert!(!placed["data"]["tax_lines"].as_array().unwrap().is_empty());
    assert_eq!(
        placed["data"]["order"]["contact"]["email"],
        "shopper@example.com"
    );
    // The shipped event says what was captured.
    let shipped = seen
        .iter()
        .rev()
        .find(|s| s.kind.starts_with("order.") && s.body["order_number"] == json!(number))
        .unwrap();
    assert_ne!(
        shipped.body["data"]["captured"]["amount"],
        json!("0.00"),
        "{:?}",
        shipped.body
    );
    assert!(
        seen.iter()
            .any(|s| s.kind == "order.cancelled" && s.body["order_number"] == json!(second))
    );
}

#[tokio::test]
async fn a_receiver_that_fails_three_times_gets_the_event_again_before_the_next() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let r = Receiver::default();
    r.fail_first.store(3, Ordering::SeqCst);
    spawn_dispatcher(state.db.clone(), webhooks(receiver(&r).await, 10))
        .await
        .unwrap();
    let (order, _, _) = placed(&app, &state).await;
    ship(&state, &order).await;
    let written = count(&state, "SELECT COUNT(*) FROM outbox").await;
    let seen = until(&r, |s| accepted(s).len() as i64 == written).await;
    // The first event was refused three times, then taken: four times the same id and body.
    let first = &seen[0];
    let tries: Vec<&Seen> = seen.iter().filter(|s| s.id == first.id).collect();
    assert_eq!(tries.len(), 4, "{seen:#?}");
    assert!(tries.iter().all(|t| t.body == first.body && t.signed));
    assert_eq!(first.body["sequence"], 1);
    // Nothing of the order went ahead of it, and nothing else came twice.
    assert!(seen[..4].iter().all(|s| s.id == first.id), "{seen:#?}");
    assert_eq!(seen.len() as i64, written + 3);
    assert_in_order(&seen);
}

#[tokio::test]
async fn a_dead_letter_is_listed_and_replayed_with_its_id() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let state = state.with_integration_keys(&[("erp".to_owned(), KEY.to_owned())]);
    let app = TestApp {
        router: omnicart_server::http::app(state.clone(), None),
        dir: app.dir,
    };
    let r = Receiver::default();
    r.fail_first.store(2, Ordering::SeqCst);
    spawn_dispatcher(state.db.clone(), webhooks(receiver(&r).await, 2))
        .await
        .unwrap();
    let (_, number, _) = placed(&app, &state).await;
    let written = count(&state, "SELECT COUNT(*) FROM outbox").await;
    // The first event dies after two refusals; the order's later events then go ahead.
    let seen = until(&r, |s| accepted(s).len() as i64 == written - 1).await;
    let dead_id = seen[0].id.clone();
    assert!(accepted(&seen).iter().all(|s| s.id != dead_id));
    let list = app
        .raw(
            axum::http::Request::get("/api/integration/events?state=dead")
                .header("x-integration-key", KEY)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.json);
    let dead = list.json["events"].as_array().unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["id"], json!(dead_id));
    assert_eq!(dead[0]["order_number"], json!(number));
    assert_eq!(dead[0]["deliveries"][0]["state"], "dead");
    assert_eq!(dead[0]["deliveries"][0]["attempts"], 2);
    // Only with the key.
    let anonymous = app.get("/api/integration/events", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let replay = app
        .raw(
            axum::http::Request::post(format!("/api/integration/events/{dead_id}/replay"))
                .header("x-integration-key", KEY)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK, "{:?}", replay.json);
    let seen = until(&r, |s| accepted(s).iter().any(|a| a.id == dead_id)).await;
    let again = seen.iter().rfind(|s| s.id == dead_id).unwrap();
    assert_eq!(again.body, seen[0].body, "the same id and body");
    let missing = app
        .raw(
            axum::http::Request::post("/api/integration/events/evt_nope/replay")
                .header("x-integration-key", KEY)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rolled_back_change_emits_nothing() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    omnicart_server::store::outbox::register_endpoints(
        &state.db,
        &["http://127.0.0.1:9/hook".into()],
    )
    .await
    .unwrap();
    let (order, number, token) = placed(&app, &state).await;
    let events = count(&state, "SELECT COUNT(*) FROM outbox").await;
    let deliveries = count(&state, "SELECT COUNT(*) FROM event_deliveries").await;
    assert_eq!(
        events, deliveries,
        "one delivery per event to the one endpoint"
    );
    let mut tx = state.db.begin_write().await.unwrap();
    outbox::append(
        &mut tx,
        &NewEvent {
            kind: "order.updated",
            order_id: &order,
            order_number: &number,
            data: &json!({}),
        },
    )
    .await
    .unwrap();
    drop(tx);
    // A refused change (a cancel of a shipped order) neither.
    ship(&state, &order).await;
    let after_ship = count(&state, "SELECT COUNT(*) FROM outbox").await;
    let reply = app
        .post(
            &format!("/api/orders/{number}/cancel?token={token}"),
            "",
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.json);
    assert_eq!(
        count(&state, "SELECT COUNT(*) FROM outbox").await,
        after_ship
    );
    assert!(after_ship > events);
    assert_eq!(
        count(&state, "SELECT COUNT(*) FROM event_deliveries").await,
        after_ship
    );
}
