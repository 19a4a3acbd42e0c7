//! The shopper's messages (issue 17): shipped and delivered mails, the feedback survey once
//! an order is delivered (answered once, by its link, without signing in), and abandoned-cart
//! reminders: an idle cart with items gets them up to the limit, none once placed or after
//! the customer unsubscribed through the mailed link. Runs on SQLite and, with
//! `OMNICART_TEST_POSTGRES`, on PostgreSQL.

mod common;

use axum::http::StatusCode;
use common::{KYLIE, MIKE, TestApp, app_with_catalogue, checkout_body};
use omnicart_api::checkout::test_cards;
use omnicart_engine::Timestamp;
use omnicart_order::{FulfilmentState, Parcel};
use omnicart_server::AppState;
use omnicart_server::service::fulfilment::{Action, apply};
use omnicart_server::service::messages::{Reminders, remind_idle_carts};
use omnicart_server::store::fulfilment::of_order;
use omnicart_server::store::orders;
use serde_json::json;

const SKU: &str = "SON-BEAM-30";
const KEY: &str = "staff-key-0123456789abcdefgh";

async fn app() -> (TestApp, AppState) {
    let (app, state) = app_with_catalogue(|_| {}).await;
    let state = state
        .with_integration_keys(&[("staff".to_owned(), KEY.to_owned())])
        .with_public_url("https://shop.example/");
    let router = omnicart_server::http::app(state.clone(), None);
    (
        TestApp {
            router,
            dir: app.dir,
        },
        state,
    )
}

/// Mails to `to` whose subject starts with `subject`: their text bodies, oldest first.
async fn mails(state: &AppState, to: &str, subject: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT text_body FROM mail_outbox WHERE recipient = $1 AND subject LIKE $2 ORDER BY created_at, id")
        .bind(to)
        .bind(format!("{subject}%"))
        .fetch_all(state.db.pool())
        .await
        .unwrap();
    rows.into_iter().map(|(t,)| t).collect()
}

/// The `token=` of the link to `page` in `text`.
fn token_in(text: &str, page: &str) -> String {
    let start = text
        .find(&format!("https://shop.example/{page}?token="))
        .expect("the link");
    let rest = &text[start..];
    let token = rest.split("token=").nth(1).unwrap();
    token.split_whitespace().next().unwrap().to_owned()
}

fn settings() -> Reminders {
    Reminders {
        idle_seconds: 3600,
        max: 2,
        public_url: "https://shop.example".into(),
    }
}

async fn fill_cart(app: &TestApp, cookie: &str, cart: &str) {
    let ops = json!([{"op": "add", "sku": SKU, "quantity": 1}]);
    app.edit_now(cart, &ops, Some(cookie)).await;
}

#[tokio::test]
async fn an_idle_cart_is_reminded_up_to_the_limit_and_never_after_unsubscribing() {
    let (app, state) = app().await;
    let (cookie, cart) = app.sign_in(MIKE).await;
    fill_cart(&app, &cookie, &cart).await;
    let now = omnicart_server::ids::now_unix();
    let hour = 3600;
    // Not idle long enough yet.
    assert_eq!(
        remind_idle_carts(&state, &settings(), now + 60)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        remind_idle_carts(&state, &settings(), now + hour + 1)
            .await
            .unwrap(),
        1
    );
    // The next only after another idle hour; then the limit.
    assert_eq!(
        remind_idle_carts(&state, &settings(), now + hour + 2)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        remind_idle_carts(&state, &settings(), now + 2 * hour + 2)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        remind_idle_carts(&state, &settings(), now + 9 * hour)
            .await
            .unwrap(),
        0
    );
    let sent = mails(&state, MIKE.0, "Your cart is waiting").await;
    assert_eq!(sent.len(), 2);
    assert!(sent[0].contains("Beam"), "{}", sent[0]);
    // The link works without signing in; a made-up one does not.
    let token = token_in(&sent[1], "unsubscribe");
    let wrong = app
        .post("/api/unsubscribe", r#"{"token": "nope"}"#, None)
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    let body = json!({ "token": token }).to_string();
    let done = app.post("/api/unsubscribe", &body, None).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.json);
    // A change would start the count again, but not for someone unsubscribed.
    fill_cart(&app, &cookie, &cart).await;
    assert_eq!(
        remind_idle_carts(&state, &settings(), now + 30 * hour)
            .await
            .unwrap(),
        0
    );
    assert_eq!(mails(&state, MIKE.0, "Your cart is waiting").await.len(), 2);
}

#[tokio::test]
async fn a_changed_cart_starts_again_and_a_placed_one_gets_none() {
    let (app, state) = app().await;
    let (cookie, cart) = app.sign_in(KYLIE).await;
    fill_cart(&app, &cookie, &cart).await;
    let now = omnicart_server::ids::now_unix();
    let reminders = Reminders {
        max: 1,
        ..settings()
    };
    assert_eq!(
        remind_idle_carts(&state, &reminders, now + 3601)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        remind_idle_carts(&state, &reminders, now + 9000)
            .await
            .unwrap(),
        0
    );
    // Placed: the cart is emptied, and an empty cart is never reminded of.
    let ops = json!([
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]);
    app.edit_now(&cart, &ops, Some(&cookie)).await;
    let total = app
        .get(&format!("/api/carts/{cart}"), Some(&cookie))
        .await
        .json["quote"]["total"]
        .clone();
    let body = checkout_body(&cart, &total, test_cards::SUCCESS);
    let placed = app
        .checkout(&format!("k-{cart}"), &body, Some(&cookie))
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    assert_eq!(
        remind_idle_carts(&state, &reminders, now + 99_999)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        mails(&state, KYLIE.0, "Your cart is waiting").await.len(),
        1
    );
}

#[tokio::test]
async fn a_delivered_order_is_announced_and_surveyed_once() {
    let (app, state) = app().await;
    let cart = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": SKU, "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]);
    app.edit_now(&cart, &ops, None).await;
    let total = app.get(&format!("/api/carts/{cart}"), None).await.json["quote"]["total"].clone();
    let body = checkout_body(&cart, &total, test_cards::SUCCESS);
    let placed = app.checkout(&format!("k-{cart}"), &body, None).await;
    let number = placed.json["order"]["number"].as_str().unwrap().to_owned();
    let row = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap();
    let id = of_order(&state.db, &row.id).await.unwrap()[0].id.clone();
    let at = Timestamp::from_unix(1_900_000_000);
    for to in [FulfilmentState::Picking, FulfilmentState::Packed] {
        apply(&state, "wms", &id, Action::To(to), at).await.unwrap();
    }
    let parcel = Parcel {
        carrier: "DHL".into(),
        tracking_number: "JD014600".into(),
        label: String::new(),
    };
    apply(&state, "wms", &id, Action::Ship(parcel), at)
        .await
        .unwrap();
    let to = "shopper@example.com";
    let shipped = mails(
        &state,
        to,
        &format!("Order {number}: a parcel is on its way"),
    )
    .await;
    assert!(shipped[0].contains("JD014600"), "{shipped:?}");
    assert!(
        mails(&state, to, "How was").await.is_empty(),
        "no survey before delivery"
    );
    apply(
        &state,
        "wms",
        &id,
        Action::To(FulfilmentState::Delivered),
        at,
    )
    .await
    .unwrap();
    assert_eq!(
        mails(
            &state,
            to,
            &format!("Order {number}: a parcel was delivered")
        )
        .await
        .len(),
        1
    );
    let survey = mails(&state, to, "How was").await;
    assert_eq!(survey.len(), 1);
    let token = token_in(&survey[0], "survey");
    let path = format!("/api/surveys/{token}");
    let view = app.get(&path, None).await;
    assert_eq!(view.status, StatusCode::OK, "{:?}", view.json);
    assert_eq!(view.json["order_number"], json!(number));
    assert_eq!(view.json["products"][0]["sku"], SKU);
    assert_eq!(view.json["answered"], false);
    for bad in [
        json!({"rating": 0}),
        json!({"rating": 6}),
        json!({"rating": 4, "products": [{"sku": "NOT-BOUGHT", "rating": 3}]}),
        json!({"rating": 4, "comment": "x".repeat(2001)}),
    ] {
        let reply = app.post(&path, &bad.to_string(), None).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let good = json!({"rating": 4, "comment": "Quick", "products": [{"sku": SKU, "rating": 5, "comment": "Great sound"}]});
    let answered = app.post(&path, &good.to_string(), None).await;
    assert_eq!(answered.status, StatusCode::CREATED, "{:?}", answered.json);
    assert_eq!(answered.json["answered"], true);
    let again = app.post(&path, &good.to_string(), None).await;
    assert_eq!(again.code(), "already_answered");
    assert_eq!(
        app.get("/api/surveys/nope", None).await.status,
        StatusCode::NOT_FOUND
    );
    // Staff read the answers with their key.
    let list = app
        .raw(
            axum::http::Request::get("/api/integration/surveys")
                .header("x-integration-key", KEY)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(list.json["surveys"][0]["order_number"], json!(number));
    assert_eq!(
        list.json["surveys"][0]["answer"]["products"][0]["rating"],
        5
    );
    assert_eq!(
        app.get("/api/integration/surveys", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}
