//! The OpenAPI document against the app: it is well-formed OpenAPI 3.1 whose every `$ref`
//! resolves; it documents exactly `routes::ALL`; every documented operation reaches a handler
//! and no undocumented method is routed on its paths; and the server's real answers, refusals
//! included, have a documented status, a body of the documented schema and a documented code.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{MIKE, Reply, TestApp};
use omnicart_api::checkout::test_cards;
use omnicart_api::routes;
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

async fn document(app: &TestApp) -> Value {
    let reply = app.get(routes::OPENAPI, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
    reply.json
}

/// Every `(METHOD, path)` of the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method.to_ascii_lowercase()).is_some() {
                found.insert((method.to_owned(), path.clone()));
            }
        }
    }
    found
}

/// A method the document has for `path`.
fn any_method<'a>(doc: &Value, path: &str) -> &'a str {
    METHODS
        .into_iter()
        .find(|m| doc["paths"][path].get(m.to_ascii_lowercase()).is_some())
        .expect("a documented method")
}

/// `path` with each `{name}` replaced by its parameter's example.
fn filled(doc: &Value, method: &str, path: &str) -> String {
    let operation = &doc["paths"][path][method.to_ascii_lowercase()];
    let mut filled = path.to_owned();
    for param in operation["parameters"].as_array().into_iter().flatten() {
        if param["in"] == "path" {
            let name = param["name"].as_str().unwrap();
            let example = param["example"]
                .as_str()
                .expect("a path parameter's example");
            filled = filled.replace(&format!("{{{name}}}"), example);
        }
    }
    assert!(
        !filled.contains('{'),
        "{path}: a path parameter is not declared"
    );
    filled
}

/// Collects every `$ref` under `value`.
fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target);
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_well_formed_openapi_whose_every_ref_resolves() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let text = doc.to_string();
    let typed: utoipa::openapi::OpenApi = serde_json::from_str(&text).expect("OpenAPI 3.1");
    assert_eq!(serde_json::to_value(&typed).unwrap(), doc, "round-trips");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc,
        serde_json::to_value(omnicart_api::openapi::document()).unwrap()
    );
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 50, "the bodies are referenced, not inlined");
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{target}: not a component"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{target} does not resolve"
        );
    }
    for (method, path) in operations(&doc) {
        let operation = &doc["paths"][&path][method.to_ascii_lowercase()];
        assert!(operation["responses"]["500"].is_object(), "{method} {path}");
        filled(&doc, &method, &path);
    }
    let scheme = &doc["components"]["securitySchemes"]["session"];
    assert_eq!(scheme["in"], "cookie");
    assert_eq!(scheme["name"], omnicart_api::SESSION_COOKIE);
    let checkout = &doc["paths"][routes::CHECKOUT]["post"];
    assert!(checkout["parameters"].as_array().unwrap().iter().any(|p| {
        p["in"] == "header" && p["name"] == omnicart_api::IDEMPOTENCY_KEY && p["required"] == true
    }));
    assert_eq!(doc["x-test-cards"]["success"], test_cards::SUCCESS);
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_of_the_contract() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let listed: BTreeSet<(String, String)> = routes::ALL
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(operations(&doc), listed);
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler_and_nothing_else_is_routed() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    // What the API answers where nothing is routed.
    let unrouted = app.get("/api/no-such-endpoint", None).await;
    assert_eq!(unrouted.status, StatusCode::NOT_FOUND);
    let paths: BTreeSet<String> = operations(&doc).into_iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in METHODS {
            let uri = filled(&doc, any_method(&doc, &path), &path);
            let reply = app.call(method, &uri, None, None).await;
            let documented = doc["paths"][&path]
                .get(method.to_ascii_lowercase())
                .is_some();
            if documented {
                assert_ne!(
                    reply.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {uri}"
                );
                assert_ne!(
                    reply.json, unrouted.json,
                    "{method} {uri}: the API fallback"
                );
                check(&doc, method, &path, &reply);
            } else {
                assert_eq!(
                    reply.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {uri} is routed but not documented"
                );
            }
        }
    }
}

/// `reply` has a status documented for `method path`, a body of the documented schema and,
/// for a refusal, one of the documented codes.
fn check(doc: &Value, method: &str, path: &str, reply: &Reply) {
    let operation = &doc["paths"][path][method.to_ascii_lowercase()];
    let status = reply.status.as_u16().to_string();
    let response = &operation["responses"][&status];
    assert!(
        response.is_object(),
        "{method} {path}: {status} is not documented: {:?}",
        reply.json
    );
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        assert!(
            reply.json.is_null(),
            "{method} {path} {status}: an undocumented body"
        );
        return;
    };
    let mut errors = Vec::new();
    conforms(doc, &reply.json, schema, "$", &mut errors);
    assert!(errors.is_empty(), "{method} {path} {status}: {errors:#?}");
    if let Some(codes) = response.get("x-error-codes") {
        let code = &reply.json["error"]["code"];
        assert!(
            codes.as_array().unwrap().contains(code),
            "{method} {path} {status}: {code} is not documented"
        );
    }
}

/// The checks of JSON Schema the document uses: `$ref`, `oneOf`, `type`, `enum`,
/// `required`, `properties` (an object with properties has no others), `items`.
fn conforms(doc: &Value, value: &Value, schema: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(target) = schema["$ref"].as_str() {
        let name = target.trim_start_matches("#/components/schemas/");
        return conforms(doc, value, &doc["components"]["schemas"][name], at, errors);
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        let fits = choices.iter().any(|choice| {
            let mut inner = Vec::new();
            conforms(doc, value, choice, at, &mut inner);
            inner.is_empty()
        });
        if !fits {
            errors.push(format!("{at}: {value} fits none of {schema}"));
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let is = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    };
    if !types.is_empty() && !types.iter().any(|t| is(t)) {
        errors.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let (Some(object), Some(properties)) = (value.as_object(), schema["properties"].as_object())
    {
        for name in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(name.as_str().unwrap()) {
                errors.push(format!("{at}: {name} is missing"));
            }
        }
        for (name, field) in object {
            match properties.get(name) {
                Some(property) => conforms(doc, field, property, &format!("{at}.{name}"), errors),
                None => errors.push(format!("{at}.{name} is not documented")),
            }
        }
    }
    if let (Some(items), Some(item)) = (value.as_array(), schema.get("items")) {
        for (i, element) in items.iter().enumerate() {
            conforms(doc, element, item, &format!("{at}[{i}]"), errors);
        }
    }
}

async fn send(app: &TestApp, method: &str, uri: &str, key: Option<&str>, body: &Value) -> Reply {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header(omnicart_api::IDEMPOTENCY_KEY, key);
    }
    app.raw(request.body(Body::from(body.to_string())).unwrap())
        .await
}

fn checkout_body(cart: &str, total: &Value, card: &str) -> Value {
    json!({
        "cart_id": cart,
        "expected_total": total,
        "contact": {"email": "shopper@example.com", "name": "A Shopper", "phone": "+49 30 1"},
        "shipping_address": {"name": "A Shopper", "street": ["Invalidenstr. 1"],
            "postcode": "10115", "city": "Berlin", "country": "DE"},
        "payment": {"provider": "test", "token": card}
    })
}

/// A guest's edits of their order (by its token): preview, commit, and their refusals.
async fn edits_answer_as_documented(app: &TestApp, doc: &Value, number: &str, token: &str) {
    let add = |version: i64, quantity: i64| json!({"version": version, "ops": [{"op": "add", "sku": "PS5-SLIM-DISC", "quantity": quantity}]});
    let preview = format!(
        "{}?token={token}",
        routes::with_number(routes::ORDER_EDIT_PREVIEW, number)
    );
    let commit = format!(
        "{}?token={token}",
        routes::with_number(routes::ORDER_EDITS, number)
    );
    let previewed = send(app, "POST", &preview, None, &add(0, 1)).await;
    assert_eq!(previewed.status, StatusCode::OK, "{:?}", previewed.json);
    check(doc, "POST", routes::ORDER_EDIT_PREVIEW, &previewed);
    let zero = send(app, "POST", &preview, None, &add(0, 0)).await;
    assert_eq!(zero.status, StatusCode::UNPROCESSABLE_ENTITY);
    check(doc, "POST", routes::ORDER_EDIT_PREVIEW, &zero);
    let no_key = send(app, "POST", &commit, None, &add(0, 1)).await;
    check(doc, "POST", routes::ORDER_EDITS, &no_key);
    let edited = send(app, "POST", &commit, Some("e1"), &add(0, 1)).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.json);
    check(doc, "POST", routes::ORDER_EDITS, &edited);
    let stale = send(app, "POST", &commit, Some("e2"), &add(0, 1)).await;
    assert_eq!(stale.code(), "stale_version", "{:?}", stale.json);
    check(doc, "POST", routes::ORDER_EDITS, &stale);
    let coupon = json!({"version": 1, "ops": [{"op": "apply_coupon", "code": "WELCOME10"}]});
    let coupon = send(app, "POST", &commit, Some("e3"), &coupon).await;
    assert_eq!(coupon.code(), "invalid_edit", "{:?}", coupon.json);
    check(doc, "POST", routes::ORDER_EDITS, &coupon);
}

#[tokio::test]
async fn a_guests_checkout_and_its_refusals_answer_as_documented() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let cart = app.anonymous_cart().await;
    let ops = r#"[{"op":"add","sku":"SON-BEAM-30","quantity":1},
        {"op":"add","sku":"LUM-OLED-C4-55","quantity":1},
        {"op":"attach_service","sku":"LUM-OLED-C4-55","service":"SVC-INSTALL-TV"},
        {"op":"set_address","address":{"postcode":"10115"}},
        {"op":"choose_delivery","level":"standard"}]"#;
    let edited = app.edit(&cart, 1, ops, None).await;
    check(&doc, "POST", routes::CART_OPS, &edited);
    let stale = app.edit(&cart, 1, ops, None).await;
    assert_eq!(stale.code(), "stale_version");
    check(&doc, "POST", routes::CART_OPS, &stale);
    let unknown = app.edit(
        &cart,
        2,
        r#"[{"op":"add","sku":"NOPE","quantity":1}]"#,
        None,
    );
    check(&doc, "POST", routes::CART_OPS, &unknown.await);
    check(
        &doc,
        "GET",
        routes::CART,
        &app.get(&routes::with_id(routes::CART, &cart), None).await,
    );

    let uri = routes::CHECKOUT;
    let zero = json!({"amount": "0.01", "currency": "EUR"});
    let changed = send(
        &app,
        "POST",
        uri,
        Some("k1"),
        &checkout_body(&cart, &zero, "x"),
    )
    .await;
    assert_eq!(changed.code(), "price_changed", "{:?}", changed.json);
    check(&doc, "POST", uri, &changed);
    let total = changed.json["error"]["total"].clone();
    let no_key = send(&app, "POST", uri, None, &checkout_body(&cart, &total, "x")).await;
    check(&doc, "POST", uri, &no_key);
    let declined = checkout_body(&cart, &total, test_cards::INSUFFICIENT_FUNDS);
    let declined = send(&app, "POST", uri, Some("k2"), &declined).await;
    assert_eq!(declined.code(), "payment_declined");
    check(&doc, "POST", uri, &declined);
    let placed = checkout_body(&cart, &total, test_cards::SUCCESS);
    let placed = send(&app, "POST", uri, Some("k3"), &placed).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    check(&doc, "POST", uri, &placed);

    let number = placed.json["order"]["number"].as_str().unwrap();
    let token = placed.json["guest_token"].as_str().unwrap();
    let order = format!(
        "{}?token={token}",
        routes::with_number(routes::ORDER, number)
    );
    check(&doc, "GET", routes::ORDER, &app.get(&order, None).await);
    edits_answer_as_documented(&app, &doc, number, token).await;
    let cancel = routes::with_number(routes::ORDER_CANCEL, number);
    let cancelled = app.post(&format!("{cancel}?token={token}"), "", None).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.json);
    check(&doc, "POST", routes::ORDER_CANCEL, &cancelled);
    let again = app.post(&format!("{cancel}?token={token}"), "", None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.json);
    check(&doc, "POST", routes::ORDER_CANCEL, &again);
}

#[tokio::test]
async fn a_customers_session_sync_and_orders_answer_as_documented() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let body = json!({"email": MIKE.0, "password": MIKE.1});
    let signed_in = send(&app, "POST", routes::SIGN_IN, None, &body).await;
    check(&doc, "POST", routes::SIGN_IN, &signed_in);
    let wrong = json!({"email": MIKE.0, "password": "not the password"});
    check(
        &doc,
        "POST",
        routes::SIGN_IN,
        &send(&app, "POST", routes::SIGN_IN, None, &wrong).await,
    );
    let taken = json!({"email": MIKE.0, "password": "long enough", "name": "Mike"});
    check(
        &doc,
        "POST",
        routes::SIGN_UP,
        &send(&app, "POST", routes::SIGN_UP, None, &taken).await,
    );
    let fresh = json!({"email": "new@example.com", "password": "long enough", "name": "New"});
    check(
        &doc,
        "POST",
        routes::SIGN_UP,
        &send(&app, "POST", routes::SIGN_UP, None, &fresh).await,
    );

    let (cookie, cart) = app.sign_in(MIKE).await;
    let me = app.get(routes::ME, Some(&cookie)).await;
    check(&doc, "GET", routes::ME, &me);
    let orders = app.get(routes::ORDERS, Some(&cookie)).await;
    assert_eq!(orders.status, StatusCode::OK);
    check(&doc, "GET", routes::ORDERS, &orders);
    let sync = routes::with_id(routes::CART_SYNC, &cart);
    let pulled = app.post(&sync, r#"{"cursor":0}"#, Some(&cookie)).await;
    assert_eq!(pulled.status, StatusCode::OK, "{:?}", pulled.json);
    check(&doc, "POST", routes::CART_SYNC, &pulled);
    let ahead = app.post(&sync, r#"{"cursor":999}"#, Some(&cookie)).await;
    check(&doc, "POST", routes::CART_SYNC, &ahead);
    let bad = app
        .post(&sync, r#"{"cursor":0,"ops":[1]}"#, Some(&cookie))
        .await;
    check(&doc, "POST", routes::CART_SYNC, &bad);
    let malformed = app.post(&sync, "{", Some(&cookie)).await;
    check(&doc, "POST", routes::CART_SYNC, &malformed);
    let unknown_field = app
        .post(&sync, r#"{"cursor":0,"x":1}"#, Some(&cookie))
        .await;
    check(&doc, "POST", routes::CART_SYNC, &unknown_field);
    check(
        &doc,
        "POST",
        routes::CARTS,
        &app.post(routes::CARTS, "", Some(&cookie)).await,
    );
    check(
        &doc,
        "POST",
        routes::SIGN_OUT,
        &app.post(routes::SIGN_OUT, "", Some(&cookie)).await,
    );
    check(&doc, "GET", routes::ME, &app.get(routes::ME, None).await);
}

#[tokio::test]
async fn rate_limited_answers_are_as_documented() {
    let one = std::num::NonZeroU32::MIN;
    let limits = omnicart_server::service::limits::LimitsConfig {
        sign_in: one,
        sign_up: one,
        carts: one,
        sync: one,
        ..Default::default()
    };
    let app = TestApp::with_state(|s| s.with_limits(limits)).await;
    let doc = document(&app).await;
    let cart = app.anonymous_cart().await;
    let created = app.post(routes::CARTS, "", None).await;
    assert_eq!(created.code(), "rate_limited");
    check(&doc, "POST", routes::CARTS, &created);
    let retry = &doc["paths"][routes::CARTS]["post"]["responses"]["429"]["headers"]["Retry-After"];
    assert_eq!(retry["schema"]["type"], "integer");
    let edit = routes::with_id(routes::CART_OPS, &cart);
    let ops = r#"{"version":1,"ops":[{"op":"add","sku":"SON-BEAM-30","quantity":1}]}"#;
    assert_eq!(app.post(&edit, ops, None).await.status, StatusCode::OK);
    let edited = app.post(&edit, ops, None).await;
    assert_eq!(edited.code(), "rate_limited");
    check(&doc, "POST", routes::CART_OPS, &edited);
    let sync = routes::with_id(routes::CART_SYNC, &cart);
    let synced = app.post(&sync, r#"{"cursor":0}"#, None).await;
    check(&doc, "POST", routes::CART_SYNC, &synced);
    for (route, body) in [
        (
            routes::SIGN_IN,
            json!({"email": MIKE.0, "password": "wrong password"}),
        ),
        (
            routes::SIGN_UP,
            json!({"email": "new@example.com", "password": "long enough", "name": "New"}),
        ),
    ] {
        send(&app, "POST", route, None, &body).await;
        let limited = send(&app, "POST", route, None, &body).await;
        assert_eq!(limited.code(), "rate_limited", "{route}");
        check(&doc, "POST", route, &limited);
    }
}
