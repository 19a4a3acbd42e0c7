//! The whole router under random requests (proptest, in-process with `oneshot`): random
//! methods on the contract's paths (`routes::ALL`, with real, random and hostile ids) and on
//! garbage paths, random headers (content types, cookies, idempotency keys, forwarded
//! addresses) and bodies (malformed and deeply nested JSON, bodies over the limit, huge and
//! negative quantities, forged stamps: a counter of 4294967295, a year ahead, 2^53 + 1; NUL
//! characters in ids, emails and queries, which PostgreSQL cannot store).
//! Whatever comes: never a 5xx; every refusal is the JSON error shape
//! (`omnicart_api::ErrorBody`); and a refused request leaves every stored cart as it was.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{MIKE, TestApp};
use omnicart_api::{ErrorBody, routes};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

/// One generated request.
#[derive(Clone, Debug)]
struct Fuzzed {
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    signed_in: bool,
    idempotency_key: Option<String>,
    forwarded_for: Option<String>,
    body: Vec<u8>,
}

const METHODS: &[&str] = &[
    "GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
];

/// What fills a path's `{id}` or `{number}`: the real carts (index 0 and 1 of the
/// `known` ids), or something else.
fn id_strategy(known: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(known),
        1 => "[0-9a-f]{32}".prop_map(|h| format!("cart_{h}")),
        1 => "[a-zA-Z0-9%._~-]{0,40}",
        1 => Just("%00%2F..%2F..".to_owned()),
        1 => Just("x".repeat(3000)),
        1 => Just("4829-1034-775".to_owned()),
    ]
}

/// A path and the method its route takes (`POST` for garbage).
fn path_strategy(known: Vec<String>) -> impl Strategy<Value = (&'static str, String)> {
    // Not the cart's event stream: a GET of a real cart's answers an endless body
    // (tests/live.rs tests it, and its refusals are the same extractors').
    let streams = |r: &routes::Route| r.path != routes::CART_EVENTS;
    let route = proptest::sample::select(
        routes::ALL
            .iter()
            .copied()
            .filter(streams)
            .collect::<Vec<_>>(),
    );
    let listed = (
        route,
        id_strategy(known),
        proptest::option::of(prop_oneof![
            "[a-z=&?%0-9]{0,30}",
            Just("token=%00&page=%00".to_owned())
        ]),
    )
        .prop_map(|(route, id, query)| {
            let path = routes::with_number(&routes::with_id(route.path, &id), &id);
            let path = match query {
                Some(query) => format!("{path}?{query}"),
                None => path,
            };
            (route.method, path)
        });
    prop_oneof![
        6 => listed,
        1 => "/api/[a-z/{}%.]{0,40}".prop_map(|p| ("POST", p)),
        1 => "/api/carts/[a-z0-9]{1,8}/[a-z]{1,8}/[a-z]{1,8}".prop_map(|p| ("POST", p)),
    ]
}

/// A stamp a device should never be able to use.
fn forged_stamp() -> impl Strategy<Value = Value> {
    let now = 1_790_000_000_000u64;
    prop_oneof![
        Just(json!({"ms": now, "counter": 4_294_967_295u64, "device": "zzzz"})),
        Just(json!({"ms": now + 366 * 24 * 3600 * 1000, "counter": 0, "device": "zzzz"})),
        Just(json!({"ms": (1u64 << 53) + 1, "counter": 1, "device": "zzzz"})),
        Just(json!({"ms": -1, "counter": -1, "device": ""})),
        Just(json!({"ms": 1e300, "counter": 0.5, "device": "d"})),
        any::<u64>().prop_map(|ms| json!({"ms": ms, "counter": ms, "device": "d"})),
    ]
}

fn hostile_op() -> impl Strategy<Value = Value> {
    let quantity = prop_oneof![
        Just(json!(4_294_967_296u64)),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        Just(json!(1000)),
        (0u32..2000).prop_map(|q| json!(q)),
    ];
    let sku = prop_oneof![
        Just("SON-BEAM-30".to_owned()),
        Just("LUM-OLED-C4-55".to_owned()),
        Just("x".repeat(100)),
        "[A-Z-]{0,12}",
    ];
    (quantity, sku)
        .prop_map(|(quantity, sku)| json!({"op": "add", "sku": sku, "quantity": quantity}))
}

fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
    let edit = (any::<i64>(), proptest::collection::vec(hostile_op(), 0..3))
        .prop_map(|(version, ops)| json!({"version": version % 4, "ops": ops}));
    let sync = (forged_stamp(), hostile_op(), 0u64..4).prop_map(|(stamp, op, cursor)| {
        json!({"cursor": cursor, "ops": [{"id": "f1", "stamp": stamp, "seen": 0, "op": op}]})
    });
    let sign_in = ("[a-z@.]{0,30}", "[ -~]{0,80}")
        .prop_map(|(email, password)| json!({"email": email, "password": password}));
    prop_oneof![
        2 => edit.prop_map(|v| v.to_string().into_bytes()),
        2 => sync.prop_map(|v| v.to_string().into_bytes()),
        1 => sign_in.prop_map(|v| v.to_string().into_bytes()),
        1 => Just(Vec::new()),
        1 => Just(b"{".to_vec()),
        1 => Just(b"null".to_vec()),
        1 => Just(br#"{"email":"a\u0000@example.com","password":"password1","cart_id":"\u0000"}"#.to_vec()),
        1 => Just(br#"{"cursor":0,"ops":[{"id":"\u0000","stamp":{"ms":1,"counter":0,"device":"\u0000"},"seen":0,"op":{"op":"add","sku":"A\u0000","quantity":1}}]}"#.to_vec()),
        1 => Just(br#"{"version":1,"ops":[{"op":"add","sku":"SON-BEAM-30","quantity":1e309}]}"#.to_vec()),
        1 => Just(format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes()),
        1 => Just(vec![b' '; 70 * 1024]),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
    ]
}

fn request_strategy(known: Vec<String>) -> impl Strategy<Value = Fuzzed> {
    let content_type = prop_oneof![
        4 => Just(Some("application/json")),
        1 => Just(Some("text/plain")),
        1 => Just(None),
    ];
    let key = proptest::option::of(prop_oneof!["[a-z0-9-]{1,40}", Just("k".repeat(300)),]);
    let forwarded = proptest::option::of(prop_oneof![
        Just("198.51.100.1".to_owned()),
        "[0-9.,: a-z]{0,40}",
    ]);
    let method = (
        proptest::sample::select(METHODS),
        proptest::bool::weighted(0.75),
    );
    (
        method,
        path_strategy(known),
        content_type,
        any::<bool>(),
        key,
        forwarded,
        body_strategy(),
    )
        .prop_map(
            |(
                (other, routed),
                (own, path),
                content_type,
                signed_in,
                idempotency_key,
                forwarded_for,
                body,
            )| {
                Fuzzed {
                    method: if routed { own } else { other },
                    path,
                    content_type,
                    signed_in,
                    idempotency_key,
                    forwarded_for,
                    body,
                }
            },
        )
}

fn request(fuzzed: &Fuzzed, cookie: &str) -> Option<Request<Body>> {
    let mut request = Request::builder().method(fuzzed.method).uri(&fuzzed.path);
    if let Some(content_type) = fuzzed.content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    if fuzzed.signed_in {
        request = request.header(header::COOKIE, cookie);
    }
    if let Some(key) = &fuzzed.idempotency_key {
        request = request.header(omnicart_api::IDEMPOTENCY_KEY, key);
    }
    if let Some(forwarded) = &fuzzed.forwarded_for {
        request = request.header("x-forwarded-for", forwarded);
    }
    // A path the HTTP layer cannot even parse never reaches the router.
    request.body(Body::from(fuzzed.body.clone())).ok()
}

/// Every stored cart as the database has it: (id, version, body).
async fn stored_carts(db: &omnicart_server::store::Db) -> Vec<(String, i64, String)> {
    sqlx::query_as("SELECT id, version, body FROM carts ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

#[test]
fn random_requests_never_fail_the_server_and_refusals_change_nothing() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (app, db, cookie, known) = runtime.block_on(async {
        let (app, db) = TestApp::with_database().await;
        let (cookie, customer_cart) = app.sign_in(MIKE).await;
        let guest = app.anonymous_cart().await;
        let ops = json!([{"op": "add", "sku": "SON-BEAM-30", "quantity": 2}]);
        app.edit_now(&guest, &ops, None).await;
        (app, db, cookie, vec![guest, customer_cart])
    });
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let statuses = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u32>::new());
    let result = runner.run(&request_strategy(known), |fuzzed| {
        let Some(built) = request(&fuzzed, &cookie) else {
            return Ok(());
        };
        runtime.block_on(async {
            let before = stored_carts(&db).await;
            let reply = app.raw(built).await;
            *statuses
                .borrow_mut()
                .entry(reply.status.as_u16())
                .or_default() += 1;
            prop_assert!(
                !reply.status.is_server_error(),
                "{} {}: {} {:?}",
                fuzzed.method,
                fuzzed.path,
                reply.status,
                reply.json
            );
            if reply.status.as_u16() >= 400 {
                let shape = serde_json::from_value::<ErrorBody<Value>>(reply.json.clone());
                prop_assert!(
                    shape.is_ok(),
                    "{} {}: {} is not the error shape: {:?}",
                    fuzzed.method,
                    fuzzed.path,
                    reply.status,
                    reply.json
                );
                let after = stored_carts(&db).await;
                prop_assert!(
                    before == after,
                    "{} {} was refused ({}) but changed a stored cart",
                    fuzzed.method,
                    fuzzed.path,
                    reply.status
                );
            } else {
                prop_assert!(reply.status != StatusCode::METHOD_NOT_ALLOWED);
            }
            Ok(())
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    // The requests reached handlers: some were carried out, and refusals of many kinds.
    let statuses = statuses.into_inner();
    eprintln!("answers by status: {statuses:?}");
    assert!(statuses.keys().any(|s| *s < 300), "{statuses:?}");
    assert!(
        statuses.keys().filter(|s| **s >= 400).count() >= 5,
        "{statuses:?}"
    );
}
