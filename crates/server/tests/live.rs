//! Live cart updates (`GET /api/carts/{id}/events`) and cross-origin use (CORS): a stream
//! hears an edit made through another connection, resumes after `Last-Event-ID`, is
//! another customer's 404, is limited, is never compressed, and reaches across two
//! databases handles on one PostgreSQL (LISTEN/NOTIFY); a listed origin's preflight is
//! allowed, an unlisted one gets no `Access-Control-Allow-Origin`.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{KYLIE, MIKE, TestApp};
use http_body_util::BodyExt;
use omnicart_api::code;
use omnicart_server::catalogue::Catalogue;
use omnicart_server::{AppState, app, seed_demo_customers};
use tower::ServiceExt;

const ADD_CABLE: &str = r#"[{"op":"add","sku":"CBL-HDMI21-2M","quantity":1}]"#;
/// A bound on waiting for an event that should come, so that a failure fails, not hangs.
const PATIENCE: Duration = Duration::from_secs(20);

/// An open event stream's body, read event by event.
struct Events {
    body: Body,
    buffer: String,
}

impl Events {
    /// The next event's id (a cart version), skipping keep-alive comments.
    async fn next_version(&mut self) -> i64 {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                if let Some(id) = event.lines().find_map(|l| l.strip_prefix("id: ")) {
                    assert!(event.contains("event: cart"), "{event}");
                    assert!(
                        event.contains(&format!("data: {{\"version\":{id}}}")),
                        "{event}"
                    );
                    return id.parse().unwrap();
                }
                continue;
            }
            let frame = tokio::time::timeout(PATIENCE, self.body.frame())
                .await
                .expect("an event in time")
                .expect("the stream goes on")
                .unwrap();
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    }
}

/// Opens `cart`'s stream with `headers`; the answer's status and headers, and its events
/// when it is 200 (else the error body).
async fn open(
    router: &axum::Router,
    cart: &str,
    headers: &[(&str, &str)],
) -> Result<(axum::http::HeaderMap, Events), (StatusCode, serde_json::Value)> {
    let mut request = Request::get(format!("/api/carts/{cart}/events"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body();
    if status != StatusCode::OK {
        let bytes = body.collect().await.unwrap().to_bytes();
        return Err((status, serde_json::from_slice(&bytes).unwrap()));
    }
    let events = Events {
        body,
        buffer: String::new(),
    };
    Ok((headers, events))
}

async fn state_and_app() -> (TestApp, AppState) {
    let dir = tempfile::tempdir().unwrap();
    let state = common::state(&dir).await;
    let router = app(state.clone(), None);
    (TestApp { router, dir }, state)
}

#[tokio::test]
async fn a_stream_hears_an_edit_made_through_another_connection() {
    let (app, state) = state_and_app().await;
    let cart = app.anonymous_cart().await;
    let (headers, mut events) = open(&app.router, &cart, &[]).await.unwrap();
    assert_eq!(headers[header::CONTENT_TYPE], "text/event-stream");
    assert_eq!(events.next_version().await, 1, "the current version first");
    assert_eq!(state.db.changes().watched(), 1);
    let edited = app.edit(&cart, 1, ADD_CABLE, None).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.json);
    assert_eq!(events.next_version().await, 2);
    let edited = app.edit(&cart, 2, ADD_CABLE, None).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.json);
    assert_eq!(events.next_version().await, 3);
    drop(events);
    assert_eq!(
        state.db.changes().watched(),
        0,
        "a closed tab leaves nothing"
    );
}

#[tokio::test]
async fn a_stream_resumed_with_last_event_id_gets_the_change_it_missed() {
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let (_, mut events) = open(&app.router, &cart, &[]).await.unwrap();
    assert_eq!(events.next_version().await, 1);
    drop(events);
    // Edited while the tab was away.
    assert_eq!(
        app.edit(&cart, 1, ADD_CABLE, None).await.status,
        StatusCode::OK
    );
    let (_, mut resumed) = open(&app.router, &cart, &[("last-event-id", "1")])
        .await
        .unwrap();
    assert_eq!(resumed.next_version().await, 2, "the missed change at once");
    // Up to date: nothing until the next change, and then that one.
    let (_, mut current) = open(&app.router, &cart, &[("last-event-id", "2")])
        .await
        .unwrap();
    assert_eq!(
        app.edit(&cart, 2, ADD_CABLE, None).await.status,
        StatusCode::OK
    );
    assert_eq!(current.next_version().await, 3);
    assert_eq!(resumed.next_version().await, 3);
}

#[tokio::test]
async fn another_customers_cart_stream_is_not_found() {
    let app = TestApp::new().await;
    let (mike, mike_cart) = app.sign_in(MIKE).await;
    let (kylie, _) = app.sign_in(KYLIE).await;
    assert!(
        open(&app.router, &mike_cart, &[("cookie", &mike)])
            .await
            .is_ok()
    );
    for cookie in [Some(kylie.as_str()), None] {
        let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("cookie", *c)).collect();
        let (status, body) = open(&app.router, &mike_cart, &headers).await.err().unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], code::NOT_FOUND);
    }
    let (status, _) = open(&app.router, "cart_nosuch", &[]).await.err().unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn streams_past_the_limit_are_refused_until_one_closes() {
    let dir = tempfile::tempdir().unwrap();
    let state = common::state(&dir).await.with_max_streams(2);
    let app = TestApp {
        router: app(state, None),
        dir,
    };
    let cart = app.anonymous_cart().await;
    let first = open(&app.router, &cart, &[]).await.unwrap();
    let _second = open(&app.router, &cart, &[]).await.unwrap();
    let (status, body) = open(&app.router, &cart, &[]).await.err().unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"]["code"], code::TOO_MANY_STREAMS);
    drop(first);
    assert!(
        open(&app.router, &cart, &[]).await.is_ok(),
        "a closed stream's place"
    );
}

#[tokio::test]
async fn the_event_stream_is_not_compressed() {
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let accept = [("accept-encoding", "br, gzip")];
    let (headers, mut events) = open(&app.router, &cart, &accept).await.unwrap();
    assert!(
        headers.get(header::CONTENT_ENCODING).is_none(),
        "{headers:?}"
    );
    assert_eq!(headers[header::CONTENT_TYPE], "text/event-stream");
    assert_eq!(events.next_version().await, 1, "plain text, at once");
    // The same client's JSON answers are compressed: the layer is there.
    let request = Request::get(format!("/api/carts/{cart}"))
        .header("accept-encoding", "gzip")
        .body(Body::empty())
        .unwrap();
    let reply = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(reply.headers()[header::CONTENT_ENCODING], "gzip");
}

/// Two handles on one PostgreSQL database, each with its own feed and listener, as two
/// server processes have: an edit through B reaches a stream on A.
#[tokio::test]
async fn an_edit_through_one_database_handle_reaches_a_stream_on_another() {
    if !common::on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(&dir).await;
    let catalogue = || Catalogue::load(common::DEMO_CATALOGUE.as_ref()).unwrap();
    let db_a = omnicart_server::store::Db::connect(&url).await.unwrap();
    seed_demo_customers(&db_a).await.unwrap();
    let db_b = omnicart_server::store::Db::connect(&url).await.unwrap();
    let a = app(AppState::new(db_a, catalogue()).unwrap(), None);
    let b = TestApp {
        router: app(AppState::new(db_b, catalogue()).unwrap(), None),
        dir,
    };
    let cart = b.anonymous_cart().await;
    let (_, mut events) = open(&a, &cart, &[]).await.unwrap();
    assert_eq!(events.next_version().await, 1);
    // The listener on A may still be starting: edit until A hears one (each edit raises the
    // version; the event is the newest version A heard).
    let mut version = 1;
    let heard = loop {
        let edited = b.edit(&cart, version, ADD_CABLE, None).await;
        assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.json);
        version += 1;
        let next = tokio::time::timeout(Duration::from_secs(2), events.next_version()).await;
        if let Ok(heard) = next {
            break heard;
        }
        assert!(version < 10, "A never heard B's edits");
    };
    assert!(heard >= 2 && heard <= version, "{heard}");
}

#[tokio::test]
async fn a_listed_origin_may_call_the_api_and_an_unlisted_one_gets_no_cors_headers() {
    let dir = tempfile::tempdir().unwrap();
    let origins = ["http://127.0.0.1:5173".to_owned()];
    let state = common::state(&dir).await.with_cors_origins(&origins);
    let router = app(state, None);
    let preflight = |origin: &str| {
        Request::options("/api/carts")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .body(Body::empty())
            .unwrap()
    };
    let allowed = router
        .clone()
        .oneshot(preflight(&origins[0]))
        .await
        .unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(headers["access-control-allow-origin"], origins[0]);
    let allowed_headers = headers["access-control-allow-headers"].to_str().unwrap();
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );
    let refused = router
        .clone()
        .oneshot(preflight("http://evil.example"))
        .await
        .unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let snapshot = |origin: &str| {
        Request::get("/api/snapshot")
            .header("origin", origin)
            .body(Body::empty())
            .unwrap()
    };
    let read = router.clone().oneshot(snapshot(&origins[0])).await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.headers()["access-control-allow-origin"], origins[0]);
    let other = router
        .clone()
        .oneshot(snapshot("http://evil.example"))
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

async fn with_bearer(
    app: &TestApp,
    method: &str,
    uri: &str,
    token: &str,
    body: &str,
) -> common::Reply {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.raw(request).await
}

#[tokio::test]
async fn a_bearer_token_works_for_the_cart_api_without_a_cookie_until_revoked() {
    let app = TestApp::new().await;
    let credentials = serde_json::json!({"email": MIKE.0, "password": MIKE.1}).to_string();
    let issued = app.post("/api/auth/token", &credentials, None).await;
    assert_eq!(issued.status, StatusCode::OK, "{:?}", issued.json);
    assert!(
        issued.headers.get(header::SET_COOKIE).is_none(),
        "a token, not a cookie"
    );
    let token = issued.json["token"].as_str().unwrap().to_owned();
    let cart = issued.json["cart_id"].as_str().unwrap().to_owned();
    // Mike's cart is 404 without him, and his with the token alone.
    assert_eq!(
        app.get(&format!("/api/carts/{cart}"), None).await.status,
        StatusCode::NOT_FOUND
    );
    let read = with_bearer(&app, "GET", &format!("/api/carts/{cart}"), &token, "").await;
    assert_eq!(read.status, StatusCode::OK, "{:?}", read.json);
    let version = read.json["version"].as_i64().unwrap();
    let body = format!(r#"{{"version":{version},"ops":{ADD_CABLE}}}"#);
    let edited = with_bearer(
        &app,
        "POST",
        &format!("/api/carts/{cart}/ops"),
        &token,
        &body,
    )
    .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.json);
    let me = with_bearer(&app, "GET", "/api/me", &token, "").await;
    assert_eq!(me.json["customer"]["email"], MIKE.0);
    // Signed out with the token: refused from then on.
    let out = with_bearer(&app, "POST", "/api/auth/sign-out", &token, "").await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = with_bearer(&app, "GET", &format!("/api/carts/{cart}"), &token, "").await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.code(), code::INVALID_TOKEN);
    let made_up = with_bearer(&app, "GET", "/api/me", "tok_nosuch", "").await;
    assert_eq!(made_up.code(), code::INVALID_TOKEN);
}

#[tokio::test]
async fn a_sessions_token_goes_with_the_session_and_an_expired_one_is_refused() {
    let (app, db) = TestApp::with_database().await;
    let (cookie, cart) = app.sign_in(MIKE).await;
    let issued = app.post("/api/auth/token", "{}", Some(&cookie)).await;
    assert_eq!(issued.status, StatusCode::OK, "{:?}", issued.json);
    let token = issued.json["token"].as_str().unwrap().to_owned();
    let read = with_bearer(&app, "GET", &format!("/api/carts/{cart}"), &token, "").await;
    assert_eq!(read.status, StatusCode::OK);
    // Expired: its row's time is up.
    let second = app.post("/api/auth/token", "{}", Some(&cookie)).await;
    let expired = second.json["token"].as_str().unwrap().to_owned();
    sqlx::query("UPDATE bearer_tokens SET expires_at = 0 WHERE token_hash = $1")
        .bind(omnicart_server::ids::sha256_hex(expired.as_bytes()))
        .execute(db.pool())
        .await
        .unwrap();
    let refused = with_bearer(&app, "GET", &format!("/api/carts/{cart}"), &expired, "").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), code::INVALID_TOKEN);
    // The cookie's sign-out revokes the session's tokens.
    let out = app.post("/api/auth/sign-out", "", Some(&cookie)).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let revoked = with_bearer(&app, "GET", &format!("/api/carts/{cart}"), &token, "").await;
    assert_eq!(revoked.code(), code::INVALID_TOKEN);
}

#[tokio::test]
async fn a_guest_carts_token_opens_an_anonymous_cart_only() {
    let app = TestApp::new().await;
    let guest = app.anonymous_cart().await;
    let body = format!(r#"{{"cart_id":"{guest}"}}"#);
    let issued = app.post("/api/auth/token", &body, None).await;
    assert_eq!(issued.status, StatusCode::OK, "{:?}", issued.json);
    assert_eq!(issued.json["cart_id"], guest.as_str());
    let token = issued.json["token"].as_str().unwrap().to_owned();
    let edit = format!(r#"{{"version":1,"ops":{ADD_CABLE}}}"#);
    let edited = with_bearer(
        &app,
        "POST",
        &format!("/api/carts/{guest}/ops"),
        &token,
        &edit,
    )
    .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.json);
    let (_, mike_cart) = app.sign_in(MIKE).await;
    let body = format!(r#"{{"cart_id":"{mike_cart}"}}"#);
    let refused = app.post("/api/auth/token", &body, None).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let nothing = app.post("/api/auth/token", "{}", None).await;
    assert_eq!(nothing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(nothing.code(), code::NOT_SIGNED_IN);
}
