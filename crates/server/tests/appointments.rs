//! Installation appointments (issue 17): the free slots of an order's area, a booking by its
//! shopper and nobody else, moves and cancels freeing the installer, twenty concurrent
//! bookings for the last free installer of a slot (one wins), and a complaint's free repeat
//! visit by an experienced installer, linked, with its zero-charge event for the ERP. Runs on
//! SQLite and, with `OMNICART_TEST_POSTGRES`, on PostgreSQL.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{KYLIE, Reply, TestApp, app_with_catalogue, checkout_body};
use omnicart_api::checkout::test_cards;
use omnicart_server::AppState;
use omnicart_server::service::appointments::load_installers;
use serde_json::{Value, json};

const TV: &str = "LUM-OLED-C4-55";
const INSTALL: &str = "SVC-INSTALL-TV";
const KEY: &str = "callcentre-key-0123456789abcdef";
const INSTALLERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo-installers.json");

/// The app with the demo installers and one integration, the call centre's.
async fn app() -> (TestApp, AppState) {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let state = state.with_integration_keys(&[("callcentre".to_owned(), KEY.to_owned())]);
    load_installers(&state, INSTALLERS.as_ref()).await.unwrap();
    let router = omnicart_server::http::app(state.clone(), None);
    (
        TestApp {
            router,
            dir: app.dir,
        },
        state,
    )
}

/// A guest's order of a TV with its installation, delivered to Berlin: number and token.
async fn placed(app: &TestApp) -> (String, String) {
    let cart = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": TV, "quantity": 1},
        {"op": "attach_service", "sku": TV, "service": INSTALL},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]);
    app.edit_now(&cart, &ops, None).await;
    let total = app.get(&format!("/api/carts/{cart}"), None).await.json["quote"]["total"].clone();
    let body = checkout_body(&cart, &total, test_cards::SUCCESS);
    let reply = app.checkout(&format!("k-{cart}"), &body, None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    (
        reply.json["order"]["number"].as_str().unwrap().to_owned(),
        reply.json["guest_token"].as_str().unwrap().to_owned(),
    )
}

/// `method` `path` with a JSON body, as the guest holding `token` or (`None`) the agent.
async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>, body: Value) -> Reply {
    let (path, key) = match token {
        Some(t) => (format!("{path}?token={t}"), None),
        None => (path.to_owned(), Some(KEY)),
    };
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header("x-integration-key", key);
    }
    let body = if body.is_null() {
        Body::empty()
    } else {
        Body::from(body.to_string())
    };
    app.raw(request.body(body).unwrap()).await
}

/// The order's installation line (the service right after its TV).
async fn service_line(app: &TestApp, number: &str, token: &str) -> usize {
    let order = app
        .get(&format!("/api/orders/{number}?token={token}"), None)
        .await;
    order.json["lines"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["sku"] == INSTALL)
        .expect("an installation line")
}

async fn slots(app: &TestApp, number: &str, token: &str) -> Vec<Value> {
    let path = format!("/api/orders/{number}/appointment-slots");
    let reply = call(app, "GET", &path, Some(token), Value::Null).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["area"], "10");
    reply.json["slots"].as_array().unwrap().clone()
}

async fn book(app: &TestApp, number: &str, token: &str, day: &str, slot: &str) -> Reply {
    let line = service_line(app, number, token).await;
    let path = format!("/api/orders/{number}/appointments");
    let body = json!({"line": line, "day": day, "slot": slot});
    call(app, "POST", &path, Some(token), body).await
}

fn free(slots: &[Value], day: &str, slot: &str) -> u64 {
    slots
        .iter()
        .find(|s| s["day"] == day && s["slot"] == slot)
        .map_or(0, |s| s["free"].as_u64().unwrap())
}

#[tokio::test]
async fn a_visit_is_booked_moved_and_cancelled_by_its_shopper_and_nobody_else() {
    let (app, _) = app().await;
    let (number, token) = placed(&app).await;
    let open = slots(&app, &number, &token).await;
    // Berlin 10 has two installers; every slot of the weeks ahead is free.
    assert!(open.len() >= 3 * 17, "{open:?}");
    assert!(open.iter().all(|s| s["free"] == 2));
    let (day, slot) = (
        open[0]["day"].as_str().unwrap(),
        open[0]["slot"].as_str().unwrap(),
    );
    let booked = book(&app, &number, &token, day, slot).await;
    assert_eq!(booked.status, StatusCode::CREATED, "{:?}", booked.json);
    assert_eq!(booked.json["state"], "booked");
    assert_eq!(booked.json["service_sku"], INSTALL);
    assert_eq!(free(&slots(&app, &number, &token).await, day, slot), 1);
    // Twice: the service has its visit.
    assert_eq!(
        book(&app, &number, &token, day, slot).await.code(),
        "already_booked"
    );
    // Another shopper does not see the order, nor its visits.
    let (kylie, _) = app.sign_in(KYLIE).await;
    let path = format!("/api/orders/{number}/appointments");
    assert_eq!(
        app.get(&path, Some(&kylie)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, "GET", &path, Some("gt_wrong"), Value::Null)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Moved to the next slot: the old one is free again, the new one taken.
    let id = booked.json["id"].as_str().unwrap();
    let next = open[1]["slot"].as_str().unwrap();
    let path = format!("/api/orders/{number}/appointments/{id}/reschedule");
    let moved = call(
        &app,
        "POST",
        &path,
        Some(&token),
        json!({"day": day, "slot": next}),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.json);
    let after = slots(&app, &number, &token).await;
    assert_eq!((free(&after, day, slot), free(&after, day, next)), (2, 1));
    let path = format!("/api/orders/{number}/appointments/{id}/cancel");
    let cancelled = call(&app, "POST", &path, Some(&token), Value::Null).await;
    assert_eq!(cancelled.json["state"], "cancelled", "{:?}", cancelled.json);
    assert_eq!(free(&slots(&app, &number, &token).await, day, next), 2);
    let history: Vec<&str> = cancelled.json["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["booked", "booked", "cancelled"]);
}

#[tokio::test]
async fn a_bad_slot_or_line_is_refused_and_books_nothing() {
    let (app, state) = app().await;
    let (number, token) = placed(&app).await;
    let open = slots(&app, &number, &token).await;
    let day = open[0]["day"].as_str().unwrap();
    for (day, slot) in [
        (day, "07:00-09:00"),
        ("2020-01-06", "08:00-12:00"),
        ("2099-01-05", "08:00-12:00"),
        ("not-a-day", "08:00-12:00"),
    ] {
        assert_eq!(
            book(&app, &number, &token, day, slot).await.code(),
            "invalid_slot",
            "{day} {slot}"
        );
    }
    // A Sunday is never offered.
    assert!(open.iter().all(|s| {
        let d = omnicart_engine::fulfilment::Date::parse(s["day"].as_str().unwrap()).unwrap();
        d.weekday() != 6
    }));
    let path = format!("/api/orders/{number}/appointments");
    let tv_line = json!({"line": 0, "day": day, "slot": "08:00-12:00"});
    let reply = call(&app, "POST", &path, Some(&token), tv_line).await;
    assert_eq!(reply.code(), "not_a_service_line");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM installer_bookings")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn twenty_shoppers_racing_for_the_last_installer_of_a_slot_book_it_once() {
    let (app, state) = app().await;
    let mut orders = Vec::new();
    for _ in 0..21 {
        orders.push(placed(&app).await);
    }
    let open = slots(&app, &orders[0].0, &orders[0].1).await;
    let (day, slot) = (
        open[0]["day"].as_str().unwrap().to_owned(),
        open[0]["slot"].as_str().unwrap().to_owned(),
    );
    // One of the area's two installers is taken; twenty race for the other.
    let first = book(&app, &orders[0].0, &orders[0].1, &day, &slot).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let app = Arc::new(app);
    let mut racing = Vec::new();
    for (number, token) in orders.into_iter().skip(1) {
        let (app, day, slot) = (Arc::clone(&app), day.clone(), slot.clone());
        racing.push(tokio::spawn(async move {
            book(&app, &number, &token, &day, &slot).await
        }));
    }
    let mut won = 0;
    for race in racing {
        let reply = race.await.unwrap();
        match reply.status {
            StatusCode::CREATED => won += 1,
            _ => assert_eq!(reply.code(), "slot_taken", "{:?}", reply.json),
        }
    }
    assert_eq!(won, 1);
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM installer_bookings WHERE day = $1 AND slot = $2")
            .bind(&day)
            .bind(&slot)
            .fetch_one(state.db.pool())
            .await
            .unwrap();
    assert_eq!(n, 2, "two installers, two visits");
    let (booked,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM appointments")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert_eq!(booked, 2);
}

#[tokio::test]
async fn a_complaint_books_a_free_repeat_visit_by_an_experienced_installer() {
    let (app, state) = app().await;
    let (number, token) = placed(&app).await;
    let open = slots(&app, &number, &token).await;
    let (day, slot) = (
        open[0]["day"].as_str().unwrap(),
        open[0]["slot"].as_str().unwrap(),
    );
    let first = book(&app, &number, &token, day, slot).await;
    let id = first.json["id"].as_str().unwrap().to_owned();
    assert_ne!(first.json["charge"]["amount"], "0.00", "{:?}", first.json);
    let complain = format!("/api/orders/{number}/appointments/{id}/complaint");
    let later = (
        open[3]["day"].as_str().unwrap(),
        open[3]["slot"].as_str().unwrap(),
    );
    let body = json!({"reason": "the wall bracket was missing", "day": later.0, "slot": later.1});
    // Not before the visit happened.
    let early = call(&app, "POST", &complain, None, body.clone()).await;
    assert_eq!(early.code(), "invalid_transition", "{:?}", early.json);
    // The installer reports the visit failed; a shopper may not report it.
    let report = format!("/api/appointments/{id}/transitions");
    let by_shopper = app.post(&report, r#"{"to": "failed"}"#, None).await;
    assert_eq!(by_shopper.status, StatusCode::UNAUTHORIZED);
    let failed = call(
        &app,
        "POST",
        &report,
        None,
        json!({"to": "failed", "reason": "no bracket"}),
    )
    .await;
    assert_eq!(failed.json["state"], "failed", "{:?}", failed.json);
    // The agent books the repeat visit.
    let repeat = call(&app, "POST", &complain, None, body.clone()).await;
    assert_eq!(repeat.status, StatusCode::CREATED, "{:?}", repeat.json);
    assert_eq!(repeat.json["charge"]["amount"], "0.00");
    assert_eq!(repeat.json["repeat_of"], json!(id));
    // Aylin Demir is area 10's experienced installer.
    assert_eq!(repeat.json["installer"], "Aylin Demir");
    // Once per visit.
    assert_eq!(
        call(&app, "POST", &complain, None, body).await.code(),
        "invalid_transition"
    );
    let list = app
        .get(
            &format!("/api/orders/{number}/appointments?token={token}"),
            None,
        )
        .await;
    let visits = list.json["appointments"].as_array().unwrap();
    assert_eq!(visits.len(), 2);
    assert_eq!(visits[0]["complaint"], "the wall bracket was missing");
    assert_eq!(visits[0]["repeat"], repeat.json["id"]);
    // The ERP's event: a zero-value document linked to the first visit.
    let (body,): (String,) =
        sqlx::query_as("SELECT payload FROM outbox WHERE topic = 'appointment.repeat_booked'")
            .fetch_one(state.db.pool())
            .await
            .unwrap();
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["data"]["charge"]["amount"], "0.00");
    assert_eq!(event["data"]["repeat_of"], json!(id));
    // And the shopper's mail about the new visit.
    let (mails,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM mail_outbox WHERE subject LIKE 'Installation visit booked%'",
    )
    .fetch_one(state.db.pool())
    .await
    .unwrap();
    assert_eq!(mails, 2);
}

/// The demo installers as a feed, with `change` applied to the list.
fn feed(change: impl FnOnce(&mut Vec<Value>)) -> Value {
    let text = std::fs::read_to_string(INSTALLERS).unwrap();
    let mut list: Vec<Value> = serde_json::from_str(&text).unwrap();
    change(&mut list);
    json!({ "installers": list })
}

async fn put_installers(app: &TestApp, body: Value) -> Reply {
    call(app, "PUT", "/api/installers", None, body).await
}

#[tokio::test]
async fn the_installers_feed_replaces_the_list_and_never_drops_a_booked_visit() {
    let (app, _state) = app().await;
    let (number, token) = placed(&app).await;
    let open = slots(&app, &number, &token).await;
    let (day, slot) = (
        open[0]["day"].as_str().unwrap().to_owned(),
        open[0]["slot"].as_str().unwrap().to_owned(),
    );
    // Area 10 has two installers.
    assert_eq!(free(&open, &day, &slot), 2);

    // Only the integration may send it; a bad record refuses the whole feed.
    let unkeyed = app
        .raw(
            Request::builder()
                .method("PUT")
                .uri("/api/installers")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(feed(|_| {}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(unkeyed.status, StatusCode::UNAUTHORIZED);
    let newcomer =
        json!({"id": "ins-ber-5", "name": "Emil Vogel", "area": "10", "experienced": false});
    for bad in [
        feed(|l| {
            l.push(
                json!({"id": "ins-ber-5", "name": "Emil Vogel", "area": "1", "experienced": false}),
            )
        }),
        // Orders' areas are read in capitals (`area_of`): a lowercase one would match none.
        feed(|l| {
            l.push(
                json!({"id": "ins-ber-5", "name": "Emil Vogel", "area": "ab", "experienced": false}),
            )
        }),
        feed(|l| {
            l.push(json!({"id": "ins-ber-1", "name": "Twice", "area": "10", "experienced": false}))
        }),
        feed(|l| l.push(json!({"id": "", "name": "No id", "area": "10", "experienced": false}))),
        feed(|l| {
            l.push(json!({"id": "ins-ber-6", "name": "  ", "area": "10", "experienced": false}))
        }),
    ] {
        let refused = put_installers(&app, bad).await;
        assert_eq!(refused.code(), "invalid_installer", "{:?}", refused.json);
    }
    assert_eq!(free(&slots(&app, &number, &token).await, &day, &slot), 2);

    // The same list again changes nothing; a newcomer is added and free at once.
    let same = put_installers(&app, feed(|_| {})).await;
    assert_eq!(same.status, StatusCode::OK, "{:?}", same.json);
    assert_eq!(
        same.json,
        json!({"added": [], "updated": [], "removed": []})
    );
    let added = put_installers(&app, feed(|l| l.push(newcomer.clone()))).await;
    assert_eq!(
        added.json,
        json!({"added": ["ins-ber-5"], "updated": [], "removed": []})
    );
    assert_eq!(free(&slots(&app, &number, &token).await, &day, &slot), 3);

    // Book the visit; then a feed leaving out its installer is refused, nothing changed.
    let booked = book(&app, &number, &token, &day, &slot).await;
    assert_eq!(booked.status, StatusCode::CREATED, "{:?}", booked.json);
    let name = booked.json["installer"].as_str().unwrap().to_owned();
    let without = |l: &mut Vec<Value>| {
        l.push(newcomer.clone());
        l.retain(|i| i["name"] != name.as_str());
    };
    let refused = put_installers(&app, feed(without)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "installer_has_visits", "{:?}", refused.json);
    assert!(
        refused.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&day)
    );
    assert_eq!(free(&slots(&app, &number, &token).await, &day, &slot), 2);

    // Once the visit is cancelled, the installer may go; a renamed one is updated.
    let id = booked.json["id"].as_str().unwrap();
    let cancel = format!("/api/orders/{number}/appointments/{id}/cancel");
    let cancelled = call(&app, "POST", &cancel, Some(&token), Value::Null).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.json);
    let gone = put_installers(
        &app,
        feed(|l| {
            without(l);
            let lukas = l.iter_mut().find(|i| i["id"] == "ins-ber-3").unwrap();
            lukas["name"] = json!("Lukas Braun-Kaya");
        }),
    )
    .await;
    assert_eq!(gone.status, StatusCode::OK, "{:?}", gone.json);
    assert_eq!(gone.json["added"], json!([]));
    assert_eq!(gone.json["updated"], json!(["ins-ber-3"]));
    assert_eq!(gone.json["removed"].as_array().unwrap().len(), 1);
    assert_eq!(free(&slots(&app, &number, &token).await, &day, &slot), 2);
}

#[tokio::test]
async fn a_booking_racing_a_feed_that_removes_its_installers_never_leaves_a_visit_without_one() {
    let (app, state) = app().await;
    let (number, token) = placed(&app).await;
    let open = slots(&app, &number, &token).await;
    let area_ten = |i: &Value| i["area"] == "10";
    for (round, at) in open.iter().enumerate().take(8) {
        let (day, slot) = (at["day"].as_str().unwrap(), at["slot"].as_str().unwrap());
        let restored = put_installers(&app, feed(|_| {})).await;
        assert_eq!(restored.status, StatusCode::OK, "{:?}", restored.json);
        let (booked, fed) = tokio::join!(
            book(&app, &number, &token, day, slot),
            put_installers(&app, feed(|l| l.retain(|i| !area_ten(i)))),
        );
        // Exactly one of them wins: the visit (and the feed is refused) or the feed (and no
        // installer is left to book).
        match (booked.status, fed.status) {
            (StatusCode::CREATED, StatusCode::CONFLICT) => {
                assert_eq!(fed.code(), "installer_has_visits");
                let id = booked.json["id"].as_str().unwrap();
                let cancel = format!("/api/orders/{number}/appointments/{id}/cancel");
                let cancelled = call(&app, "POST", &cancel, Some(&token), Value::Null).await;
                assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.json);
            }
            (StatusCode::CONFLICT, StatusCode::OK) => assert_eq!(booked.code(), "slot_taken"),
            other => panic!("round {round}: {other:?} {:?} {:?}", booked.json, fed.json),
        }
        let (orphans,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM installer_bookings b WHERE NOT EXISTS (SELECT 1 FROM installers i WHERE i.id = b.installer_id)",
        )
        .fetch_one(state.db.pool())
        .await
        .unwrap();
        assert_eq!(orphans, 0, "round {round}");
    }
}
