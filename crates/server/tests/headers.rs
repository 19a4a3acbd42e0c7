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
    // The build's file and the copies `scripts/precompress.mjs` writes beside it (marked, so
    // the test sees which one was sent).
    std::fs::write(dist.join("app-1_bg.wasm"), "\0asm the module").unwrap();
    std::fs::write(dist.join("app-1_bg.wasm.br"), "the brotli copy").unwrap();
    std::fs::write(dist.join("app-1_bg.wasm.gz"), "the gzip copy").unwrap();
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

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> common::Reply {
    let mut request = axum::http::Request::builder().uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.raw(request.body(axum::body::Body::empty()).unwrap())
        .await
}

#[tokio::test]
async fn the_storefront_is_sent_precompressed_and_kept_by_its_hash() {
    let app = shop().await;
    for (accept, encoding, body) in [
        ("gzip, deflate, br", Some("br"), "the brotli copy"),
        ("gzip", Some("gzip"), "the gzip copy"),
        ("identity", None, "\0asm the module"),
    ] {
        let reply = get_with(&app, "/app-1_bg.wasm", &[("accept-encoding", accept)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{accept}");
        assert_eq!(
            reply
                .headers
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            encoding,
            "{accept}"
        );
        assert_eq!(reply.json, body, "{accept}");
        assert_eq!(
            header(&reply, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert!(
            header(&reply, "vary")
                .to_ascii_lowercase()
                .contains("accept-encoding")
        );
    }
    // The page (and every client route, which is the page) is revalidated every time, so a new
    // build's hashed names are found at once.
    for path in ["/", "/index.html", "/product/x"] {
        let reply = get_with(&app, path, &[("accept-encoding", "br")]).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(header(&reply, "cache-control"), "no-cache", "{path}");
    }
}

#[tokio::test]
async fn api_answers_are_compressed_and_the_snapshot_revalidates_weakly() {
    use std::io::Read;
    let app = shop().await;
    let plain = app.get("/api/snapshot", None).await;
    let etag = header(&plain, "etag").to_owned();
    let request = axum::http::Request::builder()
        .uri("/api/snapshot")
        .header("accept-encoding", "gzip")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["etag"], etag.as_str());
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let mut json = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut json)
        .unwrap();
    assert!(
        bytes.len() * 3 < json.len(),
        "{} of {}",
        bytes.len(),
        json.len()
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&json).unwrap(),
        plain.json
    );
    for tag in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
    ] {
        let reply = get_with(&app, "/api/snapshot", &[("if-none-match", &tag)]).await;
        assert_eq!(reply.status, StatusCode::NOT_MODIFIED, "{tag}");
    }
    let other = get_with(&app, "/api/snapshot", &[("if-none-match", "W/\"other\"")]).await;
    assert_eq!(other.status, StatusCode::OK);
}
