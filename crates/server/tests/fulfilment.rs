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
