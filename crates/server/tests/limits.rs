//! Rate limits and the sign-in lock through the router, with the client's address as a
//! socket gives it (`ConnectInfo`): a guesser from one address is locked out while the
//! customer from another signs in, floods of sign-ins and cart creations from one address
//! are answered 429 with a whole `Retry-After` in the JSON error shape, and a trusted proxy's
//! `X-Forwarded-For` is believed while anyone else's is not.

mod common;

use std::num::NonZeroU32;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{MIKE, Reply, TestApp};
use omnicart_api::{ErrorBody, code, routes};
use omnicart_server::service::limits::{LimitsConfig, TrustedProxies};
use serde_json::json;

const ATTACKER: &str = "198.51.100.66:40000";
const CUSTOMER: &str = "203.0.113.7:51000";

fn sign_in_body(email: &str, password: &str) -> String {
    json!({"email": email, "password": password}).to_string()
}

/// A 429 as the contract says: the JSON error shape with `code`, and `Retry-After` a whole
/// number of seconds, at least 1.
fn assert_refused_for_a_while(reply: &Reply, expected: &str) -> u64 {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        reply.json
    );
    let body: ErrorBody = serde_json::from_value(reply.json.clone()).expect("the error shape");
    assert_eq!(body.error.code, expected);
    let retry = reply.headers[header::RETRY_AFTER].to_str().unwrap();
    let seconds: u64 = retry.parse().expect("Retry-After in whole seconds");
    assert!(seconds >= 1, "{retry}");
    seconds
}

#[tokio::test]
async fn twelve_wrong_passwords_from_one_address_then_the_right_one_from_another_signs_in() {
    let app = TestApp::new().await;
    // A device signed in before the attack.
    let (cookie, _) = app.sign_in(MIKE).await;
    let mut answers = Vec::new();
    for _ in 0..12 {
        let body = sign_in_body(MIKE.0, "not the password");
        answers.push(app.post_from(ATTACKER, routes::SIGN_IN, &body).await);
    }
    for wrong in &answers[..10] {
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{:?}", wrong.json);
        assert_eq!(wrong.code(), code::INVALID_CREDENTIALS);
    }
    for locked in &answers[10..] {
        let wait = assert_refused_for_a_while(locked, code::TOO_MANY_ATTEMPTS);
        assert!(wait <= 15 * 60, "{wait}");
    }
    // The right password from the guesser's address is locked too.
    let right = sign_in_body(MIKE.0, MIKE.1);
    let from_attacker = app.post_from(ATTACKER, routes::SIGN_IN, &right).await;
    assert_refused_for_a_while(&from_attacker, code::TOO_MANY_ATTEMPTS);
    // The customer, elsewhere, signs in; the device signed in before keeps working.
    let from_customer = app.post_from(CUSTOMER, routes::SIGN_IN, &right).await;
    assert_eq!(
        from_customer.status,
        StatusCode::OK,
        "{:?}",
        from_customer.json
    );
    assert_eq!(from_customer.json["customer"]["email"], MIKE.0);
    let me = app.get(routes::ME, Some(&cookie)).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.json);
}

#[tokio::test]
async fn a_thousand_sign_ins_across_fifty_emails_from_one_address_are_throttled() {
    let app = TestApp::new().await;
    let per_address = LimitsConfig::default().sign_in.get();
    let (mut refused, mut answered) = (0, 0);
    for i in 0..1000 {
        let email = format!("guess{}@example.com", i % 50);
        let reply = app
            .post_from(
                ATTACKER,
                routes::SIGN_IN,
                &sign_in_body(&email, "password1"),
            )
            .await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert_refused_for_a_while(&reply, code::RATE_LIMITED);
            refused += 1;
        } else {
            assert_eq!(reply.code(), code::INVALID_CREDENTIALS, "{:?}", reply.json);
            answered += 1;
        }
    }
    // The burst, and what the limit lets through again while the test runs (one every
    // second at the default limit).
    assert!(answered >= per_address, "{answered} answered");
    assert!(refused >= 1000 - 3 * per_address, "only {refused} refused");
    // Another address is not held back by this one.
    let elsewhere = app
        .post_from(
            CUSTOMER,
            routes::SIGN_IN,
            &sign_in_body("guess1@example.com", "password1"),
        )
        .await;
    assert_eq!(elsewhere.code(), code::INVALID_CREDENTIALS);
}

#[tokio::test]
async fn two_hundred_anonymous_cart_creations_in_a_burst_from_one_address_are_limited() {
    let app = TestApp::new().await;
    let burst = LimitsConfig::default().carts.get();
    let (mut created, mut refused) = (0, 0);
    for _ in 0..200 {
        let reply = app.post_from(ATTACKER, routes::CARTS, "").await;
        match reply.status {
            StatusCode::CREATED => created += 1,
            _ => {
                assert_refused_for_a_while(&reply, code::RATE_LIMITED);
                refused += 1;
            }
        }
    }
    assert!(created >= burst && created < 200, "{created} created");
    assert_eq!(created + refused, 200);
    let elsewhere = app.post_from(CUSTOMER, routes::CARTS, "").await;
    assert_eq!(elsewhere.status, StatusCode::CREATED);
}

fn one_per_minute() -> LimitsConfig {
    let one = NonZeroU32::MIN;
    LimitsConfig {
        carts: one,
        sync: one,
        ..LimitsConfig::default()
    }
}

#[tokio::test]
async fn edits_and_syncs_are_limited_and_a_refused_one_changes_nothing() {
    let app = TestApp::with_state(|s| s.with_limits(one_per_minute())).await;
    let created = app.post_from(CUSTOMER, routes::CARTS, "").await;
    let cart = created.json["id"].as_str().unwrap().to_owned();
    let ops = json!({"version": 1, "ops": [{"op": "add", "sku": "SON-BEAM-30", "quantity": 1}]});
    let path = routes::with_id(routes::CART_OPS, &cart);
    let first = app.post_from(CUSTOMER, &path, &ops.to_string()).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    let again = json!({"version": 2, "ops": [{"op": "add", "sku": "SON-BEAM-30", "quantity": 2}]});
    let second = app.post_from(CUSTOMER, &path, &again.to_string()).await;
    assert_refused_for_a_while(&second, code::RATE_LIMITED);
    let sync = routes::with_id(routes::CART_SYNC, &cart);
    let pulled = app.post_from(CUSTOMER, &sync, r#"{"cursor":0}"#).await;
    assert_refused_for_a_while(&pulled, code::RATE_LIMITED);
    let stored = app.get(&routes::with_id(routes::CART, &cart), None).await;
    assert_eq!(stored.json["version"], 2);
    assert_eq!(stored.json["cart"]["lines"][0]["quantity"], 1);
}

async fn create_via(app: &TestApp, peer: &str, forwarded: &str) -> StatusCode {
    let request = Request::builder()
        .method("POST")
        .uri(routes::CARTS)
        .header("x-forwarded-for", forwarded)
        .body(Body::empty())
        .unwrap();
    app.raw(common::from_peer(request, peer)).await.status
}

#[tokio::test]
async fn forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
    let app = TestApp::with_state(|s| {
        s.with_limits(one_per_minute())
            .with_trusted_proxies(proxies)
    })
    .await;
    // Two shoppers behind the shop's proxy: one cart each.
    assert_eq!(
        create_via(&app, "10.0.0.2:1", "198.51.100.1").await,
        StatusCode::CREATED
    );
    assert_eq!(
        create_via(&app, "10.0.0.2:2", "198.51.100.2").await,
        StatusCode::CREATED
    );
    assert_eq!(
        create_via(&app, "10.0.0.3:3", "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A client that is not a proxy cannot pretend to be others.
    assert_eq!(
        create_via(&app, "203.0.113.9:4", "198.51.100.3").await,
        StatusCode::CREATED
    );
    assert_eq!(
        create_via(&app, "203.0.113.9:5", "198.51.100.4").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_guesses_from_one_address_verify_at_most_ten_passwords() {
    use tower::ServiceExt;
    let app = TestApp::new().await;
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let router = app.router.clone();
            let request = Request::builder()
                .method("POST")
                .uri(routes::SIGN_IN)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(sign_in_body(MIKE.0, "not the password")))
                .unwrap();
            let request = common::from_peer(request, ATTACKER);
            tokio::spawn(async move { router.oneshot(request).await.unwrap().status() })
        })
        .collect();
    let mut by_status = std::collections::BTreeMap::<u16, u32>::new();
    for task in tasks {
        *by_status.entry(task.await.unwrap().as_u16()).or_default() += 1;
    }
    assert_eq!(by_status, [(401, 10), (429, 20)].into_iter().collect());
}
