//! Test harness: the real router over a real database: a SQLite file in a temporary
//! directory, or, when `OMNICART_TEST_POSTGRES` names a PostgreSQL server
//! (`postgres://user:pass@host:port/db`, a role that may create databases), a new database
//! on it for each test. `scripts/test` runs these tests both ways.
#![allow(dead_code)]

pub mod receiver;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use omnicart_server::catalogue::Catalogue;
use omnicart_server::store::Db;
use omnicart_server::{AppState, app, seed_demo_customers};
use serde_json::Value;
use tower::ServiceExt;

pub const DEMO_CATALOGUE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo-catalogue.json");
pub const MIKE: (&str, &str) = ("mike@demo.omnicart.dev", "omnicart-demo");
pub const KYLIE: (&str, &str) = ("kylie@demo.omnicart.dev", "omnicart-demo");

pub struct TestApp {
    pub router: Router,
    pub dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

/// A fresh, migrated database for one test.
pub async fn database(dir: &tempfile::TempDir) -> Db {
    Db::connect(&database_url(dir).await)
        .await
        .expect("database")
}

/// Whether the tests run on PostgreSQL (`OMNICART_TEST_POSTGRES` set); a test that only means
/// something there (two server processes on one database) says so when it does not.
pub fn on_postgres() -> bool {
    let set = std::env::var("OMNICART_TEST_POSTGRES").is_ok_and(|s| !s.is_empty());
    if !set {
        eprintln!(
            "skipped: OMNICART_TEST_POSTGRES is unset (scripts/test runs it with PostgreSQL)"
        );
    }
    set
}

/// The URL of a fresh database for one test (created empty on PostgreSQL; a file in `dir`
/// on SQLite), for a test that opens it itself or hands it to a server process.
pub async fn database_url(dir: &tempfile::TempDir) -> String {
    match std::env::var("OMNICART_TEST_POSTGRES") {
        Ok(server) if !server.is_empty() => {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let name = format!(
                "omnicart_test_{}",
                omnicart_server::ids::random_id("").get(..16).unwrap()
            );
            let mut admin = sqlx::AnyConnection::connect(&server)
                .await
                .expect("PostgreSQL at OMNICART_TEST_POSTGRES");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("create a test database");
            admin.close().await.ok();
            let (prefix, _) = server.rsplit_once('/').expect("a URL with a database name");
            format!("{prefix}/{name}")
        }
        _ => format!("sqlite://{}", dir.path().join("test.db").display()),
    }
}

/// `request` as if it came through a socket from `peer` (what `axum::serve` with
/// `into_make_service_with_connect_info` gives every request).
pub fn from_peer(mut request: Request<Body>, peer: &str) -> Request<Body> {
    let peer: std::net::SocketAddr = peer.parse().expect("an address and port");
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    request
}

pub async fn state(dir: &tempfile::TempDir) -> AppState {
    let pool = database(dir).await;
    seed_demo_customers(&pool).await.expect("demo customers");
    AppState::new(pool, Catalogue::load(DEMO_CATALOGUE.as_ref()).unwrap()).unwrap()
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with_cart_merge(omnicart_server::service::accounts::CartMerge::Merge).await
    }

    /// An app and a handle on its database, for tests that change what is stored behind the
    /// API's back.
    pub async fn with_database() -> (TestApp, Db) {
        let dir = tempfile::tempdir().unwrap();
        let pool = database(&dir).await;
        seed_demo_customers(&pool).await.expect("demo customers");
        let state = AppState::new(
            pool.clone(),
            Catalogue::load(DEMO_CATALOGUE.as_ref()).unwrap(),
        )
        .unwrap();
        (
            TestApp {
                router: app(state, None),
                dir,
            },
            pool,
        )
    }

    /// An app whose state `configure` changes (its limits, its trusted proxies).
    pub async fn with_state(configure: impl FnOnce(AppState) -> AppState) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let state = configure(state(&dir).await);
        TestApp {
            router: app(state, None),
            dir,
        }
    }

    /// `POST path` with a JSON `body` from the client at `peer` (`ip:port`).
    pub async fn post_from(&self, peer: &str, path: &str, body: &str) -> Reply {
        let request = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.raw(from_peer(request, peer)).await
    }

    pub async fn with_cart_merge(merge: omnicart_server::service::accounts::CartMerge) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&dir).await.with_cart_merge(merge);
        let dist = dir.path().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>omnicart</title>",
        )
        .unwrap();
        TestApp {
            router: app(state, Some(&dist)),
            dir,
        }
    }

    pub async fn raw(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            json,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        cookie: Option<&str>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.raw(
            request
                .body(Body::from(body.unwrap_or("").to_owned()))
                .unwrap(),
        )
        .await
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        self.call("GET", path, None, cookie).await
    }

    pub async fn post(&self, path: &str, body: &str, cookie: Option<&str>) -> Reply {
        self.call("POST", path, Some(body), cookie).await
    }

    /// Signs in and returns the session cookie (`name=value`) and the customer's cart id.
    pub async fn sign_in(&self, (email, password): (&str, &str)) -> (String, String) {
        let body = serde_json::json!({ "email": email, "password": password }).to_string();
        let reply = self.post("/api/auth/sign-in", &body, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        let set_cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        (cookie, reply.json["cart_id"].as_str().unwrap().to_owned())
    }

    pub async fn anonymous_cart(&self) -> String {
        let reply = self.post("/api/carts", "", None).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
        reply.json["id"].as_str().unwrap().to_owned()
    }

    pub async fn edit(&self, cart: &str, version: i64, ops: &str, cookie: Option<&str>) -> Reply {
        let body = format!(r#"{{"version":{version},"ops":{ops}}}"#);
        self.post(&format!("/api/carts/{cart}/ops"), &body, cookie)
            .await
    }
}

/// An app over a catalogue changed by `edit` (the demo catalogue's JSON), with its state
/// (the database, the test gateway) for the test to look behind the API.
pub async fn app_with_catalogue(edit: impl FnOnce(&mut Value)) -> (TestApp, AppState) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    seed_demo_customers(&db).await.expect("demo customers");
    let state = AppState::new(db, edited_catalogue(edit)).unwrap();
    let router = app(state.clone(), None);
    (TestApp { router, dir }, state)
}

/// The demo catalogue with `edit` applied.
pub fn edited_catalogue(edit: impl FnOnce(&mut Value)) -> Catalogue {
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(DEMO_CATALOGUE).unwrap()).unwrap();
    edit(&mut json);
    let snapshot = omnicart_engine::Snapshot::from_json(&json.to_string()).unwrap();
    Catalogue::new(snapshot)
}

/// A checkout of `cart` at `total` (what the shopper saw), paid with the test `card`.
pub fn checkout_body(cart: &str, total: &Value, card: &str) -> String {
    serde_json::json!({
        "cart_id": cart,
        "expected_total": total,
        "contact": {"email": "shopper@example.com", "name": "A Shopper"},
        "shipping_address": {"name": "A Shopper", "street": ["Invalidenstr. 1"], "postcode": "10115", "city": "Berlin", "country": "DE"},
        "payment": {"provider": "test", "token": card}
    })
    .to_string()
}

impl TestApp {
    /// `POST /api/checkout` with an idempotency key.
    pub async fn checkout(&self, key: &str, body: &str, cookie: Option<&str>) -> Reply {
        let mut request = Request::builder()
            .method("POST")
            .uri("/api/checkout")
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", key);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.raw(request.body(Body::from(body.to_owned())).unwrap())
            .await
    }

    /// The server's total for the cart: a checkout at a total it cannot have is refused
    /// (`price_changed`) with it, and nothing is placed.
    pub async fn server_total(&self, cart: &str, cookie: Option<&str>) -> Value {
        static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let zero = serde_json::json!({"amount": "0.01", "currency": "EUR"});
        let body = checkout_body(cart, &zero, omnicart_api::checkout::test_cards::SUCCESS);
        // A fresh key per probe: a probe's refusal is stored and replayed for its key.
        let reply = self
            .checkout(&format!("probe-{cart}-{n}"), &body, cookie)
            .await;
        assert_eq!(reply.code(), "price_changed", "{:?}", reply.json);
        reply.json["error"]["total"].clone()
    }

    /// Applies `ops` to the cart at its current version; the cart's view afterwards.
    pub async fn edit_now(&self, cart: &str, ops: &Value, cookie: Option<&str>) -> Value {
        let view = self.get(&format!("/api/carts/{cart}"), cookie).await;
        let version = view.json["version"].as_i64().unwrap();
        let reply = self.edit(cart, version, &ops.to_string(), cookie).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        reply.json
    }
}
