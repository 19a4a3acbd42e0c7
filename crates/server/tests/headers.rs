//! The headers a security review expects, on the page, an asset and the API; a method a
//! route does not take gets the JSON error shape with `Allow`.

mod common;

use axum::http::StatusCode;
use base64::Engine;
use common::{MIKE, TestApp};
use sha2::{Digest, Sha256};

/// What Trunk writes: a stylesheet link and the inline module that loads the Wasm.
const LOADER: &str =
    "\nimport init from '/app-1.js';\nawait init({ module_or_path: '/app-1_bg.wasm' });\n";

async fn shop() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let state = common::state(&dir).await;
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    let index = format!(
        "<!doctype html><head><link rel=\"stylesheet\" href=\"/style.css\"/>\
         <script type=\"module\">{LOADER}</script></head><body></body>"
    );
    std::fs::write(dist.join("index.html"), index).unwrap();
    std::fs::write(dist.join("app-1.js"), "export default function init() {}").unwrap();
    TestApp {
        router: omnicart_server::app(state, Some(&dist)),
        dir,
    }
}

fn header<'a>(reply: &'a common::Reply, name: &str) -> &'a str {
    reply
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = shop().await;
    let (cookie, cart) = app.sign_in(MIKE).await;
    let anonymous = app.anonymous_cart().await;
    let answers = [
        ("/", app.get("/", None).await),
        (
            "/product/x (a client route)",
            app.get("/product/x", None).await,
        ),
        ("/app-1.js", app.get("/app-1.js", None).await),
        ("/api/snapshot", app.get("/api/snapshot", None).await),
        ("/api/me", app.get("/api/me", Some(&cookie)).await),
        (
            "own cart",
            app.get(&format!("/api/carts/{cart}"), Some(&cookie)).await,
        ),
        (
            "anonymous cart",
            app.get(&format!("/api/carts/{anonymous}"), None).await,
        ),
        ("/api/orders", app.get("/api/orders", Some(&cookie)).await),
        ("unknown API path", app.get("/api/nope", None).await),
    ];
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(LOADER));
    for (what, reply) in &answers {
        assert_eq!(header(reply, "x-content-type-options"), "nosniff", "{what}");
        assert_eq!(
            header(reply, "referrer-policy"),
            "strict-origin-when-cross-origin",
            "{what}"
        );
        assert_eq!(header(reply, "x-frame-options"), "DENY", "{what}");
        let csp = header(reply, "content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"), "{what}: {csp}");
        assert!(csp.contains(&format!("'sha256-{hash}'")), "{what}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    }
    for (what, reply) in &answers[4..] {
        assert_eq!(header(reply, "cache-control"), "no-store", "{what}");
    }
    // The public snapshot keeps its own revalidation.
    assert_eq!(header(&answers[3].1, "cache-control"), "no-cache");
    assert_eq!(answers[0].1.status, StatusCode::OK);
    assert_eq!(answers[1].1.status, StatusCode::OK);
}

#[tokio::test]
async fn a_method_a_route_does_not_take_is_refused_in_the_json_shape() {
    let app = shop().await;
    let cart = app.anonymous_cart().await;
    for (method, path) in [
        ("DELETE", format!("/api/carts/{cart}")),
        ("PUT", "/api/snapshot".to_owned()),
        ("GET", "/api/checkout".to_owned()),
    ] {
        let reply = app.call(method, &path, None, None).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(reply.code(), "method_not_allowed", "{method} {path}");
        assert!(
            reply.json["error"]["message"]
                .as_str()
                .unwrap()
                .contains(method),
            "{method} {path}"
        );
        let allow = header(&reply, "allow");
        assert!(
            !allow.is_empty() && !allow.contains(method),
            "{method} {path}: {allow}"
        );
        assert_eq!(header(&reply, "x-content-type-options"), "nosniff");
        assert!(reply.headers.get("x-request-id").is_some());
    }
    let stored = app.get(&format!("/api/carts/{cart}"), None).await;
    assert_eq!(stored.status, StatusCode::OK, "the DELETE removed nothing");
}
