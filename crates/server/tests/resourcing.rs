//! Routing after placement (issue 16, tests 1 and 2): placement allocates what the sourcing
//! rule says and never more than held; a location rejecting a line over HTTP moves it, with
//! its reservation, to the next location the engine finds, or cancels it uncharged. Stock
//! held per location is asserted before and after. Runs on SQLite and, with
//! `OMNICART_TEST_POSTGRES`, on PostgreSQL (the harness picks).

mod common;

use axum::http::StatusCode;
use common::{Reply, TestApp, app_with_catalogue, checkout_body};
use omnicart_api::checkout::test_cards;
use omnicart_order::{EntryKind, FulfilmentState, OrderState, Parcel};
use omnicart_server::AppState;
use omnicart_server::service::fulfilment::{Action, apply};
use omnicart_server::store::fulfilment::of_order;
use omnicart_server::store::orders;
use serde_json::{Value, json};

const BEAM: &str = "SON-BEAM-30";
const CABLE: &str = "CBL-OPT-15";
const BAD_HERSFELD: &str = "wh-bad-hersfeld";
const DORTMUND: &str = "wh-dortmund";
const KEY: &str = "wms-test-key-0123456789abcdef";

/// Leaves `sku` only the stock records `records` (location, on hand).
fn stock_of(json: &mut Value, sku: &str, records: &[(&str, u32)]) {
    let stock = json["network"]["stock"].as_array_mut().unwrap();
    stock.retain(|s| s["sku"] != sku);
    for (location, on_hand) in records {
        stock.push(json!({"sku": sku, "location": location, "on_hand": on_hand}));
    }
}

/// The app over a catalogue whose stock `edit` sets, with one integration `wms` keyed [`KEY`].
async fn keyed_app(edit: impl FnOnce(&mut Value)) -> (TestApp, AppState) {
    let (app, state) = app_with_catalogue(edit).await;
    let state = state.with_integration_keys(&[("wms".to_owned(), KEY.to_owned())]);
    let router = omnicart_server::http::app(state.clone(), None);
    let app = TestApp {
        router,
        dir: app.dir,
    };
    (app, state)
}

/// Places a guest order of `lines` delivered at standard to Berlin: the checkout's answer.
async fn place(app: &TestApp, lines: &[(&str, u32)]) -> Reply {
    let cart = app.anonymous_cart().await;
    let mut ops: Vec<Value> = lines
        .iter()
        .map(|(sku, quantity)| json!({"op": "add", "sku": sku, "quantity": quantity}))
        .collect();
    ops.push(json!({"op": "set_address", "address": {"postcode": "10115"}}));
    ops.push(json!({"op": "choose_delivery", "level": "standard"}));
    app.edit_now(&cart, &Value::from(ops), None).await;
    let total = app.server_total(&cart, None).await;
    let body = checkout_body(&cart, &total, test_cards::SUCCESS);
    app.checkout(&format!("k-{cart}"), &body, None).await
}

/// The placed order's id and number.
async fn placed(app: &TestApp, state: &AppState, lines: &[(&str, u32)]) -> (String, String) {
    let reply = place(app, lines).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let number = reply.json["order"]["number"].as_str().unwrap().to_owned();
    let row = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap();
    (row.id, number)
}

/// (reserved in `stock`, held by reservations) of `sku` at `location`.
async fn held(state: &AppState, location: &str, sku: &str) -> (i64, i64) {
    let reserved: i64 =
        sqlx::query_scalar("SELECT reserved FROM stock WHERE location = $1 AND sku = $2")
            .bind(location)
            .bind(sku)
            .fetch_optional(state.db.pool())
            .await
            .unwrap()
            .unwrap_or(0);
    let by_orders: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM stock_reservations WHERE location = $1 AND sku = $2",
    )
    .bind(location)
    .bind(sku)
    .fetch_one(state.db.pool())
    .await
    .unwrap();
    (reserved, by_orders)
}

async fn reject(app: &TestApp, id: &str, body: &Value) -> Reply {
    let path = omnicart_api::routes::FULFILMENT_REJECTIONS.replace("{id}", id);
    let request = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .header(omnicart_api::INTEGRATION_KEY_HEADER, KEY)
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    app.raw(request).await
}

async fn mails(state: &AppState, order_id: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT subject, text_body FROM mail_outbox WHERE order_id = $1")
        .bind(order_id)
        .fetch_all(state.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn thirteen_units_against_ten_and_fifteen_come_as_the_sourcing_rule_says() {
    // One location holds all 13: one shipment beats a split (rule 6), so 13 from Dortmund.
    let (app, state) =
        keyed_app(|j| stock_of(j, BEAM, &[(BAD_HERSFELD, 10), (DORTMUND, 15)])).await;
    placed(&app, &state, &[(BEAM, 13)]).await;
    assert_eq!(held(&state, DORTMUND, BEAM).await, (13, 13));
    assert_eq!(held(&state, BAD_HERSFELD, BEAM).await, (0, 0));

    // Neither holds 13: a split, every unit reserved, never more than a location holds.
    let (app, state) = keyed_app(|j| stock_of(j, BEAM, &[(BAD_HERSFELD, 10), (DORTMUND, 5)])).await;
    placed(&app, &state, &[(BEAM, 13)]).await;
    let (bh, dortmund) = (
        held(&state, BAD_HERSFELD, BEAM).await,
        held(&state, DORTMUND, BEAM).await,
    );
    assert_eq!(bh.0 + dortmund.0, 13, "{bh:?} {dortmund:?}");
    assert!(bh.0 <= 10 && dortmund.0 <= 5);
    assert_eq!((bh.0, dortmund.0), (bh.1, dortmund.1));

    // 13 against 10 and 2: no plan holds them, so standard delivery is not on offer and the
    // order is refused whole, nothing reserved (never silently fewer).
    let (app, state) = keyed_app(|j| stock_of(j, BEAM, &[(BAD_HERSFELD, 10), (DORTMUND, 2)])).await;
    let reply = place(&app, &[(BEAM, 13)]).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.json);
    assert_eq!(reply.code(), "delivery_unavailable");
    assert_eq!(held(&state, BAD_HERSFELD, BEAM).await, (0, 0));
    assert_eq!(held(&state, DORTMUND, BEAM).await, (0, 0));
}

#[tokio::test]
async fn a_rejected_line_moves_to_the_next_location_with_its_reservation_and_a_new_promise() {
    let (app, state) = keyed_app(|j| stock_of(j, BEAM, &[(BAD_HERSFELD, 5), (DORTMUND, 5)])).await;
    let (order_id, number) = placed(&app, &state, &[(BEAM, 2)]).await;
    let first = of_order(&state.db, &order_id).await.unwrap().remove(0);
    assert_eq!(first.fulfilment.location, BAD_HERSFELD);
    assert_eq!(held(&state, BAD_HERSFELD, BEAM).await, (2, 2));
    assert_eq!(held(&state, DORTMUND, BEAM).await, (0, 0));
    let mails_before = mails(&state, &order_id).await.len();

    let body = json!({"lines": [0], "reason": "short_pick"});
    let reply = reject(&app, &first.id, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["fulfilment_order"]["state"], "rejected");
    let moved = &reply.json["resourced"];
    assert_eq!(moved.as_array().unwrap().len(), 1, "{moved:?}");
    assert_eq!(moved[0]["location"], DORTMUND);
    assert_eq!(moved[0]["quantity"], 2);
    assert!(reply.json["cancelled"].as_array().unwrap().is_empty());
    assert!(reply.json["latest_delivery"].is_string());

    // The units are held once, where they now ship from.
    assert_eq!(held(&state, BAD_HERSFELD, BEAM).await, (0, 0));
    assert_eq!(held(&state, DORTMUND, BEAM).await, (2, 2));
    let rows = of_order(&state.db, &order_id).await.unwrap();
    assert_eq!(rows.len(), 2);
    let new = &rows[1];
    assert_eq!(
        (new.fulfilment.location.as_str(), new.fulfilment.state()),
        (DORTMUND, FulfilmentState::Open)
    );
    assert_eq!(moved[0]["fulfilment_order_id"], new.id.as_str());
    let order = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap()
        .order;
    let planned = &order.fulfilment.shipments;
    assert_eq!(planned.len(), 2);
    assert!(
        planned[0].lines.is_empty(),
        "the rejected units left its plan"
    );
    assert_eq!(planned[1].location, DORTMUND);
    assert_eq!(
        reply.json["latest_delivery"],
        serde_json::to_value(planned[1].latest).unwrap()
    );
    // The shopper is told.
    let sent = mails(&state, &order_id).await;
    assert_eq!(sent.len(), mails_before + 1);
    let window = format!("now arrives: {}.", planned[1].label);
    assert!(
        sent.iter()
            .any(|(s, t)| s.contains("change to your delivery") && t.contains(&window)),
        "{sent:?}"
    );

    // A replay moves nothing.
    let again = reject(&app, &first.id, &body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.json["resourced"].as_array().unwrap().is_empty());
    assert_eq!(held(&state, DORTMUND, BEAM).await, (2, 2));
    assert_eq!(of_order(&state.db, &order_id).await.unwrap().len(), 2);

    // Dortmund rejects it too: no location is left (Bad Hersfeld rejected it), so the line is
    // cancelled, nothing is held, and with nothing left to send the order is cancelled and
    // its authorization voided (nothing was captured).
    let reply = reject(&app, &new.id, &json!({"lines": [0], "reason": "damage"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert!(reply.json["resourced"].as_array().unwrap().is_empty());
    assert_eq!(reply.json["cancelled"][0]["quantity"], 2);
    assert_eq!(
        reply.json["cancelled"][0]["amount"],
        order.lines[0].total.amount().to_string()
    );
    assert!(reply.json.get("latest_delivery").is_none());
    assert_eq!(held(&state, DORTMUND, BEAM).await, (0, 0));
    assert_eq!(held(&state, BAD_HERSFELD, BEAM).await, (0, 0));
    let order = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap()
        .order;
    assert_eq!(order.status.state(), OrderState::Cancelled);
    assert_eq!(order.payment.captured().to_minor(), Some(0));
    assert!(
        order
            .payment
            .entries()
            .iter()
            .any(|e| e.kind == EntryKind::Void)
    );
}

#[tokio::test]
async fn a_cancelled_line_is_never_captured_and_the_rest_of_the_order_ships() {
    // Bad Hersfeld alone holds both; the beam is found damaged and nowhere else has one.
    let (app, state) = keyed_app(|j| {
        stock_of(j, BEAM, &[(BAD_HERSFELD, 1)]);
        stock_of(j, CABLE, &[(BAD_HERSFELD, 5)]);
    })
    .await;
    let (order_id, number) = placed(&app, &state, &[(BEAM, 1), (CABLE, 1)]).await;
    let row = of_order(&state.db, &order_id).await.unwrap().remove(0);
    let beam = row
        .fulfilment
        .lines()
        .iter()
        .position(|l| l.sku == BEAM)
        .unwrap();
    let reply = reject(&app, &row.id, &json!({"lines": [beam], "reason": "damage"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["cancelled"][0]["sku"], BEAM);
    assert_eq!(reply.json["fulfilment_order"]["state"], "open");
    assert_eq!(held(&state, BAD_HERSFELD, BEAM).await, (0, 0));
    assert_eq!(held(&state, BAD_HERSFELD, CABLE).await, (1, 1));

    let at = omnicart_engine::Timestamp::from_unix(1_900_000_000);
    for to in [FulfilmentState::Picking, FulfilmentState::Packed] {
        apply(&state, "wms", &row.id, Action::To(to), at)
            .await
            .unwrap();
    }
    let parcel = Parcel {
        carrier: "DHL".into(),
        tracking_number: "1".into(),
        label: String::new(),
    };
    apply(&state, "wms", &row.id, Action::Ship(parcel), at)
        .await
        .unwrap();
    let order = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap()
        .order;
    let beam_line = order.lines.iter().find(|l| l.sku.as_str() == BEAM).unwrap();
    let expected = order.totals.total.to_minor().unwrap() - beam_line.total.to_minor().unwrap();
    assert_eq!(order.payment.captured().to_minor(), Some(expected));
    assert_eq!(
        order.payment.capturable().to_minor(),
        Some(0),
        "the rest released"
    );
}

#[tokio::test]
async fn rejections_are_refused_clearly() {
    let (app, state) = keyed_app(|j| stock_of(j, BEAM, &[(BAD_HERSFELD, 5), (DORTMUND, 5)])).await;
    let (order_id, _) = placed(&app, &state, &[(BEAM, 1)]).await;
    let id = of_order(&state.db, &order_id).await.unwrap().remove(0).id;
    let cases = [
        (
            json!({"lines": [], "reason": "damage"}),
            422,
            "unknown_line",
        ),
        (
            json!({"lines": [3], "reason": "damage"}),
            422,
            "unknown_line",
        ),
        (
            json!({"lines": [0], "reason": "lost"}),
            422,
            "unknown_reason",
        ),
        (json!({"lines": [0]}), 422, "invalid_request"),
    ];
    for (body, status, code) in cases {
        let reply = reject(&app, &id, &body).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "{body}"
        );
    }
    let reply = reject(&app, "ful_nope", &json!({"lines": [0], "reason": "damage"})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // Nothing moved.
    assert_eq!(held(&state, BAD_HERSFELD, BEAM).await, (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_rejections_racing_for_the_last_unit_elsewhere_move_it_once() {
    // Two orders of one beam from Bad Hersfeld; Dortmund has one left for whichever of the two
    // rejections comes first. The other is cancelled: no unit is promised twice.
    let (app, state) = keyed_app(|j| stock_of(j, BEAM, &[(BAD_HERSFELD, 2), (DORTMUND, 1)])).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (order_id, _) = placed(&app, &state, &[(BEAM, 1)]).await;
        let row = of_order(&state.db, &order_id).await.unwrap().remove(0);
        assert_eq!(row.fulfilment.location, BAD_HERSFELD);
        ids.push(row.id);
    }
    let at = omnicart_engine::Timestamp::from_unix(omnicart_server::ids::now_unix());
    let request = || omnicart_api::RejectionRequest {
        lines: vec![0],
        reason: "short_pick".into(),
    };
    use omnicart_server::service::resourcing::reject as reject_now;
    let (a, b) = tokio::join!(
        reject_now(&state, "wms", &ids[0], request(), at),
        reject_now(&state, "wms", &ids[1], request(), at)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let moved = a.resourced.len() + b.resourced.len();
    let cancelled = a.cancelled.len() + b.cancelled.len();
    assert_eq!((moved, cancelled), (1, 1), "{a:?} {b:?}");
    assert_eq!(held(&state, DORTMUND, BEAM).await, (1, 1));
    assert_eq!(held(&state, BAD_HERSFELD, BEAM).await, (0, 0));
}

#[tokio::test]
async fn a_pickup_orders_rejected_line_is_cancelled_and_voided() {
    // Collected in one store: its lines are not sent from elsewhere (rule 4).
    const STORE: &str = "store-berlin-alexanderplatz";
    let (app, state) = keyed_app(|j| stock_of(j, BEAM, &[(STORE, 2), (DORTMUND, 5)])).await;
    let cart = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": BEAM, "quantity": 1},
        {"op": "choose_delivery", "pickup": STORE}
    ]);
    app.edit_now(&cart, &ops, None).await;
    let total = app.server_total(&cart, None).await;
    let mut body: Value =
        serde_json::from_str(&checkout_body(&cart, &total, test_cards::SUCCESS)).unwrap();
    body.as_object_mut().unwrap().remove("shipping_address");
    let reply = app.checkout("k-pickup", &body.to_string(), None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let number = reply.json["order"]["number"].as_str().unwrap();
    let order = orders::by_number(&state.db, number).await.unwrap().unwrap();
    let row = of_order(&state.db, &order.id).await.unwrap().remove(0);
    assert_eq!(held(&state, STORE, BEAM).await, (1, 1));
    let reply = reject(&app, &row.id, &json!({"lines": [0], "reason": "damage"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert!(reply.json["resourced"].as_array().unwrap().is_empty());
    assert_eq!(reply.json["cancelled"][0]["quantity"], 1);
    assert_eq!(held(&state, STORE, BEAM).await, (0, 0));
    assert_eq!(held(&state, DORTMUND, BEAM).await, (0, 0));
    let order = orders::by_number(&state.db, number)
        .await
        .unwrap()
        .unwrap()
        .order;
    assert_eq!(order.status.state(), OrderState::Cancelled);
}
