//! Fulfilment orders (issue 16): made at placement, one per planned shipment; moved by the
//! service's transitions; shipping captures the parcel once, replays move nothing. Runs on
//! SQLite and, with `OMNICART_TEST_POSTGRES`, on PostgreSQL (the harness picks).

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::{TestApp, app_with_catalogue, checkout_body};
use omnicart_api::checkout::test_cards;
use omnicart_engine::{ErrorCode, Timestamp};
use omnicart_order::{Applied, EntryKind, FulfilmentState, Parcel};
use omnicart_server::AppState;
use omnicart_server::service::fulfilment::{Action, apply};
use omnicart_server::store::fulfilment::{FulfilmentRow, of_order};
use omnicart_server::store::orders;
use serde_json::{Value, json};

const SKU: &str = "SON-BEAM-30";

/// A guest order of `quantity` of [`SKU`], delivered at standard to Berlin: its id and number.
async fn placed(app: &TestApp, state: &AppState, quantity: u32) -> (String, String) {
    let cart = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": SKU, "quantity": quantity},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]);
    app.edit_now(&cart, &ops, None).await;
    let total: Value =
        app.get(&format!("/api/carts/{cart}"), None).await.json["quote"]["total"].clone();
    let body = checkout_body(&cart, &total, test_cards::SUCCESS);
    let reply = app.checkout(&format!("k-{cart}"), &body, None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let number = reply.json["order"]["number"].as_str().unwrap().to_owned();
    let row = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap();
    (row.id, number)
}

fn at() -> Timestamp {
    Timestamp::from_unix(1_900_000_000)
}

fn parcel(tracking: &str) -> Parcel {
    Parcel {
        carrier: "DHL".into(),
        tracking_number: tracking.into(),
        label: String::new(),
    }
}

async fn step(state: &AppState, id: &str, to: FulfilmentState) -> Applied {
    apply(state, "wms", id, Action::To(to), at())
        .await
        .unwrap()
        .1
}

async fn only(state: &AppState, order_id: &str) -> FulfilmentRow {
    let mut rows = of_order(&state.db, order_id).await.unwrap();
    assert_eq!(rows.len(), 1, "one location ships it");
    rows.remove(0)
}

#[tokio::test]
async fn placement_opens_one_fulfilment_order_per_shipment_with_the_plans_units() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (order_id, number) = placed(&app, &state, 2).await;
    let order = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap()
        .order;
    let rows = of_order(&state.db, &order_id).await.unwrap();
    assert_eq!(rows.len(), order.fulfilment.shipments.len());
    for (row, shipment) in rows.iter().zip(&order.fulfilment.shipments) {
        assert_eq!(row.fulfilment.state(), FulfilmentState::Open);
        assert_eq!(row.fulfilment.location, shipment.location);
        let units: u32 = row.fulfilment.lines().iter().map(|l| l.quantity).sum();
        let planned: u32 = shipment.lines.iter().map(|l| l.quantity).sum();
        assert_eq!(units, planned);
    }
    let total: u32 = rows
        .iter()
        .flat_map(|r| r.fulfilment.lines())
        .filter(|l| l.sku == SKU)
        .map(|l| l.quantity)
        .sum();
    assert_eq!(total, 2, "every unit in exactly one fulfilment order");
}

#[tokio::test]
async fn shipping_captures_the_parcel_once_and_replays_move_nothing() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (order_id, number) = placed(&app, &state, 1).await;
    let id = only(&state, &order_id).await.id;

    let err = apply(&state, "wms", &id, Action::Ship(parcel("1")), at())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_transition", "open cannot ship");

    assert_eq!(
        step(&state, &id, FulfilmentState::Picking).await,
        Applied::Moved
    );
    assert_eq!(
        step(&state, &id, FulfilmentState::Picking).await,
        Applied::Unchanged
    );
    assert_eq!(
        step(&state, &id, FulfilmentState::Packed).await,
        Applied::Moved
    );
    let (_, first) = apply(&state, "wms", &id, Action::Ship(parcel("1")), at())
        .await
        .unwrap();
    let (_, again) = apply(&state, "wms", &id, Action::Ship(parcel("2")), at())
        .await
        .unwrap();
    assert_eq!((first, again), (Applied::Moved, Applied::Unchanged));

    let row = only(&state, &order_id).await;
    assert_eq!(row.fulfilment.parcel().unwrap().tracking_number, "1");
    let order = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap()
        .order;
    let captures: Vec<_> = order
        .payment
        .entries()
        .iter()
        .filter(|e| e.kind == EntryKind::Capture)
        .collect();
    assert_eq!(captures.len(), 1);
    assert_eq!(
        order.payment.captured(),
        order.totals.total,
        "the one parcel is the total"
    );
    assert_eq!(row.captured_minor, order.totals.total.to_minor());

    let events = omnicart_server::store::fulfilment::events(&state.db, &id)
        .await
        .unwrap();
    let path: Vec<&str> = events.iter().map(|e| e.to_state.as_str()).collect();
    assert_eq!(path, ["open", "picking", "packed", "shipped"]);
}

#[tokio::test]
async fn two_concurrent_ship_requests_capture_once() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (order_id, number) = placed(&app, &state, 1).await;
    let id = only(&state, &order_id).await.id;
    step(&state, &id, FulfilmentState::Picking).await;
    step(&state, &id, FulfilmentState::Packed).await;
    let state = Arc::new(state);
    let ships: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|t| {
            let (state, id) = (state.clone(), id.clone());
            tokio::spawn(async move {
                apply(&state, "wms", &id, Action::Ship(parcel(t)), at())
                    .await
                    .unwrap()
                    .1
            })
        })
        .collect();
    let mut applied = Vec::new();
    for s in ships {
        applied.push(s.await.unwrap());
    }
    applied.sort_by_key(|a| *a == Applied::Unchanged);
    assert_eq!(applied, [Applied::Moved, Applied::Unchanged]);
    let order = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap()
        .order;
    let captures = order
        .payment
        .entries()
        .iter()
        .filter(|e| e.kind == EntryKind::Capture)
        .count();
    assert_eq!(captures, 1);
    assert_eq!(order.payment.captured(), order.totals.total);
}

#[tokio::test]
async fn a_parcel_cannot_be_made_ready_for_pickup() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (order_id, _) = placed(&app, &state, 1).await;
    let id = only(&state, &order_id).await.id;
    step(&state, &id, FulfilmentState::Picking).await;
    step(&state, &id, FulfilmentState::Packed).await;
    let err = apply(
        &state,
        "wms",
        &id,
        Action::To(FulfilmentState::ReadyForPickup),
        at(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), StatusCode::CONFLICT);
    assert_eq!(err.code(), "invalid_transition");
    let _ = ErrorCode::code(&omnicart_order::FulfilmentError::ParcelMissing);
}

const KEY: &str = "wms-test-key-0123456789abcdef";

/// The app over `state` with one integration, `wms`, keyed [`KEY`].
fn keyed(app: TestApp, state: AppState) -> (TestApp, AppState) {
    let state = state.with_integration_keys(&[("wms".to_owned(), KEY.to_owned())]);
    let router = omnicart_server::http::app(state.clone(), None);
    (
        TestApp {
            router,
            dir: app.dir,
        },
        state,
    )
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<&str>,
    key: Option<&str>,
) -> common::Reply {
    let mut request = axum::http::Request::builder().method(method).uri(path);
    if body.is_some() {
        request = request.header(axum::http::header::CONTENT_TYPE, "application/json");
    }
    if let Some(key) = key {
        request = request.header(omnicart_api::INTEGRATION_KEY_HEADER, key);
    }
    let body = axum::body::Body::from(body.unwrap_or("").to_owned());
    app.raw(request.body(body).unwrap()).await
}

fn transitions(id: &str) -> String {
    omnicart_api::routes::FULFILMENT_TRANSITIONS.replace("{id}", id)
}

#[tokio::test]
async fn the_endpoints_need_the_integration_key() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (app, state) = keyed(app, state);
    let (order_id, _) = placed(&app, &state, 1).await;
    let id = only(&state, &order_id).await.id;
    let list = omnicart_api::routes::FULFILMENT_ORDERS;
    for key in [None, Some("not-the-key-at-all-0123456789")] {
        let reply = call(&app, "GET", list, None, key).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.code(), "integration_key_required");
        let reply = call(
            &app,
            "POST",
            &transitions(&id),
            Some(r#"{"to":"picking"}"#),
            key,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        only(&state, &order_id).await.fulfilment.state(),
        FulfilmentState::Open
    );
}

#[tokio::test]
async fn staff_list_by_location_and_state_and_move_an_order_to_shipped() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (app, state) = keyed(app, state);
    let (order_id, number) = placed(&app, &state, 1).await;
    let (other_id, _) = placed(&app, &state, 1).await;
    let row = only(&state, &order_id).await;
    let (id, location) = (row.id.clone(), row.fulfilment.location.clone());
    let list = |query: String| format!("{}?{query}", omnicart_api::routes::FULFILMENT_ORDERS);

    // By order number: that order's fulfilment order only, naming its order.
    let by_order = call(
        &app,
        "GET",
        &list(format!("order={number}")),
        None,
        Some(KEY),
    )
    .await;
    assert_eq!(by_order.status, StatusCode::OK, "{:?}", by_order.json);
    let found = by_order.json["fulfilment_orders"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["id"], json!(id));
    assert_eq!(found[0]["order_number"], json!(number));
    let other = only(&state, &other_id).await;
    assert_ne!(other.id, id);
    let unknown = call(
        &app,
        "GET",
        &list("order=0000-0000-000".into()),
        None,
        Some(KEY),
    )
    .await;
    assert_eq!(unknown.json["fulfilment_orders"], json!([]));

    let open = call(
        &app,
        "GET",
        &list(format!("location={location}&state=open")),
        None,
        Some(KEY),
    )
    .await;
    assert_eq!(open.status, StatusCode::OK, "{:?}", open.json);
    let ids: Vec<&str> = open.json["fulfilment_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    let mut want = [id.as_str(), other.id.as_str()];
    want.sort();
    let mut ids = ids;
    ids.sort();
    assert_eq!(ids, want);
    let none = call(
        &app,
        "GET",
        &list("location=elsewhere".into()),
        None,
        Some(KEY),
    )
    .await;
    assert_eq!(none.json["fulfilment_orders"], json!([]));
    let bad = call(&app, "GET", &list("state=lost".into()), None, Some(KEY)).await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_state")
    );

    let path = transitions(&id);
    let post = |body: &'static str| call(&app, "POST", &path, Some(body), Some(KEY));
    let skip = post(r#"{"to":"packed"}"#).await;
    assert_eq!(
        (skip.status, skip.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    assert_eq!(post(r#"{"to":"picking"}"#).await.json["state"], "picking");
    assert_eq!(post(r#"{"to":"packed"}"#).await.json["state"], "packed");
    let bare = post(r#"{"to":"shipped"}"#).await;
    assert_eq!(
        (bare.status, bare.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "parcel_missing")
    );
    let shipped = post(r#"{"to":"shipped","carrier":"DHL","tracking_number":"JJD0001"}"#).await;
    assert_eq!(shipped.status, StatusCode::OK, "{:?}", shipped.json);
    assert_eq!(shipped.json["state"], "shipped");
    assert_eq!(shipped.json["tracking_number"], "JJD0001");
    let replay = post(r#"{"to":"shipped","carrier":"UPS","tracking_number":"other"}"#).await;
    assert_eq!(replay.json, shipped.json, "the replay answers the same");
    let unknown = call(
        &app,
        "POST",
        &transitions("ful_nope"),
        Some(r#"{"to":"picking"}"#),
        Some(KEY),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

/// The demo catalogue with [`SKU`] held only at two warehouses, `(location, units)`.
async fn held_at(a: (&str, u32), b: (&str, u32)) -> (TestApp, AppState) {
    app_with_catalogue(|j| {
        let stock = j["network"]["stock"].as_array_mut().unwrap();
        stock.retain(|s| s["sku"] != SKU);
        for (location, on_hand) in [a, b] {
            stock.push(json!({"sku": SKU, "location": location, "on_hand": on_hand}));
        }
    })
    .await
}

async fn reserved_at(state: &AppState, location: &str) -> i64 {
    sqlx::query_scalar("SELECT reserved FROM stock WHERE sku = $1 AND location = $2")
        .bind(SKU)
        .bind(location)
        .fetch_one(state.db.pool())
        .await
        .unwrap()
}

/// Units of [`SKU`] per location over the order's fulfilment orders.
async fn units_by_location(state: &AppState, order_id: &str) -> Vec<(String, u32)> {
    let mut units: Vec<(String, u32)> = of_order(&state.db, order_id)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let n = r
                .fulfilment
                .lines()
                .iter()
                .filter(|l| l.sku == SKU)
                .map(|l| l.quantity)
                .sum();
            (r.fulfilment.location.clone(), n)
        })
        .collect();
    units.sort();
    units
}

/// 13 units against 10 and 15 held: the sourcing rule ships one parcel where it can (fewer
/// parcels score lower), so all 13 come from the location holding 15; nothing more than
/// held, nothing silently fewer, and what is reserved is what the fulfilment orders hold.
#[tokio::test]
async fn thirteen_units_against_ten_and_fifteen_come_from_the_fifteen_in_one_parcel() {
    let (app, state) = held_at(("wh-leipzig", 10), ("wh-dortmund", 15)).await;
    let (order_id, _) = placed(&app, &state, 13).await;
    assert_eq!(
        units_by_location(&state, &order_id).await,
        [("wh-dortmund".to_owned(), 13)]
    );
    assert_eq!(reserved_at(&state, "wh-dortmund").await, 13);
    assert_eq!(reserved_at(&state, "wh-leipzig").await, 0);
}

/// 13 units against 10 and 5: two parcels, each within what is held; shipping both captures
/// the whole total, the delivery charge with the first, each parcel once.
#[tokio::test]
async fn a_split_order_ships_two_parcels_whose_captures_sum_to_the_total() {
    let (app, state) = held_at(("wh-leipzig", 10), ("wh-dortmund", 5)).await;
    let (order_id, number) = placed(&app, &state, 13).await;
    let units = units_by_location(&state, &order_id).await;
    assert_eq!(units.iter().map(|(_, n)| n).sum::<u32>(), 13, "{units:?}");
    for (location, n) in &units {
        let held = if location == "wh-leipzig" { 10 } else { 5 };
        assert!(*n <= held, "{units:?}");
        assert_eq!(reserved_at(&state, location).await, i64::from(*n));
    }
    assert_eq!(units.len(), 2);
    let rows = of_order(&state.db, &order_id).await.unwrap();
    for (i, row) in rows.iter().enumerate() {
        step(&state, &row.id, FulfilmentState::Picking).await;
        step(&state, &row.id, FulfilmentState::Packed).await;
        let tracking = format!("T{i}");
        apply(
            &state,
            "wms",
            &row.id,
            Action::Ship(parcel(&tracking)),
            at(),
        )
        .await
        .unwrap();
        apply(
            &state,
            "wms",
            &row.id,
            Action::Ship(parcel(&tracking)),
            at(),
        )
        .await
        .unwrap();
    }
    let stored = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap();
    let order = stored.order;
    // The provider moved the same money: two captures, once each despite the replays.
    let gateway = state.payments.test.ledger(&stored.attempt_id);
    assert_eq!(gateway.captures.len(), 2, "{gateway:?}");
    assert_eq!(gateway.captured(), order.totals.total.to_minor().unwrap());
    let captured: Vec<i64> = of_order(&state.db, &order_id)
        .await
        .unwrap()
        .iter()
        .map(|r| r.captured_minor.unwrap())
        .collect();
    let captures = order
        .payment
        .entries()
        .iter()
        .filter(|e| e.kind == EntryKind::Capture)
        .count();
    assert_eq!(captures, 2);
    assert_eq!(
        captured.iter().sum::<i64>(),
        order.totals.total.to_minor().unwrap()
    );
    assert_eq!(order.payment.captured(), order.totals.total);
    let delivery = order.totals.delivery.to_minor().unwrap();
    let line = order.lines[0].total.to_minor().unwrap();
    let first_units = i64::from(rows[0].fulfilment.lines()[0].quantity);
    let share = line * first_units / 13;
    assert_eq!(
        captured[0],
        share + delivery,
        "the first parcel: its share and the delivery"
    );
}

/// The shopper's order view shows each shipment's state, timeline, carrier and tracking
/// number; without the guest token the order is 404.
#[tokio::test]
async fn the_order_view_shows_each_shipments_progress_to_its_owner_only() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let cart = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": SKU, "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]);
    app.edit_now(&cart, &ops, None).await;
    let total = app.get(&format!("/api/carts/{cart}"), None).await.json["quote"]["total"].clone();
    let body = checkout_body(&cart, &total, test_cards::SUCCESS);
    let placed = app.checkout("k-view", &body, None).await;
    let number = placed.json["order"]["number"].as_str().unwrap().to_owned();
    let token = placed.json["guest_token"].as_str().unwrap().to_owned();
    let order_id = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap()
        .id;
    let id = only(&state, &order_id).await.id;
    step(&state, &id, FulfilmentState::Picking).await;
    step(&state, &id, FulfilmentState::Packed).await;
    apply(&state, "wms", &id, Action::Ship(parcel("JJD42")), at())
        .await
        .unwrap();

    let view = app
        .get(&format!("/api/orders/{number}?token={token}"), None)
        .await;
    assert_eq!(view.status, StatusCode::OK, "{:?}", view.json);
    let progress = &view.json["shipments"][0]["progress"];
    assert_eq!(progress["state"], "shipped");
    assert_eq!(progress["carrier"], "DHL");
    assert_eq!(progress["tracking_number"], "JJD42");
    let states: Vec<&str> = progress["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["open", "picking", "packed", "shipped"]);
    let stranger = app.get(&format!("/api/orders/{number}"), None).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
}

/// A pickup order is one fulfilment order of kind `pickup` at the store it comes from: it goes
/// to ready_for_pickup, never to shipped.
const STORE: &str = "store-berlin-alexanderplatz";

/// A guest order of one [`SKU`] to collect at [`STORE`], placed in `app`: its order id.
async fn placed_for_pickup(app: &TestApp, state: &AppState, key: &str) -> String {
    let cart = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": SKU, "quantity": 1},
        {"op": "choose_delivery", "pickup": STORE}
    ]);
    app.edit_now(&cart, &ops, None).await;
    let total = app.get(&format!("/api/carts/{cart}"), None).await.json["quote"]["total"].clone();
    let mut body: Value =
        serde_json::from_str(&checkout_body(&cart, &total, test_cards::SUCCESS)).unwrap();
    body.as_object_mut().unwrap().remove("shipping_address");
    let placed = app.checkout(key, &body.to_string(), None).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    let number = placed.json["order"]["number"].as_str().unwrap();
    orders::by_number(&state.db, number)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A pickup order made ready over the endpoint: its fulfilment order's id and the pickup
/// code mailed to the shopper.
async fn ready(app: &TestApp, state: &AppState, order_id: &str) -> (String, String) {
    let id = only(state, order_id).await.id;
    for to in ["picking", "packed", "ready_for_pickup"] {
        let body = format!(r#"{{"to":"{to}"}}"#);
        let moved = call(app, "POST", &transitions(&id), Some(&body), Some(KEY)).await;
        assert_eq!(moved.json["state"], to, "{:?}", moved.json);
    }
    let texts: Vec<String> = sqlx::query_scalar(
        "SELECT text_body FROM mail_outbox WHERE order_id = $1 AND subject LIKE '%ready for pickup'",
    )
    .bind(order_id)
    .fetch_all(state.db.pool())
    .await
    .unwrap();
    assert_eq!(texts.len(), 1, "one mail with the code");
    let code = texts[0]
        .split("counter: ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    (id, code)
}

async fn collect(app: &TestApp, id: &str, code: &str) -> common::Reply {
    let body = json!({"to": "collected", "pickup_code": code}).to_string();
    call(app, "POST", &transitions(id), Some(&body), Some(KEY)).await
}

/// Ready for pickup mails the shopper a readable code, stored only as a digest; a wrong code
/// is refused and the right one (as a person types it) collects, once.
#[tokio::test]
async fn a_pickup_is_collected_with_its_code_and_a_wrong_code_is_refused() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (app, state) = keyed(app, state);
    let order_id = placed_for_pickup(&app, &state, "k-collect").await;
    let (id, code) = ready(&app, &state, &order_id).await;
    assert_eq!(code.len(), 9, "XXXX-XXXX: {code}");
    let row = only(&state, &order_id).await;
    let stored: String = sqlx::query_scalar("SELECT body FROM fulfilment_orders WHERE id = $1")
        .bind(&id)
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    let plain = code.replace('-', "");
    assert!(!stored.contains(&plain) && !row.pickup_code_hash.unwrap().contains(&plain));

    let wrong = collect(&app, &id, "0000-0000").await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::CONFLICT, "wrong_pickup_code")
    );
    let path = transitions(&id);
    let none = call(
        &app,
        "POST",
        &path,
        Some(r#"{"to":"collected"}"#),
        Some(KEY),
    )
    .await;
    assert_eq!(none.code(), "wrong_pickup_code");
    assert_eq!(
        only(&state, &order_id).await.fulfilment.pickup_attempts(),
        2
    );

    let typed = code.to_lowercase().replace('-', " ");
    let collected = collect(&app, &id, &typed).await;
    assert_eq!(collected.json["state"], "collected", "{:?}", collected.json);
    let number = number_of(&state, &order_id).await;
    let order = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap()
        .order;
    assert_eq!(
        order.payment.captured(),
        order.totals.total,
        "captured on collection"
    );
    let again = collect(&app, &id, &code).await;
    assert_eq!(
        (again.status, &again.json["state"]),
        (StatusCode::OK, &json!("collected"))
    );
}

/// After `MAX_PICKUP_ATTEMPTS` wrong codes every code is refused, the right one too.
#[tokio::test]
async fn too_many_wrong_pickup_codes_lock_the_pickup() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (app, state) = keyed(app, state);
    let order_id = placed_for_pickup(&app, &state, "k-lock").await;
    let (id, code) = ready(&app, &state, &order_id).await;
    let bare = apply(
        &state,
        "wms",
        &id,
        Action::To(FulfilmentState::Collected),
        at(),
    );
    let err = bare.await.unwrap_err();
    assert_eq!(
        err.code(),
        "wrong_pickup_code",
        "no collecting without the code"
    );
    for _ in 0..omnicart_order::fulfilment::MAX_PICKUP_ATTEMPTS {
        assert_eq!(
            collect(&app, &id, "ZZZZ-ZZZZ").await.code(),
            "wrong_pickup_code"
        );
    }
    let locked = collect(&app, &id, &code).await;
    assert_eq!(
        (locked.status, locked.code()),
        (StatusCode::CONFLICT, "pickup_locked")
    );
    assert_eq!(
        only(&state, &order_id).await.fulfilment.state(),
        FulfilmentState::ReadyForPickup
    );
}

fn days_later(days: i64) -> Timestamp {
    Timestamp::from_unix(omnicart_server::ids::now_unix() + days * 86_400)
}

/// Not collected within the configured days: expired, the order cancelled, its unit back in
/// the store's stock at once and its authorization released once, however many sweeps run,
/// and whether they run one after the other or at the same time.
#[tokio::test]
async fn an_uncollected_pickup_expires_restocked_and_released_exactly_once() {
    use omnicart_server::service::pickup::expire_uncollected;
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (app, state) = keyed(app, state);
    let first = placed_for_pickup(&app, &state, "k-expire-1").await;
    // The stock table is loaded with the first placement, which reserved one unit.
    let before = reserved_at(&state, STORE).await - 1;
    let second = placed_for_pickup(&app, &state, "k-expire-2").await;
    ready(&app, &state, &first).await;
    ready(&app, &state, &second).await;
    assert_eq!(reserved_at(&state, STORE).await, before + 2);

    assert_eq!(
        expire_uncollected(&state, days_later(6), 7).await.unwrap(),
        0
    );
    let (a, b) = tokio::join!(
        expire_uncollected(&state, days_later(8), 7),
        expire_uncollected(&state, days_later(8), 7)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 2, "each expired by one sweep");
    assert_eq!(
        expire_uncollected(&state, days_later(9), 7).await.unwrap(),
        0
    );

    assert_eq!(
        reserved_at(&state, STORE).await,
        before,
        "restocked at once"
    );
    for order_id in [&first, &second] {
        let row = only(&state, order_id).await;
        assert_eq!(row.fulfilment.state(), FulfilmentState::Expired);
        let order = orders::by_number(&state.db, &number_of(&state, order_id).await)
            .await
            .unwrap()
            .unwrap()
            .order;
        assert_eq!(order.status.state(), omnicart_order::OrderState::Cancelled);
        let voids = order
            .payment
            .entries()
            .iter()
            .filter(|e| e.kind == EntryKind::Void)
            .count();
        assert_eq!(voids, 1, "released once");
        assert_eq!(order.payment.captured().to_minor(), Some(0));
        assert_eq!(order.payment.state(), omnicart_order::PaymentState::Voided);
    }
}

async fn number_of(state: &AppState, order_id: &str) -> String {
    sqlx::query_scalar("SELECT number FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(state.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_pickup_order_is_made_ready_in_store_and_never_shipped() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (app, state) = keyed(app, state);
    let cart = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": SKU, "quantity": 1},
        {"op": "choose_delivery", "pickup": "store-berlin-alexanderplatz"}
    ]);
    app.edit_now(&cart, &ops, None).await;
    let total = app.get(&format!("/api/carts/{cart}"), None).await.json["quote"]["total"].clone();
    let mut body: Value =
        serde_json::from_str(&checkout_body(&cart, &total, test_cards::SUCCESS)).unwrap();
    body.as_object_mut().unwrap().remove("shipping_address");
    let placed = app.checkout("k-pickup", &body.to_string(), None).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    let number = placed.json["order"]["number"].as_str().unwrap();
    let order_id = orders::by_number(&state.db, number)
        .await
        .unwrap()
        .unwrap()
        .id;
    let row = only(&state, &order_id).await;
    assert_eq!(row.fulfilment.kind, omnicart_order::FulfilmentKind::Pickup);
    assert_eq!(row.fulfilment.location, "store-berlin-alexanderplatz");

    let path = transitions(&row.id);
    let post = |body: &'static str| call(&app, "POST", &path, Some(body), Some(KEY));
    post(r#"{"to":"picking"}"#).await;
    assert_eq!(post(r#"{"to":"packed"}"#).await.json["kind"], "pickup");
    let ship = post(r#"{"to":"shipped","carrier":"DHL","tracking_number":"X"}"#).await;
    assert_eq!(
        (ship.status, ship.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    let ready = post(r#"{"to":"ready_for_pickup"}"#).await;
    assert_eq!(ready.json["state"], "ready_for_pickup", "{:?}", ready.json);
}

#[tokio::test]
async fn the_order_follows_its_fulfilment_and_a_cancelled_one_does_not_move() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (order_id, number) = placed(&app, &state, 1).await;
    let id = only(&state, &order_id).await.id;
    let order_state = || async {
        let row = orders::by_number(&state.db, &number)
            .await
            .unwrap()
            .unwrap();
        omnicart_order::Machine::name(row.order.status.state())
    };
    assert_eq!(order_state().await, "placed");
    step(&state, &id, FulfilmentState::Picking).await;
    assert_eq!(order_state().await, "in_fulfilment");
    // In fulfilment, the shopper may no longer cancel it.
    let row = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.order.status.customer_may_cancel());
    step(&state, &id, FulfilmentState::Packed).await;
    apply(&state, "wms", &id, Action::Ship(parcel("T1")), at())
        .await
        .unwrap();
    assert_eq!(order_state().await, "shipped");
    step(&state, &id, FulfilmentState::Delivered).await;
    assert_eq!(order_state().await, "delivered");
    let row = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap();
    let path: Vec<&str> = row
        .order
        .status
        .history()
        .iter()
        .map(|r| omnicart_order::Machine::name(r.to))
        .collect();
    assert_eq!(
        path,
        [
            "placed",
            "confirmed",
            "in_fulfilment",
            "shipped",
            "delivered"
        ]
    );

    // A cancelled order's fulfilment order does not move (the warehouse must not ship it).
    let (cancelled_id, _) = placed(&app, &state, 1).await;
    let fulfilment = only(&state, &cancelled_id).await.id;
    let mut tx = state.db.begin_write().await.unwrap();
    let mut order = orders::lock_by_id(&mut tx, &cancelled_id)
        .await
        .unwrap()
        .unwrap();
    let staff = omnicart_order::Request::new(
        omnicart_order::Actor::new(omnicart_order::Role::Staff, "agent"),
        at(),
        "customer asked on the phone",
    );
    order.order.cancel(staff, "void:test").unwrap();
    orders::update(&mut tx, &order.id, &order.order)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let refused = apply(
        &state,
        "wms",
        &fulfilment,
        Action::To(FulfilmentState::Picking),
        at(),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), "invalid_transition");
}
