//! The HTTP API against a real SQLite database, through the real router.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{KYLIE, MIKE, TestApp};
use serde_json::Value;

const TV: &str = "LUM-OLED-C4-55"; // 1399.00
const CABLE: &str = "CBL-HDMI21-2M"; // 19.99

#[tokio::test]
async fn snapshot_is_served_with_an_etag_and_revalidates() {
    let app = TestApp::new().await;
    let first = app.get("/api/snapshot", None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.json["currency"], "EUR");
    assert!(first.json["products"].as_array().unwrap().len() >= 10);
    let etag = first.headers[header::ETAG].to_str().unwrap().to_owned();
    let request = Request::get("/api/snapshot")
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .unwrap();
    let again = app.raw(request).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let other = Request::get("/api/snapshot")
        .header(header::IF_NONE_MATCH, "\"old\"")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.raw(other).await.status, StatusCode::OK);
}

#[tokio::test]
async fn anonymous_cart_is_edited_and_priced_by_the_engine() {
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let ops = format!(
        r#"[{{"op":"add","sku":"{TV}","quantity":1}},{{"op":"add","sku":"{CABLE}","quantity":2}}]"#
    );
    let reply = app.edit(&cart, 1, &ops, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["version"], 2);
    // 1399.00 + 2 × 19.99, less "spend €500 save €25"; the server quotes with the same engine.
    assert_eq!(reply.json["quote"]["total"]["amount"], "1413.98");
    let replace = format!(r#"[{{"op":"replace","sku":"{TV}","with":"LUM-OLED-C4-65"}}]"#);
    let reply = app.edit(&cart, 2, &replace, None).await;
    assert_eq!(reply.json["cart"]["lines"][0]["sku"], "LUM-OLED-C4-65");
    assert_eq!(
        reply.json["quote"]["total"]["amount"], "1938.98",
        "the €1,500 tier: save €100"
    );
    let read = app.get(&format!("/api/carts/{cart}"), None).await;
    assert_eq!(read.json["version"], 3);
    assert_eq!(read.json["cart"], reply.json["cart"]);
}

/// Every kind of bad edit gets a clear 4xx with a code, and the stored cart is unchanged.
#[tokio::test]
async fn bad_edits_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let ok = app
        .edit(
            &cart,
            1,
            &format!(r#"[{{"op":"add","sku":"{TV}","quantity":1}}]"#),
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let before = app.get(&format!("/api/carts/{cart}"), None).await.json;

    let huge_body = format!(
        r#"{{"version":2,"ops":[{{"op":"add","sku":"{}","quantity":1}}]}}"#,
        "X".repeat(70_000)
    );
    let many_ops = format!(
        "[{}]",
        vec![format!(r#"{{"op":"add","sku":"{CABLE}","quantity":1}}"#); 101].join(",")
    );
    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        (
            "unknown SKU",
            edit(2, r#"[{"op":"add","sku":"NO-SUCH-SKU","quantity":1}]"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_sku",
        ),
        (
            "quantity 0",
            edit(
                2,
                &format!(r#"[{{"op":"add","sku":"{CABLE}","quantity":0}}]"#),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "quantity 10^9",
            edit(
                2,
                &format!(r#"[{{"op":"add","sku":"{CABLE}","quantity":1000000000}}]"#),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "negative quantity",
            edit(
                2,
                &format!(r#"[{{"op":"set_quantity","sku":"{TV}","quantity":-2}}]"#),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "over the line limit",
            edit(
                2,
                &format!(r#"[{{"op":"add","sku":"{TV}","quantity":999}}]"#),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "quantity_limit",
        ),
        (
            "malformed JSON",
            r#"{"version":2,"ops":[{"op":"add""#.to_owned(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "unknown op",
            edit(2, r#"[{"op":"explode"}]"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "stale version",
            edit(
                1,
                &format!(r#"[{{"op":"add","sku":"{CABLE}","quantity":1}}]"#),
            ),
            StatusCode::CONFLICT,
            "stale_version",
        ),
        (
            "oversized body",
            huge_body,
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "no ops",
            edit(2, "[]"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_ops_count",
        ),
        (
            "too many ops",
            edit(2, &many_ops),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_ops_count",
        ),
        (
            "second op fails: nothing applies",
            edit(
                2,
                &format!(
                    r#"[{{"op":"add","sku":"{CABLE}","quantity":1}},{{"op":"remove","sku":"NOT-THERE"}}]"#
                ),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_in_cart",
        ),
    ];
    for (name, body, status, code) in cases {
        let reply = app
            .post(&format!("/api/carts/{cart}/ops"), &body, None)
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{name}: {:?}",
            reply.json
        );
        assert!(
            !reply.json["error"]["message"].as_str().unwrap().is_empty(),
            "{name}: message"
        );
        let after = app.get(&format!("/api/carts/{cart}"), None).await.json;
        assert_eq!(after, before, "{name}: the stored cart changed");
    }

    let stale = app
        .edit(
            &cart,
            1,
            &format!(r#"[{{"op":"remove","sku":"{TV}"}}]"#),
            None,
        )
        .await;
    assert_eq!(
        stale.json["error"]["current"]["version"], 2,
        "a stale write returns the current cart"
    );
    assert_eq!(stale.json["error"]["current"]["cart"], before["cart"]);

    let request = Request::post(format!("/api/carts/{cart}/ops"))
        .body(Body::from(edit(2, "[]")))
        .unwrap();
    let reply = app.raw(request).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
}

fn edit(version: i64, ops: &str) -> String {
    format!(r#"{{"version":{version},"ops":{ops}}}"#)
}

#[tokio::test]
async fn two_devices_of_one_customer_share_one_cart() {
    let app = TestApp::new().await;
    let (phone, cart_a) = app.sign_in(MIKE).await;
    let (laptop, cart_b) = app.sign_in(MIKE).await;
    assert_ne!(phone, laptop, "each device has its own session");
    assert_eq!(cart_a, cart_b, "one customer, one cart");
    let added = app
        .edit(
            &cart_a,
            1,
            &format!(r#"[{{"op":"add","sku":"{TV}","quantity":1}}]"#),
            Some(&phone),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK);
    let seen = app
        .get(&format!("/api/carts/{cart_b}"), Some(&laptop))
        .await;
    assert_eq!(seen.json["quote"]["total"]["amount"], "1374.00");
    let me = app.get("/api/me", Some(&laptop)).await;
    assert_eq!(me.json["customer"]["email"], MIKE.0);
    assert_eq!(me.json["segments"], serde_json::json!([]));
    let (kylie, kylie_cart) = app.sign_in(KYLIE).await;
    assert_eq!(
        app.get("/api/me", Some(&kylie)).await.json["segments"],
        serde_json::json!(["vip"])
    );
    // The server quotes with the caller's segments, as the page does: members save 5%.
    let vip = app
        .edit(
            &kylie_cart,
            1,
            r#"[{"op":"add","sku":"NRD-LED-43","quantity":1}]"#,
            Some(&kylie),
        )
        .await;
    assert_eq!(
        vip.json["quote"]["total"]["amount"], "360.05",
        "379.00 less 5% (18.95)"
    );
    assert_eq!(me.json["cart_id"], cart_a.as_str());
    let created = app.post("/api/carts", "", Some(&laptop)).await;
    assert_eq!(
        created.json["id"],
        cart_a.as_str(),
        "a signed-in customer's POST /carts is their cart"
    );
}

#[tokio::test]
async fn nobody_reads_or_edits_another_customers_cart() {
    let app = TestApp::new().await;
    let (mike, mike_cart) = app.sign_in(MIKE).await;
    let (kylie, _) = app.sign_in(KYLIE).await;
    let add = format!(r#"[{{"op":"add","sku":"{TV}","quantity":1}}]"#);
    for cookie in [Some(kylie.as_str()), None, Some("omnicart_session=forged")] {
        let read = app.get(&format!("/api/carts/{mike_cart}"), cookie).await;
        assert_eq!(
            (read.status, read.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{cookie:?}"
        );
        let write = app.edit(&mike_cart, 1, &add, cookie).await;
        assert_eq!(write.status, StatusCode::NOT_FOUND, "{cookie:?}");
    }
    let mine = app
        .get(&format!("/api/carts/{mike_cart}"), Some(&mike))
        .await;
    assert_eq!(
        mine.json["version"], 1,
        "the foreign writes changed nothing"
    );
    let missing = app.get("/api/carts/cart_doesnotexist", Some(&mike)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sign_in_and_out() {
    let app = TestApp::new().await;
    let wrong = app
        .post(
            "/api/auth/sign-in",
            &format!(r#"{{"email":"{}","password":"nope"}}"#, MIKE.0),
            None,
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    let nobody = app
        .post(
            "/api/auth/sign-in",
            r#"{"email":"who@example.com","password":"x"}"#,
            None,
        )
        .await;
    assert_eq!(
        (nobody.status, nobody.code()),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    assert_eq!(app.get("/api/me", None).await.code(), "not_signed_in");

    let (cookie, _) = app.sign_in(("  MIKE@demo.omnicart.dev ", MIKE.1)).await;
    assert_eq!(
        app.get("/api/me", Some(&cookie)).await.status,
        StatusCode::OK
    );
    let out = app.post("/api/auth/sign-out", "", Some(&cookie)).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        app.get("/api/me", Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED,
        "the session is gone"
    );
}

#[tokio::test]
async fn racing_writers_from_one_version_exactly_one_wins() {
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let ops: Vec<String> = (0..8)
        .map(|i| format!(r#"[{{"op":"add","sku":"{CABLE}","quantity":{}}}]"#, i + 1))
        .collect();
    let replies = futures_join(&app, &cart, &ops).await;
    let won: Vec<&Value> = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .map(|r| &r.json)
        .collect();
    let lost = replies
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .count();
    assert_eq!((won.len(), lost), (1, 7));
    let stored = app.get(&format!("/api/carts/{cart}"), None).await.json;
    assert_eq!(stored["cart"], won[0]["cart"]);
    assert_eq!(stored["version"], 2);
}

async fn futures_join(app: &TestApp, cart: &str, ops: &[String]) -> Vec<common::Reply> {
    let tasks: Vec<_> = ops
        .iter()
        .map(|o| {
            let router = app.router.clone();
            let body = edit(1, o);
            let uri = format!("/api/carts/{cart}/ops");
            tokio::spawn(async move {
                let request = Request::post(uri)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap();
                let app = TestApp {
                    router,
                    dir: tempfile::tempdir().unwrap(),
                };
                app.raw(request).await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.unwrap());
    }
    replies
}

#[tokio::test]
async fn unknown_api_paths_are_json_404_and_pages_get_the_storefront() {
    let app = TestApp::new().await;
    let api = app.get("/api/nope", None).await;
    assert_eq!(
        (api.status, api.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let page = app.get("/product/lumina-oled-c4", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.json
            .as_str()
            .unwrap()
            .contains("<title>omnicart</title>")
    );
}
