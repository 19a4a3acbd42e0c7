//! Accounts: sign-up, and what becomes of the guest's cart when the shopper signs in (the
//! three strategies), on a real database (SQLite, or PostgreSQL with OMNICART_TEST_POSTGRES).

mod common;

use axum::http::{StatusCode, header};
use common::{KYLIE, MIKE, TestApp};
use omnicart_server::service::accounts::CartMerge;
use serde_json::{Value, json};

const TV: &str = "LUM-OLED-C4-55";
const PS5: &str = "PS5-PRO";
const CABLE: &str = "CBL-HDMI21-2M";

fn op(id: &str, device: &str, ms: u64, op: Value) -> Value {
    json!({"id": id, "stamp": {"ms": ms, "counter": 0, "device": device}, "seen": 0, "op": op})
}

async fn push(app: &TestApp, cart: &str, ops: &[Value], cookie: Option<&str>) -> common::Reply {
    let reply = app
        .post(
            &format!("/api/carts/{cart}/sync"),
            &json!({"cursor": 0, "ops": ops}).to_string(),
            cookie,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply
}

/// Lines of a cart as (sku, quantity), sorted.
fn lines(cart: &Value) -> Vec<(String, u64)> {
    let mut lines: Vec<(String, u64)> = cart["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_owned(),
                l["quantity"].as_u64().unwrap(),
            )
        })
        .collect();
    lines.sort();
    lines
}

fn want(lines: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut lines: Vec<(String, u64)> = lines.iter().map(|(s, q)| ((*s).to_owned(), *q)).collect();
    lines.sort();
    lines
}

async fn sign_in_with(
    app: &TestApp,
    (email, password): (&str, &str),
    cart_id: &str,
) -> (String, common::Reply) {
    let body = json!({"email": email, "password": password, "cart_id": cart_id}).to_string();
    let reply = app.post("/api/auth/sign-in", &body, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let cookie = reply.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (cookie, reply)
}

/// Mike's cart holds a TV and a PS5 (edited on his laptop); a guest on his phone has a TV
/// (added later) and a cable. Returns (guest cart id, Mike's cart id).
async fn two_carts(app: &TestApp) -> (String, String) {
    let (laptop, mike_cart) = app.sign_in(MIKE).await;
    push(
        app,
        &mike_cart,
        &[
            op(
                "laptop:1",
                "laptop",
                10,
                json!({"op": "add", "sku": TV, "quantity": 1}),
            ),
            op(
                "laptop:2",
                "laptop",
                11,
                json!({"op": "add", "sku": PS5, "quantity": 1}),
            ),
            op(
                "laptop:3",
                "laptop",
                12,
                json!({"op": "apply_coupon", "code": "WELCOME10"}),
            ),
        ],
        Some(&laptop),
    )
    .await;
    let guest = app.anonymous_cart().await;
    push(
        app,
        &guest,
        &[
            op(
                "phone:1",
                "phone",
                20,
                json!({"op": "add", "sku": TV, "quantity": 1}),
            ),
            op(
                "phone:2",
                "phone",
                21,
                json!({"op": "add", "sku": CABLE, "quantity": 2}),
            ),
        ],
        None,
    )
    .await;
    (guest, mike_cart)
}

async fn cart_of(app: &TestApp, cart: &str, cookie: &str) -> Value {
    let reply = app.get(&format!("/api/carts/{cart}"), Some(cookie)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply.json["cart"].clone()
}

#[tokio::test]
async fn by_default_the_guest_cart_merges_into_the_customers() {
    let app = TestApp::new().await;
    let (guest, mike_cart) = two_carts(&app).await;
    let (cookie, me) = sign_in_with(&app, MIKE, &guest).await;
    assert_eq!(me.json["cart_id"], mike_cart.as_str());
    let cart = cart_of(&app, &mike_cart, &cookie).await;
    // The TV in both stays one TV (rule 1); the cable joins; the customer's coupon stays.
    assert_eq!(lines(&cart), want(&[(TV, 1), (PS5, 1), (CABLE, 2)]));
    assert_eq!(cart["coupons"], json!(["WELCOME10"]));
    assert_eq!(
        app.get(&format!("/api/carts/{guest}"), None).await.status,
        StatusCode::NOT_FOUND,
        "the guest cart is gone"
    );
    // The merged log holds the phone's operations under their own ids: pushing them again
    // (the phone did not hear back) changes nothing.
    let again = push(
        &app,
        &mike_cart,
        &[op(
            "phone:2",
            "phone",
            21,
            json!({"op": "add", "sku": CABLE, "quantity": 2}),
        )],
        Some(&cookie),
    )
    .await;
    assert_eq!(lines(&again.json["cart"]["cart"]), lines(&cart));
}

#[tokio::test]
async fn keep_customer_drops_the_guest_cart() {
    let app = TestApp::with_cart_merge(CartMerge::KeepCustomer).await;
    let (guest, mike_cart) = two_carts(&app).await;
    let (cookie, _) = sign_in_with(&app, MIKE, &guest).await;
    let cart = cart_of(&app, &mike_cart, &cookie).await;
    assert_eq!(lines(&cart), want(&[(TV, 1), (PS5, 1)]));
    assert_eq!(
        app.get(&format!("/api/carts/{guest}"), None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn keep_anonymous_makes_the_customers_cart_the_guests() {
    let app = TestApp::with_cart_merge(CartMerge::KeepAnonymous).await;
    let (guest, mike_cart) = two_carts(&app).await;
    let (cookie, _) = sign_in_with(&app, MIKE, &guest).await;
    let cart = cart_of(&app, &mike_cart, &cookie).await;
    assert_eq!(lines(&cart), want(&[(TV, 1), (CABLE, 2)]));
    assert_eq!(cart["coupons"], json!([]), "the guest had no coupon");
}

#[tokio::test]
async fn a_cart_that_is_not_a_guest_cart_is_never_merged() {
    let app = TestApp::new().await;
    let (guest, mike_cart) = two_carts(&app).await;
    let (mike, _) = app.sign_in(MIKE).await;
    let before = cart_of(&app, &mike_cart, &mike).await;
    // Kylie names Mike's cart as "her guest cart": sign-in works, nothing moves.
    let (kylie, me) = sign_in_with(&app, KYLIE, &mike_cart).await;
    let kylie_cart = me.json["cart_id"].as_str().unwrap().to_owned();
    assert_eq!(lines(&cart_of(&app, &kylie_cart, &kylie).await), want(&[]));
    assert_eq!(cart_of(&app, &mike_cart, &mike).await, before);
    // An unknown id is ignored too, and the real guest cart is still there.
    sign_in_with(&app, KYLIE, "cart_doesnotexist").await;
    assert_eq!(
        app.get(&format!("/api/carts/{guest}"), None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn sign_up_checks_what_it_is_given_and_keeps_the_guest_cart() {
    let app = TestApp::new().await;
    let guest = app.anonymous_cart().await;
    push(
        &app,
        &guest,
        &[op(
            "phone:1",
            "phone",
            1,
            json!({"op": "add", "sku": PS5, "quantity": 1}),
        )],
        None,
    )
    .await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": "long enough", "name": "Ann"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_email",
        ),
        (
            json!({"email": "ann@example", "password": "long enough", "name": "Ann"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_email",
        ),
        (
            json!({"email": "ann@example.com", "password": "short", "name": "Ann"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
        ),
        (
            json!({"email": "ann@example.com", "password": "long enough", "name": "  "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
        ),
        (
            json!({"email": " Mike@Demo.omnicart.dev", "password": "long enough", "name": "Mike 2"}),
            StatusCode::CONFLICT,
            "email_taken",
        ),
        (
            json!({"email": "ann@example.com", "password": "long enough"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
    ];
    for (body, status, code) in cases {
        let reply = app.post("/api/auth/sign-up", &body.to_string(), None).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{body}");
    }
    let body = json!({"email": "Ann@Example.com", "password": "long enough", "name": " Ann ", "cart_id": guest});
    let reply = app.post("/api/auth/sign-up", &body.to_string(), None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(
        (
            reply.json["customer"]["email"].as_str(),
            reply.json["customer"]["name"].as_str()
        ),
        (Some("ann@example.com"), Some("Ann"))
    );
    let cookie = reply.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let cart_id = reply.json["cart_id"].as_str().unwrap();
    assert_eq!(
        lines(&cart_of(&app, cart_id, &cookie).await),
        want(&[(PS5, 1)]),
        "the guest's PS5 came along"
    );
    assert_eq!(
        app.get("/api/me", Some(&cookie)).await.status,
        StatusCode::OK
    );
    // The account works for signing in, and its email is now taken.
    app.sign_in(("ann@example.com", "long enough")).await;
    let again = app
        .post(
            "/api/auth/sign-up",
            &json!({"email": "ann@example.com", "password": "another one", "name": "Ann"})
                .to_string(),
            None,
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "email_taken")
    );
}

#[tokio::test]
async fn guessing_a_password_is_stopped_after_ten_tries() {
    let app = TestApp::new().await;
    let attempt = |password: &str| json!({"email": MIKE.0, "password": password}).to_string();
    for i in 0..omnicart_server::service::accounts::MAX_FAILURES {
        let reply = app
            .post("/api/auth/sign-in", &attempt(&format!("guess {i}")), None)
            .await;
        assert_eq!(reply.code(), "invalid_credentials", "try {i}");
    }
    // Now even the right password waits, and says how long.
    let locked = app.post("/api/auth/sign-in", &attempt(MIKE.1), None).await;
    assert_eq!(
        (locked.status, locked.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
    );
    let retry: i64 = locked.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    // Other accounts are not affected.
    app.sign_in(KYLIE).await;
    // Emails no account can have are turned away before any hashing, and never counted.
    for email in [
        "not an email".to_owned(),
        format!("{}@example.com", "a".repeat(300)),
    ] {
        let reply = app
            .post(
                "/api/auth/sign-in",
                &json!({"email": email, "password": "x"}).to_string(),
                None,
            )
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNAUTHORIZED, "invalid_credentials")
        );
    }
}

#[tokio::test]
async fn a_compacted_guest_cart_joins_with_its_later_edits_still_later() {
    let app = TestApp::new().await;
    let (cookie, mike_cart) = app.sign_in(MIKE).await;
    let guest = app.anonymous_cart().await;
    // The guest adds a TV and a cable, then edits the cable's quantity 300 times: the log is
    // compacted and the TV lives on in its base. Then the guest removes the TV.
    let mut ops = vec![
        op(
            "phone:tv",
            "phone",
            100,
            json!({"op": "add", "sku": TV, "quantity": 1}),
        ),
        op(
            "phone:cable",
            "phone",
            101,
            json!({"op": "add", "sku": CABLE, "quantity": 1}),
        ),
    ];
    ops.extend((0..300u64).map(|i| {
        op(
            &format!("phone:q{i}"),
            "phone",
            102 + i,
            json!({"op": "set_quantity", "sku": CABLE, "quantity": 1 + i % 3}),
        )
    }));
    let (mut cursor, mut generation) = (0, 0);
    for chunk in ops.chunks(100) {
        let reply = app
            .post(
                &format!("/api/carts/{guest}/sync"),
                &json!({"cursor": cursor, "generation": generation, "ops": chunk}).to_string(),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        (cursor, generation) = (
            reply.json["cursor"].as_i64().unwrap(),
            reply.json["generation"].as_i64().unwrap(),
        );
    }
    assert_eq!(generation, 1, "the guest's log was compacted");
    let removed = app
        .post(&format!("/api/carts/{guest}/sync"), &json!({"cursor": cursor, "generation": generation, "ops": [op("phone:rm", "phone", 1_000, json!({"op": "remove", "sku": TV}))]}).to_string(), None)
        .await;
    assert_eq!(
        lines(&removed.json["cart"]["cart"]),
        want(&[(CABLE, 1 + 299 % 3)])
    );
    sign_in_with(&app, MIKE, &guest).await;
    // The base's TV is joined as of before the guest's kept edits: the removal still wins.
    assert_eq!(
        lines(&cart_of(&app, &mike_cart, &cookie).await),
        want(&[(CABLE, 1 + 299 % 3)])
    );
}

#[tokio::test]
async fn an_edit_through_the_api_wins_over_a_device_whose_clock_runs_ahead() {
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // A phone ten minutes fast sets the TV to 3 …
    push(
        &app,
        &cart,
        &[
            op(
                "phone:1",
                "phone",
                now + 600_000,
                json!({"op": "add", "sku": TV, "quantity": 1}),
            ),
            op(
                "phone:2",
                "phone",
                now + 600_001,
                json!({"op": "set_quantity", "sku": TV, "quantity": 3}),
            ),
        ],
        None,
    )
    .await;
    // … then the shopper sets it to 1 through the API: the later edit is the one that counts.
    let version = app.get(&format!("/api/carts/{cart}"), None).await.json["version"]
        .as_i64()
        .unwrap();
    let edited = app
        .edit(
            &cart,
            version,
            &json!([{"op": "set_quantity", "sku": TV, "quantity": 1}]).to_string(),
            None,
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.json);
    assert_eq!(lines(&edited.json["cart"]), want(&[(TV, 1)]));
    // The log says the same to a device replaying it.
    let pulled = app
        .post(
            &format!("/api/carts/{cart}/sync"),
            &json!({"cursor": 0}).to_string(),
            None,
        )
        .await;
    let stamps: Vec<u64> = pulled.json["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["stamp"]["ms"].as_u64().unwrap())
        .collect();
    assert!(
        stamps[2] >= now + 600_001,
        "the server's edit is stamped after the phone's: {stamps:?}"
    );
    assert_eq!(lines(&pulled.json["cart"]["cart"]), want(&[(TV, 1)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_push_racing_the_sign_in_is_either_joined_or_refused_never_lost() {
    use axum::body::Body;
    use axum::http::Request;
    let app = TestApp::new().await;
    let (_, mike_cart) = app.sign_in(MIKE).await;
    for round in 0..4 {
        let guest = app.anonymous_cart().await;
        push(
            &app,
            &guest,
            &[op(
                &format!("phone{round}:0"),
                "phone",
                10,
                json!({"op": "add", "sku": CABLE, "quantity": 1}),
            )],
            None,
        )
        .await;
        let send = |uri: String, body: String| {
            let router = app.router.clone();
            tokio::spawn(async move {
                let request = Request::post(uri)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap();
                common::TestApp {
                    router,
                    dir: tempfile::tempdir().unwrap(),
                }
                .raw(request)
                .await
            })
        };
        let pushes: Vec<_> = (1..=12u64)
            .map(|i| {
                let id = format!("phone{round}:{i}");
                let body = json!({"cursor": 0, "ops": [op(&id, "phone", 10 + i, json!({"op": "set_quantity", "sku": CABLE, "quantity": 1 + i % 4}))]});
                (id, send(format!("/api/carts/{guest}/sync"), body.to_string()))
            })
            .collect();
        let sign_in = send(
            "/api/auth/sign-in".into(),
            json!({"email": MIKE.0, "password": MIKE.1, "cart_id": guest}).to_string(),
        );
        assert_eq!(sign_in.await.unwrap().status, StatusCode::OK);
        let mut accepted = Vec::new();
        for (id, task) in pushes {
            let reply = task.await.unwrap();
            match reply.status {
                StatusCode::OK => accepted.push(id),
                StatusCode::NOT_FOUND => {}
                other => panic!("{other}: {}", reply.json),
            }
        }
        let (cookie, _) = app.sign_in(MIKE).await;
        let log = app
            .post(
                &format!("/api/carts/{mike_cart}/sync"),
                &json!({"cursor": 0}).to_string(),
                Some(&cookie),
            )
            .await;
        let ids: Vec<&str> = log.json["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        for id in &accepted {
            assert!(
                ids.contains(&id.as_str()),
                "round {round}: {id} was accepted by the guest cart but is not in the customer's"
            );
        }
    }
}

#[tokio::test]
async fn session_cookies_are_secure_where_the_shop_says_it_is_served_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = common::state(&dir).await;
    state.secure_cookies = true;
    let app = TestApp {
        router: omnicart_server::app(state, None),
        dir,
    };
    let signed_in = app
        .post(
            "/api/auth/sign-in",
            &json!({"email": MIKE.0, "password": MIKE.1}).to_string(),
            None,
        )
        .await;
    let cookie = signed_in.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap();
    let signed_out = app.post("/api/auth/sign-out", "", Some(session)).await;
    assert!(
        signed_out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
    // By default (plain HTTP on a laptop) the cookie must not be Secure, or the browser drops it.
    let plain = TestApp::new().await;
    let reply = plain
        .post(
            "/api/auth/sign-in",
            &json!({"email": MIKE.0, "password": MIKE.1}).to_string(),
            None,
        )
        .await;
    assert!(
        !reply.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
}
