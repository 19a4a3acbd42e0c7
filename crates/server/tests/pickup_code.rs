//! The pickup code on the order page: derived from the fulfilment order under the server's
//! key, so `GET /api/orders/{number}` shows its shopper the code that was mailed, while the
//! pickup is ready and only then, and to nobody else; collecting with it works. Runs on
//! SQLite and, with `OMNICART_TEST_POSTGRES`, on PostgreSQL (the harness picks).

mod common;

use axum::http::StatusCode;
use common::{KYLIE, MIKE, TestApp, app_with_catalogue};
use omnicart_api::checkout::test_cards;
use omnicart_api::{INTEGRATION_KEY_HEADER, routes};
use omnicart_server::AppState;
use omnicart_server::store::fulfilment::of_order;
use omnicart_server::store::orders;
use serde_json::{Value, json};

const KEY: &str = "store-tool-key-0123456789abcdef";
const STORE: &str = "store-berlin-alexanderplatz";

async fn shop(secret: Option<&str>) -> (TestApp, AppState) {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let state = state
        .with_integration_keys(&[("store".to_owned(), KEY.to_owned())])
        .with_pickup_secret(secret);
    let router = omnicart_server::http::app(state.clone(), None);
    (
        TestApp {
            router,
            dir: app.dir,
        },
        state,
    )
}

/// Mike's order of a soundbar to collect at [`STORE`]: its number and his cookie.
async fn mikes_pickup(app: &TestApp) -> (String, String) {
    let (cookie, cart) = app.sign_in(MIKE).await;
    let ops = json!([
        {"op": "add", "sku": "SON-BEAM-30", "quantity": 1},
        {"op": "choose_delivery", "pickup": STORE}
    ]);
    let view = app.edit_now(&cart, &ops, Some(&cookie)).await;
    let mut body: Value = serde_json::from_str(&common::checkout_body(
        &cart,
        &view["quote"]["total"],
        test_cards::SUCCESS,
    ))
    .unwrap();
    body.as_object_mut().unwrap().remove("shipping_address");
    let placed = app
        .checkout(&format!("k-{cart}"), &body.to_string(), Some(&cookie))
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    let number = placed.json["order"]["number"].as_str().unwrap().to_owned();
    (number, cookie)
}

async fn move_to(app: &TestApp, id: &str, body: Value) -> common::Reply {
    let request = axum::http::Request::builder()
        .method("POST")
        .uri(routes::with_id(routes::FULFILMENT_TRANSITIONS, id))
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .header(INTEGRATION_KEY_HEADER, KEY)
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    app.raw(request).await
}

fn shown(view: &Value) -> Option<&str> {
    view["shipments"][0]["progress"]["pickup_code"].as_str()
}

async fn mailed_code(state: &AppState, order_id: &str) -> String {
    let text: String = sqlx::query_scalar(
        "SELECT text_body FROM mail_outbox WHERE order_id = $1 AND subject LIKE '%ready for pickup'",
    )
    .bind(order_id)
    .fetch_one(state.db.pool())
    .await
    .unwrap();
    text.split("counter: ").nth(1).unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_shopper_sees_the_mailed_pickup_code_while_it_is_ready_and_nobody_else_does() {
    let (app, state) = shop(None).await;
    let (number, cookie) = mikes_pickup(&app).await;
    let order = routes::with_number(routes::ORDER, &number);
    let row = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap();
    let id = of_order(&state.db, &row.id).await.unwrap()[0].id.clone();
    for to in ["picking", "packed"] {
        assert_eq!(
            move_to(&app, &id, json!({"to": to})).await.status,
            StatusCode::OK
        );
        let view = app.get(&order, Some(&cookie)).await;
        assert_eq!(
            shown(&view.json),
            None,
            "no code before the pickup is ready"
        );
    }
    let ready = move_to(&app, &id, json!({"to": "ready_for_pickup"})).await;
    assert_eq!(ready.status, StatusCode::OK, "{:?}", ready.json);
    let view = app.get(&order, Some(&cookie)).await;
    let code = shown(&view.json)
        .expect("the code of a ready pickup")
        .to_owned();
    assert_eq!(
        code,
        mailed_code(&state, &row.id).await,
        "the code that was mailed"
    );
    assert_eq!(code.len(), 9, "ABCD-EFGH");

    let (kylie, _) = app.sign_in(KYLIE).await;
    assert_eq!(
        app.get(&order, Some(&kylie)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&order, None).await.status, StatusCode::NOT_FOUND);

    let collected = move_to(&app, &id, json!({"to": "collected", "pickup_code": code})).await;
    assert_eq!(collected.json["state"], "collected", "{:?}", collected.json);
    let view = app.get(&order, Some(&cookie)).await;
    assert_eq!(shown(&view.json), None, "no code once collected");
}

#[tokio::test]
async fn a_configured_secret_derives_the_same_code_in_every_process_and_another_does_not() {
    let secret = "a-pickup-secret-of-thirty-two-chars!";
    let (app, state) = shop(Some(secret)).await;
    let (number, cookie) = mikes_pickup(&app).await;
    let row = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap();
    let id = of_order(&state.db, &row.id).await.unwrap()[0].id.clone();
    for to in ["picking", "packed", "ready_for_pickup"] {
        assert_eq!(
            move_to(&app, &id, json!({"to": to})).await.status,
            StatusCode::OK
        );
    }
    let order = routes::with_number(routes::ORDER, &number);
    let code = shown(&app.get(&order, Some(&cookie)).await.json)
        .unwrap()
        .to_owned();
    // Another process on the same database with the same secret shows the same code; one with
    // another secret shows none rather than a wrong one.
    for (other, same) in [
        (Some(secret), true),
        (Some("another-secret-of-thirty-two-chars"), false),
    ] {
        let state = state.clone().with_pickup_secret(other);
        let router = omnicart_server::http::app(state, None);
        let request = axum::http::Request::builder()
            .uri(&order)
            .header(axum::http::header::COOKIE, &cookie)
            .body(axum::body::Body::empty())
            .unwrap();
        let reply = TestApp {
            router,
            dir: tempfile::tempdir().unwrap(),
        }
        .raw(request)
        .await;
        assert_eq!(shown(&reply.json) == Some(code.as_str()), same);
        assert!(same || shown(&reply.json).is_none());
    }
}
