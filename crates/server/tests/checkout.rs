//! Placement and orders against a real database: the last unit, summed demand, idempotency,
//! a single-use coupon, re-pricing, declines and timeouts, and who may see an order.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{KYLIE, MIKE, Reply, TestApp, app_with_catalogue};
use omnicart_api::checkout::test_cards;
use omnicart_server::AppState;
use serde_json::{Value, json};

const SKU: &str = "SON-BEAM-30";

/// Leaves `sku` one stock record: `on_hand` units at the Bad Hersfeld warehouse.
fn only_stock(json: &mut Value, sku: &str, on_hand: u32) {
    let stock = json["network"]["stock"].as_array_mut().unwrap();
    stock.retain(|s| s["sku"] != sku);
    stock.push(json!({"sku": sku, "location": "wh-bad-hersfeld", "on_hand": on_hand}));
}

/// A guest cart with `quantity` of `sku`, delivered at standard to Berlin.
async fn guest_cart(app: &TestApp, sku: &str, quantity: u32, extra: &[Value]) -> String {
    let cart = app.anonymous_cart().await;
    let mut ops = vec![
        json!({"op": "add", "sku": sku, "quantity": quantity}),
        json!({"op": "set_address", "address": {"postcode": "10115"}}),
        json!({"op": "choose_delivery", "level": "standard"}),
    ];
    ops.extend_from_slice(extra);
    let reply = app
        .edit(&cart, 1, &Value::from(ops).to_string(), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    cart
}

/// Places every (cart, body) at once, each under its own key; the tasks in order.
fn place_at_once(
    app: &std::sync::Arc<TestApp>,
    bodies: Vec<(String, String)>,
) -> Vec<tokio::task::JoinHandle<Reply>> {
    bodies
        .into_iter()
        .map(|(cart, body)| {
            let app = app.clone();
            tokio::spawn(
                async move { checkout(&app, Some(&format!("k-{cart}")), &body, None).await },
            )
        })
        .collect()
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

async fn checkout(app: &TestApp, key: Option<&str>, body: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::builder()
        .method("POST")
        .uri("/api/checkout")
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

/// The server's total for the cart: a checkout with a total it cannot have is refused with it.
async fn server_total(app: &TestApp, cart: &str, cookie: Option<&str>) -> Value {
    let zero = json!({"amount": "0.01", "currency": "EUR"});
    // A fresh key per probe: a probe's refusal is stored and replayed for its key.
    static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let key = format!("probe-{cart}-{n}");
    let reply = checkout(
        app,
        Some(&key),
        &body(cart, &zero, test_cards::SUCCESS),
        cookie,
    )
    .await;
    assert_eq!(reply.code(), "price_changed", "{:?}", reply.json);
    reply.json["error"]["total"].clone()
}

async fn count(state: &AppState, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(state.db.pool())
        .await
        .unwrap()
}

/// No reservation or claimed use belongs to anything but an order, no authorization is live
/// without an order, and no stock record promises less than nothing.
async fn nothing_left_behind(state: &AppState) {
    let orphans = "SELECT COUNT(*) FROM stock_reservations r WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.attempt_id = r.attempt_id)";
    assert_eq!(
        count(state, orphans).await,
        0,
        "reservations without an order"
    );
    let claims = "SELECT COUNT(*) FROM promotion_claims c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.attempt_id = c.attempt_id)";
    assert_eq!(
        count(state, claims).await,
        0,
        "promotion uses without an order"
    );
    // (The demo catalogue has records promising less than nothing already; no reservation may
    // be taken from one.)
    let negative = "SELECT COUNT(*) FROM stock s WHERE on_hand - reserved - safety < 0 AND EXISTS (SELECT 1 FROM stock_reservations r WHERE r.location = s.location AND r.sku = s.sku)";
    assert_eq!(count(state, negative).await, 0, "stock below zero");
    let live: i64 = state.payments.test.live_authorizations().len() as i64;
    let ordered = count(
        state,
        "SELECT COUNT(*) FROM orders WHERE state <> 'cancelled'",
    )
    .await;
    assert_eq!(live, ordered, "authorizations without an order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_unit_goes_to_exactly_one_of_100_concurrent_checkouts() {
    let (app, state) = app_with_catalogue(|j| only_stock(j, SKU, 1)).await;
    let app = std::sync::Arc::new(app);
    let mut bodies = Vec::new();
    for _ in 0..100 {
        let cart = guest_cart(&app, SKU, 1, &[]).await;
        let total = server_total(&app, &cart, None).await;
        bodies.push((cart.clone(), body(&cart, &total, test_cards::SUCCESS)));
    }
    let tasks = place_at_once(&app, bodies);
    let mut placed = 0;
    let mut out_of_stock = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            StatusCode::CREATED => placed += 1,
            StatusCode::CONFLICT if reply.code() == "out_of_stock" => {
                out_of_stock += 1;
                let line = &reply.json["error"]["lines"][0];
                assert_eq!(
                    (line["sku"].as_str(), line["available"].as_u64()),
                    (Some(SKU), Some(0))
                );
                assert!(reply.json["error"]["alternatives"].is_object());
            }
            other => panic!("{other}: {:?}", reply.json),
        }
    }
    assert_eq!((placed, out_of_stock), (1, 99));
    assert_eq!(count(&state, "SELECT COUNT(*) FROM orders").await, 1);
    let reserved = format!("SELECT reserved FROM stock WHERE sku = '{SKU}'");
    assert_eq!(count(&state, &reserved).await, 1);
    nothing_left_behind(&state).await;
}

#[tokio::test]
async fn two_units_are_checked_against_their_sum_at_one_stock_record() {
    // The snapshot the engine plans with says 2; the database, which decides, has 1 left.
    let (app, state) = app_with_catalogue(|j| only_stock(j, SKU, 2)).await;
    let cart = guest_cart(&app, SKU, 2, &[]).await;
    let total = server_total(&app, &cart, None).await;
    sqlx::query("UPDATE stock SET on_hand = 1 WHERE sku = $1")
        .bind(SKU)
        .execute(state.db.pool())
        .await
        .unwrap();
    let reply = checkout(
        &app,
        Some("k"),
        &body(&cart, &total, test_cards::SUCCESS),
        None,
    )
    .await;
    assert_eq!(reply.code(), "out_of_stock", "{:?}", reply.json);
    assert_eq!(reply.json["error"]["lines"][0]["requested"], 2);
    assert_eq!(reply.json["error"]["lines"][0]["available"], 1);
    assert_eq!(
        count(
            &state,
            &format!("SELECT reserved FROM stock WHERE sku = '{SKU}'")
        )
        .await,
        0
    );
    nothing_left_behind(&state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_requests_with_one_key_make_one_order_and_one_answer() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let app = std::sync::Arc::new(app);
    let cart = guest_cart(&app, SKU, 1, &[]).await;
    let total = server_total(&app, &cart, None).await;
    let request = body(&cart, &total, test_cards::SUCCESS);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (app, request) = (app.clone(), request.clone());
            tokio::spawn(async move { checkout(&app, Some("one-key"), &request, None).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            StatusCode::CREATED => answers.push(reply.json),
            StatusCode::CONFLICT => assert_eq!(reply.code(), "in_progress", "{:?}", reply.json),
            other => panic!("{other}: {:?}", reply.json),
        }
    }
    let again = checkout(&app, Some("one-key"), &request, None).await;
    assert_eq!(again.status, StatusCode::CREATED);
    answers.push(again.json);
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "one answer, replayed"
    );
    assert_eq!(count(&state, "SELECT COUNT(*) FROM orders").await, 1);
    let other = body(
        &cart,
        &json!({"amount": "1.00", "currency": "EUR"}),
        test_cards::SUCCESS,
    );
    let reply = checkout(&app, Some("one-key"), &other, None).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_mismatch")
    );
    let reply = checkout(&app, None, &request, None).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::BAD_REQUEST, "idempotency_key_required")
    );
    nothing_left_behind(&state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_use_coupon_discounts_exactly_one_of_50_concurrent_orders() {
    let (app, state) = app_with_catalogue(|j| {
        for p in j["promotions"].as_array_mut().unwrap() {
            if p["id"] == "welcome10" {
                p["usage_limit"] = json!(1);
            }
        }
    })
    .await;
    let app = std::sync::Arc::new(app);
    let coupon = json!({"op": "apply_coupon", "code": "WELCOME10"});
    let mut bodies = Vec::new();
    for _ in 0..50 {
        let cart = guest_cart(&app, SKU, 1, std::slice::from_ref(&coupon)).await;
        let total = server_total(&app, &cart, None).await;
        bodies.push((cart.clone(), body(&cart, &total, test_cards::SUCCESS)));
    }
    let tasks = place_at_once(&app, bodies);
    let (mut placed, mut exhausted) = (0, 0);
    for task in tasks {
        let reply = task.await.unwrap();
        match (reply.status, reply.code()) {
            (StatusCode::CREATED, _) => placed += 1,
            (StatusCode::CONFLICT, "promotion_exhausted") => {
                exhausted += 1;
                assert_eq!(reply.json["error"]["promotions"], json!(["welcome10"]));
                assert!(reply.json["error"]["current"]["quote"].is_object());
            }
            (status, code) => panic!("{status} {code}: {:?}", reply.json),
        }
    }
    assert_eq!((placed, exhausted), (1, 49));
    assert_eq!(
        count(
            &state,
            "SELECT used FROM promotion_usage WHERE promotion_id = 'welcome10'"
        )
        .await,
        1
    );
    nothing_left_behind(&state).await;
}

#[tokio::test]
async fn a_price_change_between_review_and_placement_is_refused_and_client_prices_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(&dir).await;
    let before = AppState::new(db.clone(), common::edited_catalogue(|_| {})).unwrap();
    let app = TestApp {
        router: omnicart_server::app(before, None),
        dir,
    };
    let cart = guest_cart(&app, SKU, 1, &[]).await;
    let total = server_total(&app, &cart, None).await;
    let mut tampered: Value =
        serde_json::from_str(&body(&cart, &total, test_cards::SUCCESS)).unwrap();
    tampered["lines"] = json!([{"sku": SKU, "unit_price": "0.01"}]);
    let reply = checkout(&app, Some("tampered"), &tampered.to_string(), None).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        reply.json
    );
    let repriced = common::edited_catalogue(|j| {
        for list in j["price_lists"].as_array_mut().unwrap() {
            if let Some(prices) = list["prices"].as_object_mut()
                && let Some(price) = prices.get_mut(SKU)
            {
                *price = json!("1.00");
            }
        }
        for product in j["products"].as_array_mut().unwrap() {
            for variant in product["variants"].as_array_mut().unwrap() {
                if variant["sku"] == SKU {
                    variant["price"] = json!("1.00");
                }
            }
        }
    });
    let after = AppState::new(db, repriced).unwrap();
    let app = TestApp {
        router: omnicart_server::app(after.clone(), None),
        dir: app.dir,
    };
    let reply = checkout(
        &app,
        Some("after"),
        &body(&cart, &total, test_cards::SUCCESS),
        None,
    )
    .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "price_changed"),
        "{:?}",
        reply.json
    );
    assert_ne!(reply.json["error"]["total"], total);
    assert_eq!(
        count(&after, "SELECT COUNT(*) FROM stock_reservations").await,
        0
    );
    assert_eq!(count(&after, "SELECT COUNT(*) FROM orders").await, 0);
}

#[tokio::test]
async fn a_decline_or_a_timeout_leaves_no_order_nothing_held_and_the_cart_intact() {
    let (app, state) = app_with_catalogue(|j| only_stock(j, SKU, 1)).await;
    let cart = guest_cart(&app, SKU, 1, &[]).await;
    let total = server_total(&app, &cart, None).await;
    for (card, status, code, reason) in [
        (
            test_cards::DECLINED,
            StatusCode::PAYMENT_REQUIRED,
            "payment_declined",
            Some("card_declined"),
        ),
        (
            test_cards::INSUFFICIENT_FUNDS,
            StatusCode::PAYMENT_REQUIRED,
            "payment_declined",
            Some("insufficient_funds"),
        ),
        (
            test_cards::TIMEOUT,
            StatusCode::GATEWAY_TIMEOUT,
            "payment_timeout",
            None,
        ),
    ] {
        let reply = checkout(&app, Some(card), &body(&cart, &total, card), None).await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{:?}",
            reply.json
        );
        assert_eq!(reply.json["error"]["reason"].as_str(), reason);
        assert_eq!(count(&state, "SELECT COUNT(*) FROM orders").await, 0);
        assert_eq!(
            count(
                &state,
                &format!("SELECT reserved FROM stock WHERE sku = '{SKU}'")
            )
            .await,
            0
        );
        nothing_left_behind(&state).await;
        let view = app.get(&format!("/api/carts/{cart}"), None).await;
        assert_eq!(
            view.json["cart"]["lines"][0]["sku"], SKU,
            "the cart is kept"
        );
    }
    let reply = checkout(
        &app,
        Some("paid"),
        &body(&cart, &total, test_cards::SUCCESS),
        None,
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "the unit was given back: {:?}",
        reply.json
    );
}

#[tokio::test]
async fn an_order_opens_to_its_customer_only_and_the_customer_cancels_it() {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let (mike, mike_cart) = app.sign_in(MIKE).await;
    let (kylie, _) = app.sign_in(KYLIE).await;
    let ops = json!([
        {"op": "add", "sku": SKU, "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]);
    let view = app
        .get(&format!("/api/carts/{mike_cart}"), Some(&mike))
        .await;
    let version = view.json["version"].as_i64().unwrap();
    assert_eq!(
        app.edit(&mike_cart, version, &ops.to_string(), Some(&mike))
            .await
            .status,
        StatusCode::OK
    );
    let total = server_total(&app, &mike_cart, Some(&mike)).await;
    let reply = checkout(
        &app,
        Some("m1"),
        &body(&mike_cart, &total, test_cards::SUCCESS),
        Some(&mike),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    assert!(reply.json["guest_token"].is_null());
    let number = reply.json["order"]["number"].as_str().unwrap().to_owned();
    let path = format!("/api/orders/{number}");
    for cookie in [Some(kylie.as_str()), None] {
        assert_eq!(app.get(&path, cookie).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            app.post(&format!("{path}/cancel"), "", cookie).await.status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        app.get("/api/orders", Some(&kylie)).await.json["orders"],
        json!([])
    );
    let nobody = app.get("/api/orders", None).await;
    assert_eq!(
        (nobody.status, nobody.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let stale = app
        .get("/api/orders", Some("omnicart_session=expired"))
        .await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND);
    let mine = app.get("/api/orders", Some(&mike)).await;
    assert_eq!(mine.json["orders"][0]["number"], number.as_str());
    let cart = app
        .get(&format!("/api/carts/{mike_cart}"), Some(&mike))
        .await;
    assert_eq!(
        cart.json["cart"]["lines"],
        json!([]),
        "the cart is emptied through its log"
    );
    let reserved = count(&state, "SELECT COUNT(*) FROM stock_reservations").await;
    assert!(reserved > 0);
    let cancelled = app.post(&format!("{path}/cancel"), "", Some(&mike)).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.json);
    assert_eq!(cancelled.json["state"], "cancelled");
    assert_eq!(cancelled.json["payment"]["state"], "voided");
    assert_eq!(cancelled.json["timeline"].as_array().unwrap().len(), 2);
    assert_eq!(
        count(&state, "SELECT COUNT(*) FROM stock_reservations").await,
        0
    );
    nothing_left_behind(&state).await;
    let again = app.post(&format!("{path}/cancel"), "", Some(&mike)).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
}

#[tokio::test]
async fn a_guest_opens_the_order_with_its_token_only() {
    let (app, _state) = app_with_catalogue(|_| {}).await;
    let cart = guest_cart(&app, SKU, 1, &[]).await;
    let total = server_total(&app, &cart, None).await;
    let reply = checkout(
        &app,
        Some("g"),
        &body(&cart, &total, test_cards::SUCCESS),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let token = reply.json["guest_token"].as_str().unwrap();
    let number = reply.json["order"]["number"].as_str().unwrap();
    let opened = app
        .get(&format!("/api/orders/{number}?token={token}"), None)
        .await;
    assert_eq!(opened.json["number"], number);
    let wrong = app
        .get(&format!("/api/orders/{number}?token=x{token}"), None)
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
}

/// Fills the signed-in customer's cart with `ops` at its current version.
async fn edit_mine(app: &TestApp, cart: &str, cookie: &str, ops: &Value) -> Value {
    let view = app.get(&format!("/api/carts/{cart}"), Some(cookie)).await;
    let version = view.json["version"].as_i64().unwrap();
    let reply = app
        .edit(cart, version, &ops.to_string(), Some(cookie))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    app.get(&format!("/api/carts/{cart}"), Some(cookie))
        .await
        .json
}

fn applies(view: &Value, promotion: &str) -> bool {
    view["quote"]["applied"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["promotion_id"] == promotion)
}

#[tokio::test]
async fn a_first_order_coupon_applies_to_the_first_order_only_and_the_cart_quote_agrees() {
    let (app, _state) = app_with_catalogue(|_| {}).await;
    let (mike, cart) = app.sign_in(MIKE).await;
    let ops = json!([
        {"op": "add", "sku": SKU, "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"},
        {"op": "apply_coupon", "code": "WELCOME10"}
    ]);
    let me = app.get("/api/me", Some(&mike)).await.json;
    assert_eq!(me["first_order"], json!(true));
    let mut totals = Vec::new();
    for (round, discounted) in [(1, true), (2, false)] {
        let view = edit_mine(&app, &cart, &mike, &ops).await;
        assert_eq!(
            applies(&view, "welcome10"),
            discounted,
            "order {round}: {view:?}"
        );
        let total = server_total(&app, &cart, Some(&mike)).await;
        assert_eq!(
            total, view["quote"]["total"],
            "the cart's quote is the checkout's"
        );
        let reply = checkout(
            &app,
            Some(&format!("order-{round}")),
            &body(&cart, &total, test_cards::SUCCESS),
            Some(&mike),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
        totals.push(total);
    }
    assert_ne!(totals[0], totals[1], "the second order pays in full");
    let me = app.get("/api/me", Some(&mike)).await.json;
    assert_eq!(me["first_order"], json!(false));
    let (kylie, _) = app.sign_in(KYLIE).await;
    let me = app.get("/api/me", Some(&kylie)).await.json;
    assert_eq!(
        me["first_order"],
        json!(true),
        "another customer is still at their first"
    );
}

/// A provider that holds every authorization until the test opens its gate, as a process
/// stalled (or a provider slow) between steps 1 and 3 would; then authorizes like the test
/// gateway.
#[derive(Default)]
struct Stalled {
    entered: tokio::sync::Notify,
    gate: tokio::sync::Notify,
    voids: std::sync::Mutex<Vec<String>>,
}

impl omnicart_server::payment::PaymentProvider for Stalled {
    fn authorize<'a>(
        &'a self,
        request: &'a omnicart_server::payment::Authorize,
    ) -> omnicart_server::payment::BoxFuture<
        'a,
        Result<omnicart_server::payment::Authorization, omnicart_server::payment::PaymentError>,
    > {
        Box::pin(async move {
            self.entered.notify_one();
            self.gate.notified().await;
            Ok(omnicart_server::payment::Authorization::Authorized(
                format!("stalled_{}", request.key),
            ))
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        _result: &'a str,
    ) -> omnicart_server::payment::BoxFuture<
        'a,
        Result<String, omnicart_server::payment::PaymentError>,
    > {
        Box::pin(async move {
            Err(omnicart_server::payment::PaymentError::Failed(format!(
                "no challenge under {key}"
            )))
        })
    }

    fn capture<'a>(
        &'a self,
        _key: &'a str,
        _capture_key: &'a str,
        _amount: omnicart_engine::Money,
    ) -> omnicart_server::payment::BoxFuture<'a, Result<(), omnicart_server::payment::PaymentError>>
    {
        Box::pin(async { Ok(()) })
    }

    fn void<'a>(
        &'a self,
        key: &'a str,
    ) -> omnicart_server::payment::BoxFuture<'a, Result<(), omnicart_server::payment::PaymentError>>
    {
        Box::pin(async move {
            self.voids.lock().unwrap().push(key.to_owned());
            Ok(())
        })
    }

    fn refund<'a>(
        &'a self,
        _key: &'a str,
        _refund_key: &'a str,
        _amount: omnicart_engine::Money,
    ) -> omnicart_server::payment::BoxFuture<'a, Result<(), omnicart_server::payment::PaymentError>>
    {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_voids_and_releases_a_stalled_attempt_and_its_late_step_3_loses() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(&dir).await;
    let mut state = AppState::new(db, common::edited_catalogue(|j| only_stock(j, SKU, 1))).unwrap();
    let stalled = std::sync::Arc::new(Stalled::default());
    state.payments.insert("stalled", stalled.clone());
    let app = std::sync::Arc::new(TestApp {
        router: omnicart_server::app(state.clone(), None),
        dir,
    });
    let cart = guest_cart(&app, SKU, 1, &[]).await;
    let total = server_total(&app, &cart, None).await;
    let mut request: Value =
        serde_json::from_str(&body(&cart, &total, test_cards::SUCCESS)).unwrap();
    request["payment"]["provider"] = json!("stalled");
    let placing = tokio::spawn({
        let app = app.clone();
        async move { checkout(&app, Some("late"), &request.to_string(), None).await }
    });
    stalled.entered.notified().await;
    let reserved = format!("SELECT reserved FROM stock WHERE sku = '{SKU}'");
    assert_eq!(count(&state, &reserved).await, 1, "step 1 holds the unit");
    // Not expired yet: the sweeper leaves it alone.
    let sweep = omnicart_server::service::checkout::sweep;
    assert_eq!(sweep(&state).await.unwrap(), 0);
    sqlx::query("UPDATE checkout_attempts SET expires_at = 0")
        .execute(state.db.pool())
        .await
        .unwrap();
    assert_eq!(sweep(&state).await.unwrap(), 1);
    let attempt: String = sqlx::query_scalar("SELECT id FROM checkout_attempts")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert_eq!(*stalled.voids.lock().unwrap(), vec![attempt.clone()]);
    assert_eq!(count(&state, &reserved).await, 0, "released after the void");
    stalled.gate.notify_one();
    let reply = placing.await.unwrap();
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::GATEWAY_TIMEOUT, "payment_timeout"),
        "{:?}",
        reply.json
    );
    assert_eq!(count(&state, "SELECT COUNT(*) FROM orders").await, 0);
    assert_eq!(count(&state, &reserved).await, 0);
    assert!(
        stalled.voids.lock().unwrap().len() >= 2,
        "the late authorization is voided too"
    );
    nothing_left_behind(&state).await;
}

#[tokio::test]
async fn the_sweeper_releases_what_a_crashed_process_left_and_voids_its_authorization() {
    use omnicart_server::payment::{Authorize, PaymentProvider};
    use omnicart_server::store::checkout::{self as held, NewAttempt, ORDERED, RESERVED};
    let (app, state) = app_with_catalogue(|j| only_stock(j, SKU, 1)).await;
    let cart = guest_cart(&app, SKU, 1, &[]).await;
    let total = server_total(&app, &cart, None).await;
    // What a process killed after step 1 and the authorization leaves: an attempt past its
    // expiry, holding the unit, and money held under its key.
    let mut tx = state.db.begin_write().await.unwrap();
    let attempt = NewAttempt {
        id: "att_crashed",
        cart_id: &cart,
        customer_id: None,
        provider: "test",
        now: 1,
        expires_at: 2,
    };
    assert!(held::insert_attempt(&mut tx, &attempt).await.unwrap());
    let demand = omnicart_order::StockDemand {
        location: "wh-bad-hersfeld".into(),
        sku: omnicart_engine::Sku::new(SKU).unwrap(),
        quantity: 1,
    };
    assert!(
        held::reserve_all(&mut tx, "att_crashed", &[demand])
            .await
            .unwrap()
            .is_empty()
    );
    tx.commit().await.unwrap();
    let authorize = Authorize {
        key: "att_crashed".into(),
        amount: omnicart_engine::Money::from_minor(100, state.catalogue.snapshot.currency()),
        token: test_cards::SUCCESS.into(),
    };
    state.payments.test.authorize(&authorize).await.unwrap();
    let blocked = checkout(
        &app,
        Some("b"),
        &body(&cart, &total, test_cards::SUCCESS),
        None,
    )
    .await;
    assert_eq!(blocked.code(), "in_progress", "{:?}", blocked.json);
    assert_eq!(
        omnicart_server::service::checkout::sweep(&state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        state.payments.test.state("att_crashed"),
        Some(omnicart_server::payment::Held::Voided)
    );
    let reserved = format!("SELECT reserved FROM stock WHERE sku = '{SKU}'");
    assert_eq!(count(&state, &reserved).await, 0);
    // Its step 3, arriving late, cannot move it to ordered.
    let mut tx = state.db.begin_write().await.unwrap();
    assert!(
        !held::move_attempt(&mut tx, "att_crashed", RESERVED, ORDERED, Some(3))
            .await
            .unwrap()
    );
    drop(tx);
    nothing_left_behind(&state).await;
    let reply = checkout(
        &app,
        Some("c"),
        &body(&cart, &total, test_cards::SUCCESS),
        None,
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "the unit is back: {:?}",
        reply.json
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_budget_is_never_overspent_by_50_concurrent_orders() {
    const CABLE: &str = "CBL-HDMI21-5M";
    let (app, state) = app_with_catalogue(|j| {
        only_stock(j, CABLE, 100);
        for p in j["promotions"].as_array_mut().unwrap() {
            if p["id"] == "cable20" {
                p["budget"] = json!("25.00");
            }
        }
    })
    .await;
    let app = std::sync::Arc::new(app);
    let coupon = json!({"op": "apply_coupon", "code": "CABLE20"});
    let mut bodies = Vec::new();
    for _ in 0..50 {
        let cart = guest_cart(&app, CABLE, 1, std::slice::from_ref(&coupon)).await;
        let total = server_total(&app, &cart, None).await;
        bodies.push((cart.clone(), body(&cart, &total, test_cards::SUCCESS)));
    }
    let tasks = place_at_once(&app, bodies);
    let (mut placed, mut exhausted) = (0, 0);
    for task in tasks {
        let reply = task.await.unwrap();
        match (reply.status, reply.code()) {
            (StatusCode::CREATED, _) => placed += 1,
            // Refused when the budget is spent, or (quoted with what is left) when the
            // smaller discount changes the total the shopper saw.
            (StatusCode::CONFLICT, "promotion_exhausted" | "price_changed") => exhausted += 1,
            (status, code) => panic!("{status} {code}: {:?}", reply.json),
        }
    }
    let spent = count(
        &state,
        "SELECT spent_minor FROM promotion_usage WHERE promotion_id = 'cable20'",
    )
    .await;
    let claimed = count(
        &state,
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM promotion_claims WHERE promotion_id = 'cable20'",
    )
    .await;
    // 20 % of 34.99 is 7.00: three discounts fit in 25.00, a fourth would overspend it.
    assert_eq!((placed, exhausted), (3, 47));
    assert_eq!((spent, claimed), (2100, 2100));
    assert!(spent <= 2500, "spent {spent} of a 2500 budget");
    nothing_left_behind(&state).await;
}

/// Makes every insert into the outbox fail, so step 3 fails after writing the mail.
async fn break_the_outbox(state: &AppState) {
    let statements: &[&str] = if std::env::var("OMNICART_TEST_POSTGRES")
        .is_ok_and(|v| !v.is_empty())
    {
        &[
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse()",
        ]
    } else {
        &[
            "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'refused'); END",
        ]
    };
    for sql in statements {
        sqlx::query(sql).execute(state.db.pool()).await.unwrap();
    }
}

#[tokio::test]
async fn a_placed_order_sends_one_confirmation_with_its_tax_lines_and_a_rolled_back_one_none() {
    use omnicart_server::service::mail::{Mailer, deliver_pending};
    let (app, state) = app_with_catalogue(|_| {}).await;
    let folder = app.dir.path().join("mail");
    let mailer = Mailer::Folder(folder.clone());
    let cart = guest_cart(&app, SKU, 2, &[]).await;
    let total = server_total(&app, &cart, None).await;
    let reply = checkout(
        &app,
        Some("m"),
        &body(&cart, &total, test_cards::SUCCESS),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    assert_eq!(deliver_pending(&state.db, &mailer).await.unwrap(), 1);
    assert_eq!(
        deliver_pending(&state.db, &mailer).await.unwrap(),
        0,
        "sent once"
    );
    let files = omnicart_server::http::dev_mail::mail_files(&folder).await;
    assert_eq!(files.len(), 1, "{files:?}");
    let mail = std::fs::read_to_string(folder.join(&files[0])).unwrap();
    let order = &reply.json["order"];
    let number = order["number"].as_str().unwrap();
    let tax = order["totals"]["tax_total"]["amount"].as_str().unwrap();
    assert!(
        mail.contains(&format!("Subject: Your order {number}")),
        "{mail}"
    );
    assert!(mail.contains("To: shopper@example.com"), "{mail}");
    // One rate (19 % German VAT on a sound bar): its line is the whole tax, as in the quote.
    assert!(
        mail.contains(&format!("VAT 19% (included): {tax} EUR")),
        "{mail}"
    );
    assert!(mail.contains(&format!("Tax total: {tax} EUR")), "{mail}");
    assert!(mail.contains("Content-Type: text/html"), "{mail}");
    assert!(mail.contains("Invalidenstr. 1"), "{mail}");
    let pages = TestApp {
        router: omnicart_server::http::dev_mail::router(folder.clone()),
        dir: tempfile::tempdir().unwrap(),
    };
    let listed = pages.get("/dev/mail", None).await;
    assert!(
        listed.json.as_str().unwrap().contains(&files[0]),
        "{:?}",
        listed.json
    );
    let shown = pages.get(&format!("/dev/mail/{}", files[0]), None).await;
    assert!(shown.json.as_str().unwrap().contains(number));
    let outside = pages.get("/dev/mail/..%2Fcatalogue.json", None).await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);

    break_the_outbox(&state).await;
    let cart = guest_cart(&app, SKU, 1, &[]).await;
    let total = server_total(&app, &cart, None).await;
    let reply = checkout(
        &app,
        Some("r"),
        &body(&cart, &total, test_cards::SUCCESS),
        None,
    )
    .await;
    assert!(reply.status.is_server_error(), "{:?}", reply.json);
    assert_eq!(count(&state, "SELECT COUNT(*) FROM mail_outbox").await, 1);
    assert_eq!(deliver_pending(&state.db, &mailer).await.unwrap(), 0);
    assert_eq!(
        omnicart_server::http::dev_mail::mail_files(&folder)
            .await
            .len(),
        1
    );
}

/// The cart's view is priced as placement prices it: a cart whose best offers change once the
/// delivery charge is known (here a not-combinable offer loses to the gift, the spend tier and
/// free delivery) shows the total placement charges, so a shopper or a frontend team paying
/// the view's total is not refused `price_changed`. (The checkout load benchmark found it.)
#[tokio::test]
async fn the_cart_views_total_is_the_total_placement_charges() {
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let mut ops: Vec<Value> = [
        "NRD-LED-50",
        "CBL-HDMI21-2M",
        "SON-BEAM-30",
        "XBX-SERIES-X",
        "CBL-HDMI21-5M",
    ]
    .iter()
    .map(|sku| json!({"op": "add", "sku": sku, "quantity": 1}))
    .collect();
    ops.push(json!({"op": "set_address", "address": {"postcode": "10115"}}));
    ops.push(json!({"op": "choose_delivery", "level": "standard"}));
    let view = app.edit_now(&cart, &json!(ops), None).await;
    let quote = &view["quote"];
    assert!(
        quote["delivery"].is_object(),
        "the view has the delivery: {quote}"
    );
    let applied: Vec<&str> = quote["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["promotion_id"].as_str().unwrap())
        .collect();
    assert!(applied.contains(&"free-delivery-99"), "{applied:?}");
    let placed = app
        .checkout(
            "view-total",
            &common::checkout_body(&cart, &quote["total"], test_cards::SUCCESS),
            None,
        )
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    assert_eq!(placed.json["order"]["totals"]["total"], quote["total"]);
}

/// Carts sharing several stock records, placed at once: every one is placed (no deadlock on
/// PostgreSQL, where the records are locked in one order; no lost update anywhere) and each
/// record's reserved count is exactly the units ordered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_placements_sharing_records_all_succeed_and_count_exactly() {
    const SHARED: [&str; 4] = [
        "CBL-HDMI21-1M",
        "CBL-HDMI21-2M",
        "CBL-HDMI21-5M",
        "CBL-OPT-15",
    ];
    let (app, state) = app_with_catalogue(|j| {
        for sku in SHARED {
            only_stock(j, sku, 1000);
        }
    })
    .await;
    let app = std::sync::Arc::new(app);
    let mut bodies = Vec::new();
    for i in 0..40 {
        // Each cart adds the shared SKUs in its own order.
        let mut skus = SHARED.to_vec();
        skus.rotate_left(i % SHARED.len());
        let extra: Vec<Value> = skus[1..]
            .iter()
            .map(|sku| json!({"op": "add", "sku": sku, "quantity": 1}))
            .collect();
        let cart = guest_cart(&app, skus[0], 1, &extra).await;
        let total = server_total(&app, &cart, None).await;
        bodies.push((cart.clone(), body(&cart, &total, test_cards::SUCCESS)));
    }
    let tasks = place_at_once(&app, bodies);
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    }
    for sku in SHARED {
        let reserved = format!("SELECT reserved FROM stock WHERE sku = '{sku}'");
        assert_eq!(count(&state, &reserved).await, 40, "{sku}");
    }
    nothing_left_behind(&state).await;
}
