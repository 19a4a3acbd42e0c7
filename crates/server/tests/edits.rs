//! Edits after placement: the call-centre agent adds a TV and its installation to Mike's
//! order and takes them off again (the money moved nets to zero, the stock is back), two
//! agents editing one order at once (one wins, one is stale, nothing lost), a line a
//! location has started refused, a replayed commit, another customer's order not found, and
//! bad edits refused with nothing changed. Runs on SQLite and, with
//! `OMNICART_TEST_POSTGRES`, on PostgreSQL (the harness picks).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{KYLIE, MIKE, Reply, TestApp, app_with_catalogue};
use omnicart_api::checkout::test_cards;
use omnicart_api::{INTEGRATION_KEY_HEADER, routes};
use omnicart_engine::Timestamp;
use omnicart_order::{EntryKind, FulfilmentState, Parcel};
use omnicart_server::AppState;
use omnicart_server::service::fulfilment::{Action, apply};
use omnicart_server::store::fulfilment::of_order;
use omnicart_server::store::orders::{self, OrderRow};
use serde_json::{Value, json};

const SOUNDBAR: &str = "SON-BEAM-30";
const TV: &str = "LUM-OLED-C4-55";
const INSTALL: &str = "SVC-INSTALL-TV";
const PS5: &str = "PS5-SLIM-DISC";
const AGENT_A: &str = "callcentre-a-key-0123456789abcdef";
const AGENT_B: &str = "callcentre-b-key-0123456789abcdef";

/// The demo app with two call-centre integrations, `kylie` and `joe`.
async fn shop() -> (TestApp, AppState) {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let state = state.with_integration_keys(&[
        ("kylie".to_owned(), AGENT_A.to_owned()),
        ("joe".to_owned(), AGENT_B.to_owned()),
    ]);
    let router = omnicart_server::http::app(state.clone(), None);
    (
        TestApp {
            router,
            dir: app.dir,
        },
        state,
    )
}

/// Mike's order of one soundbar, delivered at standard to Berlin: its number and cookie.
async fn mikes_order(app: &TestApp) -> (String, String) {
    let (cookie, cart) = app.sign_in(MIKE).await;
    let ops = json!([
        {"op": "add", "sku": SOUNDBAR, "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]);
    let view = app.edit_now(&cart, &ops, Some(&cookie)).await;
    let total = view["quote"]["total"].clone();
    let body = common::checkout_body(&cart, &total, test_cards::SUCCESS);
    let reply = app
        .checkout(&format!("k-{cart}"), &body, Some(&cookie))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let number = reply.json["order"]["number"].as_str().unwrap().to_owned();
    (number, cookie)
}

/// Who sends an edit.
#[derive(Clone, Copy)]
enum By<'a> {
    Agent(&'a str),
    Shopper(&'a str),
    Nobody,
}

fn edit_request(path: &str, by: By<'_>, key: Option<&str>, body: &str) -> Request<Body> {
    let mut request = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    match by {
        By::Agent(secret) => request = request.header(INTEGRATION_KEY_HEADER, secret),
        By::Shopper(cookie) => request = request.header(header::COOKIE, cookie),
        By::Nobody => {}
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

async fn preview(app: &TestApp, number: &str, by: By<'_>, version: i64, ops: Value) -> Reply {
    let path = routes::with_number(routes::ORDER_EDIT_PREVIEW, number);
    let body = json!({"version": version, "ops": ops}).to_string();
    app.raw(edit_request(&path, by, None, &body)).await
}

async fn commit(
    app: &TestApp,
    number: &str,
    by: By<'_>,
    key: &str,
    version: i64,
    ops: Value,
) -> Reply {
    let path = routes::with_number(routes::ORDER_EDITS, number);
    let body = json!({"version": version, "ops": ops}).to_string();
    app.raw(edit_request(&path, by, Some(key), &body)).await
}

async fn row(state: &AppState, number: &str) -> OrderRow {
    orders::by_number(&state.db, number).await.unwrap().unwrap()
}

/// Units of `sku` reserved over every location.
async fn reserved(state: &AppState, sku: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM stock WHERE sku = $1",
    )
    .bind(sku)
    .fetch_one(state.db.pool())
    .await
    .unwrap()
}

/// Units the order's attempt holds of `sku`.
async fn held(state: &AppState, attempt: &str, sku: &str) -> i64 {
    sqlx::query_scalar("SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM stock_reservations WHERE attempt_id = $1 AND sku = $2")
        .bind(attempt)
        .bind(sku)
        .fetch_one(state.db.pool())
        .await
        .unwrap()
}

fn minor(v: &Value) -> i64 {
    let text = v["amount"].as_str().unwrap();
    let (units, cents) = text.split_once('.').unwrap();
    let sign = if units.starts_with('-') { -1 } else { 1 };
    let units: i64 = units.trim_start_matches('-').parse().unwrap();
    sign * (units * 100 + cents.parse::<i64>().unwrap())
}

/// Units of `sku` over the order's open fulfilment orders.
async fn fulfilment_units(state: &AppState, order_id: &str, sku: &str) -> u32 {
    of_order(&state.db, order_id)
        .await
        .unwrap()
        .iter()
        .flat_map(|r| r.fulfilment.lines().to_vec())
        .filter(|l| l.sku == sku)
        .map(|l| l.quantity)
        .sum()
}

#[tokio::test]
async fn adding_a_tv_and_installation_authorizes_the_difference_and_removing_them_nets_to_zero() {
    let (app, state) = shop().await;
    let (number, _) = mikes_order(&app).await;
    let placed = row(&state, &number).await;
    let attempt = placed.attempt_id.clone();
    let total_before = placed.order.totals.total.to_minor().unwrap();
    let tv_reserved = reserved(&state, TV).await;
    let add = json!([
        {"op": "add", "sku": TV, "quantity": 1},
        {"op": "attach_service", "sku": TV, "service": INSTALL}
    ]);

    let dry = preview(&app, &number, By::Agent(AGENT_A), 0, add.clone()).await;
    assert_eq!(dry.status, StatusCode::OK, "{:?}", dry.json);
    let difference = minor(&dry.json["difference"]);
    assert!(difference > 0);
    assert_eq!(minor(&dry.json["authorize"]), difference);
    assert_eq!(minor(&dry.json["total_before"]), total_before);
    assert!(
        dry.json["quote"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["sku"] == INSTALL && l["attached_to"] == TV),
        "the engine priced the installation on the TV"
    );
    let tv_change: Vec<&Value> = dry.json["stock"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["sku"] == TV)
        .collect();
    assert_eq!(tv_change.len(), 1, "{:?}", dry.json["stock"]);
    assert_eq!(
        (&tv_change[0]["before"], &tv_change[0]["after"]),
        (&json!(0), &json!(1))
    );
    assert_eq!(
        reserved(&state, TV).await,
        tv_reserved,
        "a preview moves nothing"
    );
    assert_eq!(
        state.payments.test.ledger(&attempt).authorized,
        total_before
    );

    let added = commit(&app, &number, By::Agent(AGENT_A), "add-1", 0, add).await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.json);
    assert_eq!(added.json["order"]["version"], 1);
    assert_eq!(
        minor(&added.json["order"]["totals"]["total"]),
        total_before + difference
    );
    assert_eq!(reserved(&state, TV).await, tv_reserved + 1);
    assert_eq!(held(&state, &attempt, TV).await, 1);
    assert_eq!(fulfilment_units(&state, &placed.id, TV).await, 1);
    let ledger = state.payments.test.ledger(&attempt);
    assert_eq!(
        ledger.authorized,
        total_before + difference,
        "only the difference"
    );
    assert_eq!(ledger.increments.values().sum::<i64>(), difference);
    let order = row(&state, &number).await.order;
    assert_eq!(
        order.payment.authorized().to_minor(),
        Some(total_before + difference)
    );

    let removed = commit(
        &app,
        &number,
        By::Agent(AGENT_A),
        "remove-1",
        1,
        json!([{"op": "remove", "sku": TV}]),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.json);
    assert_eq!(minor(&removed.json["edit"]["difference"]), -difference);
    assert_eq!(minor(&removed.json["edit"]["release"]), difference);
    assert_eq!(minor(&removed.json["edit"]["refund"]), 0);
    assert_eq!(
        minor(&removed.json["order"]["totals"]["total"]),
        total_before
    );
    assert_eq!(
        reserved(&state, TV).await,
        tv_reserved,
        "the TV's unit is back"
    );
    assert_eq!(held(&state, &attempt, TV).await, 0);
    assert_eq!(held(&state, &attempt, SOUNDBAR).await, 1);
    assert_eq!(fulfilment_units(&state, &placed.id, TV).await, 0);
    let rows = of_order(&state.db, &placed.id).await.unwrap();
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    assert_eq!(
        seqs,
        (0..rows.len() as i64).collect::<Vec<_>>(),
        "shipment i is seq i"
    );
    let order = row(&state, &number).await.order;
    assert_eq!(order.fulfilment.shipments.len(), rows.len());
    let ledger = state.payments.test.ledger(&attempt);
    let moved = ledger.increments.values().sum::<i64>() - ledger.releases.values().sum::<i64>();
    assert_eq!(moved, 0, "the money moved nets to zero");
    assert_eq!(
        (ledger.authorized, ledger.captured(), ledger.refunded()),
        (total_before, 0, 0)
    );
    let order = row(&state, &number).await.order;
    let kinds: Vec<EntryKind> = order.payment.entries().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EntryKind::Authorize,
            EntryKind::Increment,
            EntryKind::Release
        ]
    );
    assert_eq!(order.payment.authorized().to_minor(), Some(total_before));
}

#[tokio::test]
async fn two_agents_editing_one_order_at_once_one_wins_and_nothing_is_lost() {
    let (app, state) = shop().await;
    let (number, _) = mikes_order(&app).await;
    let placed = row(&state, &number).await;
    let total_before = placed.order.totals.total.to_minor().unwrap();
    let (tv, ps5) = (reserved(&state, TV).await, reserved(&state, PS5).await);
    let app = std::sync::Arc::new(app);
    let edits = [(AGENT_A, "kylie-1", TV), (AGENT_B, "joe-1", PS5)].map(|(agent, key, sku)| {
        let app = app.clone();
        let number = number.clone();
        tokio::spawn(async move {
            let ops = json!([{"op": "add", "sku": sku, "quantity": 1}]);
            commit(&app, &number, By::Agent(agent), key, 0, ops).await
        })
    });
    let mut replies = Vec::new();
    for edit in edits {
        replies.push(edit.await.unwrap());
    }
    let won: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    let lost: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status != StatusCode::OK)
        .collect();
    assert_eq!(
        (won.len(), lost.len()),
        (1, 1),
        "{:?}",
        replies.iter().map(|r| &r.json).collect::<Vec<_>>()
    );
    assert_eq!(lost[0].status, StatusCode::CONFLICT);
    assert_eq!(lost[0].code(), "stale_version");
    let winner_added_tv = won[0].json["order"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["sku"] == TV);
    let (tv_after, ps5_after) = (reserved(&state, TV).await, reserved(&state, PS5).await);
    if winner_added_tv {
        assert_eq!((tv_after, ps5_after), (tv + 1, ps5));
    } else {
        assert_eq!((tv_after, ps5_after), (tv, ps5 + 1));
    }
    let order = row(&state, &number).await;
    let ledger = state.payments.test.ledger(&order.attempt_id);
    assert_eq!(ledger.increments.len(), 1, "one edit's money moved");
    assert_eq!(
        ledger.authorized,
        order.order.totals.total.to_minor().unwrap()
    );
    assert!(ledger.authorized > total_before);
    let view = app
        .raw(edit_request(
            &routes::with_number(routes::ORDER_EDIT_PREVIEW, &number),
            By::Agent(AGENT_B),
            None,
            &json!({"version": 1, "ops": [{"op": "add", "sku": PS5, "quantity": 1}]}).to_string(),
        ))
        .await;
    assert_eq!(
        view.status,
        StatusCode::OK,
        "the loser retries at the new version"
    );
}

fn at() -> Timestamp {
    Timestamp::from_unix(1_900_000_000)
}

#[tokio::test]
async fn a_line_a_location_has_shipped_cannot_change_and_the_shopper_cannot_edit_once_fulfilment_started()
 {
    let (app, state) = shop().await;
    let (number, cookie) = mikes_order(&app).await;
    let placed = row(&state, &number).await;
    let id = of_order(&state.db, &placed.id).await.unwrap()[0].id.clone();
    for to in [FulfilmentState::Picking, FulfilmentState::Packed] {
        apply(&state, "wms", &id, Action::To(to), at())
            .await
            .unwrap();
    }
    let parcel = Parcel {
        carrier: "DHL".into(),
        tracking_number: "1".into(),
        label: String::new(),
    };
    let add_tv = json!([{"op": "add", "sku": TV, "quantity": 1}]);
    // Packed, not shipped: an agent may add a TV (a new fulfilment order), the shopper not.
    let by_mike = commit(
        &app,
        &number,
        By::Shopper(&cookie),
        "m-1",
        0,
        add_tv.clone(),
    )
    .await;
    assert_eq!(
        (by_mike.status, by_mike.code()),
        (StatusCode::CONFLICT, "edit_not_allowed")
    );
    let added = commit(&app, &number, By::Agent(AGENT_A), "a-1", 0, add_tv).await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.json);
    let rows = of_order(&state.db, &placed.id).await.unwrap();
    assert_eq!(
        rows.len(),
        2,
        "the packed parcel keeps its lines; the TV has its own"
    );
    assert_eq!(rows[0].fulfilment.state(), FulfilmentState::Packed);
    assert_eq!(rows[0].fulfilment.lines()[0].sku, SOUNDBAR);
    apply(&state, "wms", &id, Action::Ship(parcel), at())
        .await
        .unwrap();

    let soundbar_reserved = reserved(&state, SOUNDBAR).await;
    for ops in [
        json!([{"op": "remove", "sku": SOUNDBAR}]),
        json!([{"op": "set_quantity", "sku": SOUNDBAR, "quantity": 2}]),
    ] {
        let refused = commit(&app, &number, By::Agent(AGENT_A), &ops.to_string(), 1, ops).await;
        assert_eq!(
            (refused.status, refused.code()),
            (StatusCode::CONFLICT, "line_fulfilled"),
            "{:?}",
            refused.json
        );
    }
    let delivery = json!([{"op": "choose_delivery", "level": "express"}]);
    let refused = commit(&app, &number, By::Agent(AGENT_A), "d-1", 1, delivery).await;
    assert_eq!(refused.code(), "edit_not_allowed", "{:?}", refused.json);
    assert_eq!(reserved(&state, SOUNDBAR).await, soundbar_reserved);
    let order = row(&state, &number).await;
    assert_eq!(
        omnicart_server::service::edits::version(&state, &order.id)
            .await
            .unwrap(),
        1
    );
    // The TV, not started, may still go.
    let removed = commit(
        &app,
        &number,
        By::Agent(AGENT_A),
        "r-1",
        1,
        json!([{"op": "remove", "sku": TV}]),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.json);
}

#[tokio::test]
async fn a_replayed_commit_answers_the_same_and_moves_nothing_twice() {
    let (app, state) = shop().await;
    let (number, cookie) = mikes_order(&app).await;
    let attempt = row(&state, &number).await.attempt_id;
    let add = json!([{"op": "add", "sku": PS5, "quantity": 1}]);
    // The shopper edits their own order before fulfilment.
    let first = commit(&app, &number, By::Shopper(&cookie), "once", 0, add.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    let ps5 = reserved(&state, PS5).await;
    let ledger = state.payments.test.ledger(&attempt);
    let again = commit(&app, &number, By::Shopper(&cookie), "once", 0, add).await;
    assert_eq!((again.status, &again.json), (first.status, &first.json));
    assert_eq!(reserved(&state, PS5).await, ps5);
    assert_eq!(state.payments.test.ledger(&attempt), ledger);
    let other = json!([{"op": "add", "sku": PS5, "quantity": 2}]);
    let mismatch = commit(&app, &number, By::Shopper(&cookie), "once", 0, other).await;
    assert_eq!(mismatch.code(), "idempotency_mismatch");
    let view = app
        .get(&routes::with_number(routes::ORDER, &number), Some(&cookie))
        .await;
    assert_eq!(view.json["version"], 1);
}

#[tokio::test]
async fn another_customers_order_is_not_found_and_a_bad_key_is_refused() {
    let (app, state) = shop().await;
    let (number, _) = mikes_order(&app).await;
    let (kylie, _) = app.sign_in(KYLIE).await;
    let add = json!([{"op": "add", "sku": PS5, "quantity": 1}]);
    for by in [By::Shopper(&kylie), By::Nobody] {
        let refused = preview(&app, &number, by, 0, add.clone()).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
        let refused = commit(&app, &number, by, "k", 0, add.clone()).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
    }
    let refused = commit(&app, &number, By::Agent("not-a-key"), "k", 0, add.clone()).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNAUTHORIZED, "integration_key_required")
    );
    let refused = commit(&app, "0000-0000-000", By::Agent(AGENT_A), "k", 0, add).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let order = row(&state, &number).await;
    assert_eq!(order.order.lines.len(), 1, "nothing changed");
}

#[tokio::test]
async fn bad_edits_are_refused_clearly_and_change_nothing() {
    let (app, state) = shop().await;
    let (number, _) = mikes_order(&app).await;
    let before = row(&state, &number).await.order;
    let stock = (reserved(&state, TV).await, reserved(&state, SOUNDBAR).await);
    let agent = By::Agent(AGENT_A);
    let quantity = |q: Value| json!([{"op": "set_quantity", "sku": SOUNDBAR, "quantity": q}]);
    let cases: Vec<(Value, i64, &str)> = vec![
        (quantity(json!(0)), 0, "invalid_request"),
        (quantity(json!(-3)), 0, "invalid_request"),
        (quantity(json!(1_000_000_000_000_i64)), 0, "invalid_request"),
        (quantity(json!("two")), 0, "invalid_request"),
        (quantity(json!(1.5)), 0, "invalid_request"),
        (
            json!([{"op": "add", "sku": SOUNDBAR, "quantity": 999}]),
            0,
            "quantity_limit",
        ),
        (
            json!([{"op": "add", "sku": TV, "quantity": 900}]),
            0,
            "out_of_stock",
        ),
        (
            json!([{"op": "add", "sku": "NO-SUCH-SKU", "quantity": 1}]),
            0,
            "unknown_sku",
        ),
        (
            json!([{"op": "apply_coupon", "code": "WELCOME10"}]),
            0,
            "invalid_edit",
        ),
        (
            json!([{"op": "remove", "sku": SOUNDBAR}]),
            0,
            "invalid_edit",
        ),
        (json!([]), 0, "invalid_ops_count"),
        (
            json!([{"op": "add", "sku": PS5, "quantity": 1}]),
            7,
            "stale_version",
        ),
    ];
    for (i, (ops, version, code)) in cases.into_iter().enumerate() {
        for reply in [
            preview(&app, &number, agent, version, ops.clone()).await,
            commit(
                &app,
                &number,
                agent,
                &format!("bad-{i}"),
                version,
                ops.clone(),
            )
            .await,
        ] {
            assert!(reply.status.is_client_error(), "case {i}: {:?}", reply.json);
            assert_eq!(reply.code(), code, "case {i}: {:?}", reply.json);
        }
    }
    let no_key = app
        .raw(edit_request(
            &routes::with_number(routes::ORDER_EDITS, &number),
            agent,
            None,
            &json!({"version": 0, "ops": [{"op": "add", "sku": PS5, "quantity": 1}]}).to_string(),
        ))
        .await;
    assert_eq!(no_key.code(), "idempotency_key_required");
    assert_eq!(row(&state, &number).await.order, before, "nothing changed");
    assert_eq!(
        (reserved(&state, TV).await, reserved(&state, SOUNDBAR).await),
        stock
    );
}
