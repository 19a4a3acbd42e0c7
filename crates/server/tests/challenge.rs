//! A checkout whose payment asks for a challenge (the test gateway's 3-D Secure style step,
//! `test_cards::CHALLENGE`) against a real database: `202` with stock and the coupon's use
//! held for the shopper, completed by the caller who started it only; confirmed, the order;
//! cancelled, everything released and the cart intact; completed twice or by many requests at
//! once, one order and one answer; abandoned, voided and released by the sweeper, and a late
//! completion refused with nothing charged.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{KYLIE, MIKE, Reply, TestApp, app_with_catalogue};
use omnicart_api::checkout::{CHALLENGE_TTL_SECONDS, test_cards};
use omnicart_server::AppState;
use omnicart_server::payment::Held;
use serde_json::{Value, json};

const SKU: &str = "SON-BEAM-30";
const RESERVED: &str = "SELECT reserved FROM stock WHERE sku = 'SON-BEAM-30'";
const COUPON_USES: &str = "SELECT used FROM promotion_usage WHERE promotion_id = 'welcome10'";
const ORDERS: &str = "SELECT COUNT(*) FROM orders";

/// One unit of [`SKU`] in stock, at one warehouse.
async fn app() -> (TestApp, AppState) {
    app_with_catalogue(|j| {
        let stock = j["network"]["stock"].as_array_mut().unwrap();
        stock.retain(|s| s["sku"] != SKU);
        stock.push(json!({"sku": SKU, "location": "wh-bad-hersfeld", "on_hand": 1}));
    })
    .await
}

/// `cart` (the caller's) filled with one [`SKU`] and the WELCOME10 coupon, delivered at
/// standard to Berlin.
async fn fill(app: &TestApp, cart: &str, cookie: Option<&str>) {
    let version = app.get(&format!("/api/carts/{cart}"), cookie).await.json["version"]
        .as_i64()
        .unwrap();
    let ops = json!([
        {"op": "add", "sku": SKU, "quantity": 1},
        {"op": "apply_coupon", "code": "WELCOME10"},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"},
    ]);
    let reply = app.edit(cart, version, &ops.to_string(), cookie).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
}

fn body(cart: &str, total: &Value, card: &str) -> String {
    json!({
        "cart_id": cart,
        "expected_total": total,
        "contact": {"email": "shopper@example.com", "name": "A Shopper"},
        "shipping_address": {"name": "A Shopper", "street": ["Invalidenstr. 1"], "postcode": "10115", "city": "Berlin", "country": "DE"},
        "payment": {"provider": "test", "token": card}
    })
    .to_string()
}

async fn post(
    app: &TestApp,
    path: &str,
    key: Option<&str>,
    body: &str,
    cookie: Option<&str>,
) -> Reply {
    let mut request = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    app.raw(request.body(Body::from(body.to_owned())).unwrap())
        .await
}

/// Checks `cart` out with `card`, at the server's own total (the total is read from a
/// refused probe first).
async fn checkout(app: &TestApp, cart: &str, card: &str, key: &str, cookie: Option<&str>) -> Reply {
    let zero = json!({"amount": "0.01", "currency": "EUR"});
    let probe = post(
        app,
        "/api/checkout",
        Some(&format!("probe-{key}")),
        &body(cart, &zero, card),
        cookie,
    )
    .await;
    assert_eq!(probe.code(), "price_changed", "{:?}", probe.json);
    let total = &probe.json["error"]["total"];
    post(
        app,
        "/api/checkout",
        Some(key),
        &body(cart, total, card),
        cookie,
    )
    .await
}

async fn complete(app: &TestApp, id: &str, result: &str, key: &str, cookie: Option<&str>) -> Reply {
    let path = format!("/api/checkout/{id}/complete");
    let body = json!({ "result": result }).to_string();
    post(app, &path, Some(key), &body, cookie).await
}

async fn count(state: &AppState, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(state.db.pool())
        .await
        .unwrap()
}

/// A checkout answered with a challenge: its id, after checking what the answer and the
/// database say.
async fn challenged(state: &AppState, reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.json);
    let challenge = &reply.json["challenge"];
    assert_eq!(challenge["kind"], "test");
    assert!(
        challenge.get("url").is_none(),
        "the page presents a test challenge itself"
    );
    assert_eq!(challenge["amount"]["currency"], "EUR");
    assert!(challenge["expires_at"].is_string());
    let id = challenge["id"].as_str().unwrap().to_owned();
    assert_eq!(count(state, RESERVED).await, 1, "the unit is held");
    assert_eq!(
        count(state, COUPON_USES).await,
        1,
        "the coupon's use is held"
    );
    assert_eq!(count(state, ORDERS).await, 0);
    assert_eq!(state.payments.test.state(&id), Some(Held::Challenged));
    assert!(
        state.payments.test.live_authorizations().is_empty(),
        "nothing is held on the card yet"
    );
    let hold = format!("SELECT expires_at - created_at FROM checkout_attempts WHERE id = '{id}'");
    assert!(
        count(state, &hold).await >= CHALLENGE_TTL_SECONDS,
        "the hold is extended for a person"
    );
    id
}

async fn cart_lines(app: &TestApp, cart: &str, cookie: Option<&str>) -> Value {
    app.get(&format!("/api/carts/{cart}"), cookie).await.json["cart"]["lines"].clone()
}

#[tokio::test]
async fn a_confirmed_challenge_places_the_order_once_for_its_customer_only() {
    let (app, state) = app().await;
    let (mike, cart) = app.sign_in(MIKE).await;
    fill(&app, &cart, Some(&mike)).await;
    let started = checkout(&app, &cart, test_cards::CHALLENGE, "place", Some(&mike)).await;
    let id = challenged(&state, &started).await;
    let replay = post(
        &app,
        "/api/checkout",
        Some("place"),
        &body(
            &cart,
            &started.json["challenge"]["amount"],
            test_cards::CHALLENGE,
        ),
        Some(&mike),
    )
    .await;
    assert_eq!(
        (replay.status, &replay.json),
        (started.status, &started.json),
        "a replay is the same challenge"
    );

    let (kylie, _) = app.sign_in(KYLIE).await;
    for cookie in [Some(kylie.as_str()), None] {
        let other = complete(&app, &id, "confirmed", "other", cookie).await;
        assert_eq!(
            (other.status, other.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{:?}",
            other.json
        );
    }
    let unknown = complete(&app, "att_unknown", "confirmed", "k", Some(&mike)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let keyless = post(
        &app,
        &format!("/api/checkout/{id}/complete"),
        None,
        r#"{"result":"confirmed"}"#,
        Some(&mike),
    )
    .await;
    assert_eq!(keyless.code(), "idempotency_key_required");
    assert_eq!(count(&state, RESERVED).await, 1, "still held");

    let placed = complete(&app, &id, "confirmed", "done", Some(&mike)).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    assert_eq!(
        placed.json["order"]["totals"]["total"],
        started.json["challenge"]["amount"]
    );
    assert_eq!(placed.json["order"]["lines"][0]["sku"], SKU);
    assert!(
        placed.json.get("guest_token").is_none(),
        "a customer's order"
    );
    assert_eq!(
        cart_lines(&app, &cart, Some(&mike)).await,
        json!([]),
        "the cart is emptied"
    );
    assert_eq!(state.payments.test.live_authorizations(), vec![id.clone()]);

    let again = complete(&app, &id, "confirmed", "done", Some(&mike)).await;
    let other_key = complete(&app, &id, "cancelled", "second", Some(&mike)).await;
    for reply in [&again, &other_key] {
        assert_eq!(
            (reply.status, &reply.json),
            (placed.status, &placed.json),
            "the first answer"
        );
    }
    let mismatch = complete(&app, &id, "cancelled", "done", Some(&mike)).await;
    assert_eq!(mismatch.code(), "idempotency_mismatch");
    assert_eq!(count(&state, ORDERS).await, 1, "one order");
    assert_eq!(count(&state, RESERVED).await, 1, "the order holds the unit");
    assert_eq!(count(&state, COUPON_USES).await, 1);
    let orders = app.get("/api/orders", Some(&mike)).await;
    assert_eq!(
        orders.json["orders"][0]["number"],
        placed.json["order"]["number"]
    );
}

#[tokio::test]
async fn a_cancelled_challenge_releases_everything_and_keeps_the_cart() {
    let (app, state) = app().await;
    let cart = app.anonymous_cart().await;
    fill(&app, &cart, None).await;
    let lines = cart_lines(&app, &cart, None).await;
    let id = challenged(
        &state,
        &checkout(&app, &cart, test_cards::CHALLENGE, "place", None).await,
    )
    .await;
    let (mike, _) = app.sign_in(MIKE).await;
    let customer = complete(&app, &id, "cancelled", "mike", Some(&mike)).await;
    assert_eq!(
        customer.status,
        StatusCode::NOT_FOUND,
        "a guest's challenge is the guest's"
    );

    let declined = complete(&app, &id, "cancelled", "cancel", None).await;
    assert_eq!(
        (
            declined.status,
            declined.code(),
            declined.json["error"]["reason"].as_str()
        ),
        (
            StatusCode::PAYMENT_REQUIRED,
            "payment_declined",
            Some("authentication_failed")
        ),
        "{:?}",
        declined.json
    );
    assert_eq!(count(&state, RESERVED).await, 0, "the unit is given back");
    assert_eq!(
        count(&state, COUPON_USES).await,
        0,
        "the coupon's use is given back"
    );
    assert_eq!(count(&state, ORDERS).await, 0);
    assert_eq!(state.payments.test.state(&id), Some(Held::Refused));
    assert!(state.payments.test.live_authorizations().is_empty());
    assert_eq!(
        cart_lines(&app, &cart, None).await,
        lines,
        "the cart is intact"
    );
    let view = app.get(&format!("/api/carts/{cart}"), None).await;
    assert_eq!(view.json["cart"]["coupons"], json!(["WELCOME10"]));

    let late = complete(&app, &id, "confirmed", "confirm", None).await;
    assert_eq!(
        (late.status, &late.json),
        (declined.status, &declined.json),
        "completed once"
    );
    assert_eq!(count(&state, ORDERS).await, 0);

    let paid = checkout(&app, &cart, test_cards::SUCCESS, "again", None).await;
    assert_eq!(
        paid.status,
        StatusCode::CREATED,
        "the unit and the use are back: {:?}",
        paid.json
    );
    assert!(paid.json["guest_token"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_completions_at_once_make_one_order_and_one_answer() {
    let (app, state) = app().await;
    let app = std::sync::Arc::new(app);
    let cart = app.anonymous_cart().await;
    fill(&app, &cart, None).await;
    let id = challenged(
        &state,
        &checkout(&app, &cart, test_cards::CHALLENGE, "place", None).await,
    )
    .await;
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(
                async move { complete(&app, &id, "confirmed", &format!("k{n}"), None).await },
            )
        })
        .collect();
    let mut answers = Vec::new();
    for (n, task) in tasks.into_iter().enumerate() {
        let mut reply = task.await.unwrap();
        // A completion that found another running is asked again, as the page does.
        while reply.code() == "in_progress" {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            reply = complete(&app, &id, "confirmed", &format!("k{n}"), None).await;
        }
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
        answers.push(reply.json);
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "one answer");
    assert_eq!(count(&state, ORDERS).await, 1, "one order");
    assert_eq!(count(&state, RESERVED).await, 1);
    assert_eq!(state.payments.test.live_authorizations(), vec![id]);
}

#[tokio::test]
async fn an_abandoned_challenge_is_voided_and_released_by_the_sweeper_and_a_late_completion_refused()
 {
    let (app, state) = app().await;
    let cart = app.anonymous_cart().await;
    fill(&app, &cart, None).await;
    let id = challenged(
        &state,
        &checkout(&app, &cart, test_cards::CHALLENGE, "place", None).await,
    )
    .await;
    let sweep = omnicart_server::service::checkout::sweep;
    assert_eq!(
        sweep(&state).await.unwrap(),
        0,
        "the shopper still has time"
    );
    assert_eq!(count(&state, RESERVED).await, 1);
    // The shopper never came back: the hold runs out.
    sqlx::query("UPDATE checkout_attempts SET expires_at = 0")
        .execute(state.db.pool())
        .await
        .unwrap();
    assert_eq!(sweep(&state).await.unwrap(), 1);
    assert_eq!(
        state.payments.test.state(&id),
        Some(Held::Voided),
        "the sweeper voids it"
    );
    assert_eq!(count(&state, RESERVED).await, 0);
    assert_eq!(count(&state, COUPON_USES).await, 0);

    let late = complete(&app, &id, "confirmed", "late", None).await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::CONFLICT, "attempt_expired"),
        "{:?}",
        late.json
    );
    assert_eq!(
        state.payments.test.state(&id),
        Some(Held::Voided),
        "nothing charged"
    );
    assert!(state.payments.test.live_authorizations().is_empty());
    assert_eq!(count(&state, ORDERS).await, 0);
    let again = complete(&app, &id, "confirmed", "late", None).await;
    assert_eq!((again.status, &again.json), (late.status, &late.json));
    assert_eq!(
        cart_lines(&app, &cart, None).await[0]["sku"],
        SKU,
        "the cart is intact"
    );
    let paid = checkout(&app, &cart, test_cards::SUCCESS, "again", None).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{:?}", paid.json);
}

#[tokio::test]
async fn a_new_checkout_of_the_cart_replaces_a_challenge_left_waiting() {
    let (app, state) = app().await;
    let cart = app.anonymous_cart().await;
    fill(&app, &cart, None).await;
    // The page was closed on the dialog; the shopper comes back with another card.
    let id = challenged(
        &state,
        &checkout(&app, &cart, test_cards::CHALLENGE, "place", None).await,
    )
    .await;
    let zero = json!({"amount": "0.01", "currency": "EUR"});
    let refused = post(
        &app,
        "/api/checkout",
        Some("wrong-total"),
        &body(&cart, &zero, test_cards::SUCCESS),
        None,
    )
    .await;
    assert_eq!(refused.code(), "price_changed", "{:?}", refused.json);
    assert_eq!(
        state.payments.test.state(&id),
        Some(Held::Challenged),
        "a refused checkout replaces nothing"
    );
    assert_eq!(count(&state, RESERVED).await, 1);
    let paid = checkout(&app, &cart, test_cards::SUCCESS, "other-card", None).await;
    assert_eq!(
        paid.status,
        StatusCode::CREATED,
        "the unit is given to it: {:?}",
        paid.json
    );
    assert_eq!(
        state.payments.test.state(&id),
        Some(Held::Voided),
        "the challenge is voided"
    );
    assert_eq!(count(&state, ORDERS).await, 1);
    assert_eq!(
        count(&state, RESERVED).await,
        1,
        "held by the new order only"
    );
    assert_eq!(count(&state, COUPON_USES).await, 1, "one use, the order's");
    let late = complete(&app, &id, "confirmed", "late", None).await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::CONFLICT, "attempt_expired"),
        "{:?}",
        late.json
    );
    assert_eq!(count(&state, ORDERS).await, 1, "no second order");
    assert_eq!(
        state.payments.test.live_authorizations().len(),
        1,
        "the new order's only"
    );
}
