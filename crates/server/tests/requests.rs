//! Request ids: every response names its request (`x-request-id`), a caller's plain id is
//! kept, and a server failure's body carries the id (and nothing of the failure).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestApp;

fn post_cart(request_id: Option<&str>) -> Request<Body> {
    let mut request = Request::builder().method("POST").uri("/api/carts");
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    request.body(Body::empty()).unwrap()
}

fn request_id(reply: &common::Reply) -> &str {
    reply.headers["x-request-id"].to_str().unwrap()
}

#[tokio::test]
async fn every_response_names_its_request() {
    let app = TestApp::new().await;
    let first = app.raw(post_cart(None)).await;
    let second = app.raw(post_cart(None)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    for reply in [&first, &second] {
        let id = request_id(reply);
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
    }
    assert_ne!(request_id(&first), request_id(&second));
    // A 4xx and the storefront get one too; a 4xx body does not carry it.
    let missing = app.get("/api/nothing-here", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(request_id(&missing).len(), 32);
    assert!(missing.json["error"].get("request_id").is_none());
    assert_eq!(request_id(&app.get("/cart", None).await).len(), 32);
}

#[tokio::test]
async fn a_callers_plain_id_is_kept_and_anything_else_replaced() {
    let app = TestApp::new().await;
    let kept = app.raw(post_cart(Some("edge-7f3a.42_b"))).await;
    assert_eq!(request_id(&kept), "edge-7f3a.42_b");
    for unsafe_id in ["has space", "<script>", &"x".repeat(65)] {
        let replaced = app.raw(post_cart(Some(unsafe_id))).await;
        let id = request_id(&replaced);
        assert!(
            id != unsafe_id && id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{unsafe_id:?} became {id:?}"
        );
    }
}

#[tokio::test]
async fn a_server_failure_says_nothing_but_its_request_id() {
    let (app, db) = TestApp::with_database().await;
    // The database goes away under the running app: every query now fails.
    db.pool().close().await;
    for caller_id in [None, Some("support-ticket-1")] {
        let reply = app.raw(post_cart(caller_id)).await;
        assert_eq!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{}",
            reply.json
        );
        assert_eq!(reply.code(), "internal");
        let header = request_id(&reply);
        if let Some(caller_id) = caller_id {
            assert_eq!(header, caller_id);
        }
        assert_eq!(reply.json["error"]["request_id"], header, "{}", reply.json);
        let message = reply.json["error"]["message"].as_str().unwrap();
        assert_eq!(
            message,
            "something went wrong on our side; please try again"
        );
        assert!(!reply.json.to_string().contains("pool"), "{}", reply.json);
    }
}
