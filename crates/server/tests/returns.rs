//! Returns and refunds (issue 16): the shopper returns delivered units, a location receives
//! them (restocked at once), the refund goes to the original payment once, exactly by the
//! written rule (`omnicart_order::returns`), and a refund the gateway refuses is
//! `refund_failed`, retried once. Runs on SQLite and, with `OMNICART_TEST_POSTGRES`, on
//! PostgreSQL (the harness picks).

mod common;

use axum::http::StatusCode;
use common::{KYLIE, MIKE, Reply, TestApp, app_with_catalogue, checkout_body};
use omnicart_api::checkout::test_cards;
use omnicart_api::routes;
use omnicart_engine::Timestamp;
use omnicart_order::{EntryKind, FulfilmentState, Parcel};
use omnicart_server::AppState;
use omnicart_server::service::fulfilment::{Action, apply};
use omnicart_server::store::fulfilment::of_order;
use omnicart_server::store::orders;
use serde_json::{Value, json};

const KEY: &str = "wms-test-key-0123456789abcdef";

/// The demo app with one integration, `wms`, keyed [`KEY`].
async fn keyed_app() -> (TestApp, AppState) {
    let (app, state) = app_with_catalogue(|_| {}).await;
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

async fn call(app: &TestApp, method: &str, path: &str, body: Option<&Value>, key: bool) -> Reply {
    let mut request = axum::http::Request::builder().method(method).uri(path);
    if body.is_some() {
        request = request.header(axum::http::header::CONTENT_TYPE, "application/json");
    }
    if key {
        request = request.header(omnicart_api::INTEGRATION_KEY_HEADER, KEY);
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    app.raw(request.body(axum::body::Body::from(body)).unwrap())
        .await
}

/// Mike's order of `items` (`(sku, quantity)`), delivered at standard to Berlin, paid with
/// `card`: his session cookie and the order's number.
async fn placed(app: &TestApp, items: &[(&str, u32)], card: &str) -> (String, String) {
    let (cookie, cart) = app.sign_in(MIKE).await;
    let mut ops: Vec<Value> = items
        .iter()
        .map(|(sku, q)| json!({"op": "add", "sku": sku, "quantity": q}))
        .collect();
    ops.push(json!({"op": "set_address", "address": {"postcode": "10115"}}));
    ops.push(json!({"op": "choose_delivery", "level": "standard"}));
    let view = app.edit_now(&cart, &Value::Array(ops), Some(&cookie)).await;
    let total = view["quote"]["total"].clone();
    let body = checkout_body(&cart, &total, card);
    let reply = app
        .checkout(&format!("k-{cart}"), &body, Some(&cookie))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let number = reply.json["order"]["number"].as_str().unwrap().to_owned();
    (cookie, number)
}

fn at() -> Timestamp {
    Timestamp::from_unix(1_900_000_000)
}

/// Every fulfilment order of the order picked, packed, shipped and delivered.
async fn deliver_all(state: &AppState, number: &str) {
    let id = orders::by_number(&state.db, number)
        .await
        .unwrap()
        .unwrap()
        .id;
    for (i, row) in of_order(&state.db, &id).await.unwrap().iter().enumerate() {
        for to in [FulfilmentState::Picking, FulfilmentState::Packed] {
            apply(state, "wms", &row.id, Action::To(to), at())
                .await
                .unwrap();
        }
        let parcel = Parcel {
            carrier: "DHL".into(),
            tracking_number: format!("00340{i}"),
            label: String::new(),
        };
        apply(state, "wms", &row.id, Action::Ship(parcel), at())
            .await
            .unwrap();
        let delivered = Action::To(FulfilmentState::Delivered);
        apply(state, "wms", &row.id, delivered, at()).await.unwrap();
    }
}

fn returns_of(number: &str) -> String {
    routes::with_number(routes::ORDER_RETURNS, number)
}

async fn ask(app: &TestApp, cookie: &str, number: &str, lines: Value) -> Reply {
    let body = json!({ "lines": lines }).to_string();
    app.post(&returns_of(number), &body, Some(cookie)).await
}

async fn order(app: &TestApp, cookie: &str, number: &str) -> Value {
    let reply = app
        .get(&routes::with_number(routes::ORDER, number), Some(cookie))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    reply.json
}

fn line_of(order: &Value, sku: &str) -> usize {
    order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["sku"] == sku && l["attached_to"].is_null() && l["gift"] == false)
        .unwrap()
}

const STORE: &str = "store-berlin-alexanderplatz";

/// On hand of `sku` at `location` as the page's snapshot reports it (the live stock).
async fn on_hand(app: &TestApp, location: &str, sku: &str) -> i64 {
    let snapshot = app.get(routes::SNAPSHOT, None).await.json;
    snapshot["network"]["stock"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["location"] == location && r["sku"] == sku)
        .map_or(0, |r| r["on_hand"].as_i64().unwrap())
}

fn receive_path(id: &str) -> String {
    routes::with_id(routes::RETURN_RECEIVE, id)
}

async fn receive(app: &TestApp, id: &str, lines: Value) -> Reply {
    let body = json!({"location": STORE, "lines": lines});
    call(app, "POST", &receive_path(id), Some(&body), true).await
}

fn minor(money: &Value) -> i64 {
    let text = money["amount"].as_str().unwrap();
    let (units, cents) = text.split_once('.').unwrap();
    units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

/// Test 4. The cinema bundle twice (Lumina 55" + tilt mount + installation for €1,449 each)
/// for Mike, delivered; he sends one of the two mounts back.
///
/// By hand, the mount line: gross 2 × 59.00 = 118.00; the bundle takes 176.00 off the two
/// bundles (2 × (1399 + 59 + 79 − 1449)), the mounts' share 6.75, so net 111.25. Spend and
/// save takes 100.00 off the order, allocated over the nets 2637.80 + 111.25 + 148.95 =
/// 2898.00 by largest remainder in cents: 10000 × 11125 / 289800 = 383.88 → 383, the TVs'
/// 9102.13 → 9102, the installations' 513.98 → 513; the two cents left go to the largest
/// remainders (.98, .88): 3.84 for the mounts. The line's total, tax included, is 111.25 −
/// 3.84 = 107.41; its tax 107.41 × 19/119 = 17.1495… → 17.15. One unit of two: 107.41 / 2 =
/// 53.705, the odd cent to the first unit returned: **53.71**, tax 8.58; the second unit
/// **53.70**, tax 8.57; together 107.41, the line's total. Delivery was free: nothing more.
#[tokio::test]
async fn a_partial_return_of_a_discounted_bundle_line_refunds_the_hand_computed_amount() {
    let (app, state) = keyed_app().await;
    let items = [
        ("LUM-OLED-C4-55", 2),
        ("MNT-TILT-L", 2),
        ("SVC-INSTALL-TV", 2),
    ];
    let (cookie, number) = placed(&app, &items, test_cards::SUCCESS).await;
    deliver_all(&state, &number).await;
    let before = order(&app, &cookie, &number).await;
    let mount = line_of(&before, "MNT-TILT-L");
    assert_eq!(before["lines"][mount]["total"]["amount"], "107.41");
    assert_eq!(before["lines"][mount]["order_discount"]["amount"], "3.84");

    let asked = json!([{"line": mount, "quantity": 1, "reason": "Too wide for the wall"}]);
    let reply = ask(&app, &cookie, &number, asked.clone()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let ret = reply.json;
    assert_eq!(ret["state"], "requested");
    assert_eq!(ret["lines"][0]["refund"]["amount"], "53.71");
    assert_eq!(ret["lines"][0]["tax"]["amount"], "8.58");
    assert_eq!(ret["delivery"]["amount"], "0.00");
    assert_eq!(ret["total"]["amount"], "53.71");

    let shelf = on_hand(&app, STORE, "MNT-TILT-L").await;
    let id = ret["id"].as_str().unwrap();
    let received = receive(&app, id, json!([{"line": mount, "disposition": "restock"}])).await;
    assert_eq!(received.status, StatusCode::OK, "{:?}", received.json);
    assert_eq!(received.json["state"], "refunded");
    assert_eq!(received.json["location"], STORE);
    assert_eq!(
        on_hand(&app, STORE, "MNT-TILT-L").await,
        shelf + 1,
        "the restocked unit is on the store's shelf at once"
    );
    let after = order(&app, &cookie, &number).await;
    assert_eq!(after["payment"]["refunded"]["amount"], "53.71");
    assert_eq!(after["payment"]["state"], "partially_refunded");
    let steps: Vec<&str> = after["returns"][0]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["requested", "received", "refunded"]);

    // The second mount: the rest of the line, so the two refunds are its total exactly.
    let second = ask(&app, &cookie, &number, asked).await;
    assert_eq!(second.status, StatusCode::CREATED, "{:?}", second.json);
    assert_eq!(second.json["lines"][0]["refund"]["amount"], "53.70");
    assert_eq!(second.json["lines"][0]["tax"]["amount"], "8.57");
    let row = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap();
    let key = format!("refund:{id}");
    assert_eq!(
        state.payments.test.ledger(&row.attempt_id).refunds[&key],
        5_371
    );
}

/// Test 5. Paid with the card whose refunds fail the first time: the receipt leaves the
/// return `refund_failed` with nothing moved; the retry refunds; more retries, and the
/// receipt again, refund nothing more, at the gateway or on the ledger.
#[tokio::test]
async fn a_refused_refund_is_refund_failed_and_a_retry_refunds_once_never_twice() {
    let (app, state) = keyed_app().await;
    let (cookie, number) = placed(&app, &[("SON-BEAM-30", 1)], test_cards::REFUND_FAILS).await;
    deliver_all(&state, &number).await;
    let line = line_of(&order(&app, &cookie, &number).await, "SON-BEAM-30");
    let asked = json!([{"line": line, "quantity": 1, "reason": "Sounds thin"}]);
    let ret = ask(&app, &cookie, &number, asked).await.json;
    let id = ret["id"].as_str().unwrap();
    let attempt = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap()
        .attempt_id;

    let dispositions = json!([{"line": line, "disposition": "damaged"}]);
    let failed = receive(&app, id, dispositions.clone()).await;
    assert_eq!(failed.status, StatusCode::OK, "{:?}", failed.json);
    assert_eq!(failed.json["state"], "refund_failed");
    let o = order(&app, &cookie, &number).await;
    assert_eq!(
        o["payment"]["refunded"]["amount"], "0.00",
        "the balance is unchanged"
    );
    assert_eq!(o["payment"]["state"], "captured");
    assert_eq!(o["returns"][0]["state"], "refund_failed");
    assert_eq!(state.payments.test.ledger(&attempt).refunded(), 0);

    // The provider down for refunds: the retry fails again, nothing moves.
    state.payments.test.refuse_refunds(true);
    let refund = routes::with_id(routes::RETURN_REFUND, id);
    let again = call(&app, "POST", &refund, None, true).await;
    assert_eq!(again.json["state"], "refund_failed");
    state.payments.test.refuse_refunds(false);

    let retried = call(&app, "POST", &refund, None, true).await;
    assert_eq!(retried.status, StatusCode::OK, "{:?}", retried.json);
    assert_eq!(retried.json["state"], "refunded");
    for _ in 0..2 {
        let replay = call(&app, "POST", &refund, None, true).await;
        assert_eq!(replay.status, StatusCode::OK);
        assert_eq!(replay.json["state"], "refunded");
        let replay = receive(&app, id, dispositions.clone()).await;
        assert_eq!(replay.json["state"], "refunded");
    }
    let total = minor(&ret["total"]);
    assert_eq!(
        state.payments.test.ledger(&attempt).refunded(),
        total,
        "once at the gateway"
    );
    let row = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap();
    let refunds: Vec<_> = row
        .order
        .payment
        .entries()
        .iter()
        .filter(|e| e.kind == EntryKind::Refund)
        .collect();
    assert_eq!(refunds.len(), 1, "once on the ledger");
    assert_eq!(refunds[0].key, format!("refund:{id}"));
    assert_eq!(refunds[0].amount.to_minor(), Some(total));
    let steps: Vec<&str> = retried.json["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "requested",
            "received",
            "refund_failed",
            "refund_failed",
            "refunded"
        ]
    );
}

#[tokio::test]
async fn more_than_was_delivered_and_not_yet_returned_is_refused_and_nothing_is_kept() {
    let (app, state) = keyed_app().await;
    let (cookie, number) = placed(&app, &[("SON-BEAM-30", 2)], test_cards::SUCCESS).await;
    let line = line_of(&order(&app, &cookie, &number).await, "SON-BEAM-30");
    let one = json!([{"line": line, "quantity": 1, "reason": "Changed my mind"}]);
    let early = ask(&app, &cookie, &number, one.clone()).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "not delivered yet");
    assert_eq!(early.code(), "not_returnable");
    deliver_all(&state, &number).await;

    let three = json!([{"line": line, "quantity": 3, "reason": "Changed my mind"}]);
    let over = ask(&app, &cookie, &number, three).await;
    assert_eq!(over.status, StatusCode::CONFLICT);
    assert_eq!(over.code(), "not_returnable");
    assert_eq!(
        ask(&app, &cookie, &number, one.clone()).await.status,
        StatusCode::CREATED
    );
    let two = json!([{"line": line, "quantity": 2, "reason": "Changed my mind"}]);
    let past = ask(&app, &cookie, &number, two).await;
    assert_eq!(
        past.code(),
        "not_returnable",
        "one of two is claimed already"
    );

    let refusals = [
        (json!([]), "invalid_return"),
        (
            json!([{"line": line, "quantity": 0, "reason": "x"}]),
            "invalid_return",
        ),
        (
            json!([{"line": line, "quantity": 1, "reason": " "}]),
            "invalid_return",
        ),
        (
            json!([{"line": 99, "quantity": 1, "reason": "x"}]),
            "unknown_line",
        ),
    ];
    for (lines, code) in refusals {
        let reply = ask(&app, &cookie, &number, lines.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{lines}");
        assert_eq!(reply.code(), code, "{lines}");
    }
    let extra = json!({"lines": one, "refund": "999.00"}).to_string();
    let reply = app.post(&returns_of(&number), &extra, Some(&cookie)).await;
    assert_eq!(
        reply.code(),
        "invalid_request",
        "a client never names an amount"
    );
    let o = order(&app, &cookie, &number).await;
    assert_eq!(
        o["returns"].as_array().unwrap().len(),
        1,
        "only the one accepted"
    );
}

#[tokio::test]
async fn another_customers_order_is_404_and_staff_routes_need_the_key() {
    let (app, state) = keyed_app().await;
    let (cookie, number) = placed(&app, &[("SON-BEAM-30", 1)], test_cards::SUCCESS).await;
    deliver_all(&state, &number).await;
    let line = line_of(&order(&app, &cookie, &number).await, "SON-BEAM-30");
    let asked = json!([{"line": line, "quantity": 1, "reason": "Broken"}]);
    let (kylie, _) = app.sign_in(KYLIE).await;
    let theirs = ask(&app, &kylie, &number, asked.clone()).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(theirs.code(), "not_found");
    let body = json!({"lines": asked}).to_string();
    let anonymous = app.post(&returns_of(&number), &body, None).await;
    assert_eq!(anonymous.status, StatusCode::NOT_FOUND);

    let ret = ask(&app, &cookie, &number, asked).await.json;
    let id = ret["id"].as_str().unwrap();
    let dispositions =
        json!({"location": STORE, "lines": [{"line": line, "disposition": "restock"}]});
    let paths = [
        ("POST", receive_path(id), Some(&dispositions)),
        ("POST", routes::with_id(routes::RETURN_REFUND, id), None),
        ("GET", routes::RETURN_RATES.to_owned(), None),
    ];
    for (method, path, body) in paths {
        let reply = call(&app, method, &path, body, false).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(reply.code(), "integration_key_required");
    }
    let unknown = receive(&app, "ret_nope", json!([])).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        order(&app, &cookie, &number).await["returns"][0]["state"],
        "requested"
    );
}

#[tokio::test]
async fn a_replayed_receipt_moves_nothing_and_bad_receipts_change_nothing() {
    let (app, state) = keyed_app().await;
    let (cookie, number) = placed(&app, &[("SON-BEAM-30", 2)], test_cards::SUCCESS).await;
    deliver_all(&state, &number).await;
    let line = line_of(&order(&app, &cookie, &number).await, "SON-BEAM-30");
    let asked = json!([{"line": line, "quantity": 2, "reason": "Two too many"}]);
    let ret = ask(&app, &cookie, &number, asked).await.json;
    let id = ret["id"].as_str().unwrap();
    let shelf = on_hand(&app, STORE, "SON-BEAM-30").await;

    let bad = [
        (json!([]), "disposition_missing"),
        (
            json!([{"line": line, "disposition": "lost"}]),
            "invalid_return",
        ),
        (
            json!([{"line": line + 7, "disposition": "restock"}]),
            "unknown_line",
        ),
    ];
    for (lines, code) in bad {
        let reply = receive(&app, id, lines).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.code(), code);
    }
    let nowhere =
        json!({"location": "wh-atlantis", "lines": [{"line": line, "disposition": "restock"}]});
    let reply = call(&app, "POST", &receive_path(id), Some(&nowhere), true).await;
    assert_eq!(reply.code(), "unknown_location");
    assert_eq!(on_hand(&app, STORE, "SON-BEAM-30").await, shelf);

    let restock = json!([{"line": line, "disposition": "restock"}]);
    for _ in 0..3 {
        let reply = receive(&app, id, restock.clone()).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        assert_eq!(reply.json["state"], "refunded");
    }
    assert_eq!(
        on_hand(&app, STORE, "SON-BEAM-30").await,
        shelf + 2,
        "restocked once"
    );
    let o = order(&app, &cookie, &number).await;
    assert_eq!(
        minor(&o["payment"]["refunded"]),
        minor(&ret["total"]),
        "refunded once"
    );
}

/// Three cables with a delivery charge (the order is under the free-delivery threshold),
/// returned in two returns: the last goods bring the delivery charge back, the refunds add
/// up to exactly what was captured, and nothing more can be returned or refunded.
#[tokio::test]
async fn the_refunds_of_a_whole_return_are_exactly_what_was_captured_never_more() {
    let (app, state) = keyed_app().await;
    let (cookie, number) = placed(&app, &[("CBL-OPT-15", 3)], test_cards::SUCCESS).await;
    deliver_all(&state, &number).await;
    let o = order(&app, &cookie, &number).await;
    let delivery = minor(&o["totals"]["delivery"]);
    assert!(
        delivery > 0,
        "the order pays for delivery: {:?}",
        o["totals"]
    );
    let line = line_of(&o, "CBL-OPT-15");
    let mut refunded = 0;
    for (quantity, with_delivery) in [(2, false), (1, true)] {
        let asked = json!([{"line": line, "quantity": quantity, "reason": "Wrong length"}]);
        let ret = ask(&app, &cookie, &number, asked).await.json;
        assert_eq!(minor(&ret["delivery"]) > 0, with_delivery, "{ret:?}");
        let id = ret["id"].as_str().unwrap();
        let reply = receive(&app, id, json!([{"line": line, "disposition": "damaged"}])).await;
        assert_eq!(reply.json["state"], "refunded");
        refunded += minor(&ret["total"]);
        let o = order(&app, &cookie, &number).await;
        assert!(minor(&o["payment"]["refunded"]) <= minor(&o["payment"]["captured"]));
    }
    let o = order(&app, &cookie, &number).await;
    assert_eq!(refunded, minor(&o["totals"]["total"]));
    assert_eq!(
        minor(&o["payment"]["refunded"]),
        minor(&o["payment"]["captured"])
    );
    assert_eq!(o["payment"]["state"], "refunded");
    let more = json!([{"line": line, "quantity": 1, "reason": "Again"}]);
    assert_eq!(
        ask(&app, &cookie, &number, more).await.code(),
        "not_returnable"
    );

    let rates = call(&app, "GET", routes::RETURN_RATES, None, true).await;
    assert_eq!(rates.status, StatusCode::OK, "{:?}", rates.json);
    let cable = rates.json["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "CBL-OPT-15")
        .unwrap()
        .clone();
    assert_eq!(
        cable,
        json!({"key": "CBL-OPT-15", "sold": 3, "returned": 3, "rate": "1.0000"})
    );
    assert_eq!(rates.json["customers"][0]["rate"], "1.0000");
    let order_id = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap()
        .id;
    let events = omnicart_server::store::outbox::list(&state.db, Some(&order_id), None, 100)
        .await
        .unwrap();
    let mut kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    kinds.retain(|k| k.starts_with("return."));
    kinds.reverse();
    assert_eq!(
        kinds,
        ["return.requested", "return.received", "return.refunded"].repeat(2),
        "every step of both returns told to the other systems, in order"
    );
    let mails = omnicart_server::store::mail::due(&state.db, i64::MAX / 2, 100)
        .await
        .unwrap();
    let subjects: Vec<&str> = mails.iter().map(|m| m.mail.subject.as_str()).collect();
    assert!(
        subjects
            .iter()
            .filter(|s| s.starts_with("Your refund for order"))
            .count()
            == 2,
        "the shopper is told of each refund: {subjects:?}"
    );
}
