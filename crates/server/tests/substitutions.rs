//! Substitutions (issue 16): a picker proposes another SKU for a line, the order's shopper
//! accepts (it ships instead, at the lower price, reserved in place of the ordered units) or
//! declines (the line is sourced again elsewhere); nobody else can answer. Runs on SQLite and,
//! with `OMNICART_TEST_POSTGRES`, on PostgreSQL (the harness picks).

mod common;

use axum::http::StatusCode;
use common::{Reply, TestApp, app_with_catalogue, checkout_body};
use omnicart_api::checkout::test_cards;
use omnicart_order::Parcel;
use omnicart_server::AppState;
use omnicart_server::service::fulfilment::{Action, apply};
use omnicart_server::store::fulfilment::of_order;
use omnicart_server::store::orders;
use serde_json::{Value, json};

const BEAM: &str = "SON-BEAM-30";
/// Cheaper than the soundbar.
const CABLE: &str = "CBL-OPT-15";
/// Dearer than the soundbar.
const ARC: &str = "SON-ARC-512";
const BAD_HERSFELD: &str = "wh-bad-hersfeld";
const DORTMUND: &str = "wh-dortmund";
const KEY: &str = "wms-test-key-0123456789abcdef";

fn stock_of(json: &mut Value, sku: &str, records: &[(&str, u32)]) {
    let stock = json["network"]["stock"].as_array_mut().unwrap();
    stock.retain(|s| s["sku"] != sku);
    for (location, on_hand) in records {
        stock.push(json!({"sku": sku, "location": location, "on_hand": on_hand}));
    }
}

async fn keyed_app() -> (TestApp, AppState) {
    let (app, state) = app_with_catalogue(|j| {
        stock_of(j, BEAM, &[(BAD_HERSFELD, 5), (DORTMUND, 5)]);
        stock_of(j, CABLE, &[(BAD_HERSFELD, 5)]);
        stock_of(j, ARC, &[(BAD_HERSFELD, 5)]);
    })
    .await;
    let state = state.with_integration_keys(&[("wms".to_owned(), KEY.to_owned())]);
    let router = omnicart_server::http::app(state.clone(), None);
    let app = TestApp {
        router,
        dir: app.dir,
    };
    (app, state)
}

/// A guest order of one [`BEAM`] from Bad Hersfeld: (order id, number, guest token,
/// fulfilment order id).
async fn placed(app: &TestApp, state: &AppState) -> (String, String, String, String) {
    let cart = app.anonymous_cart().await;
    let ops = json!([
        {"op": "add", "sku": BEAM, "quantity": 1},
        {"op": "set_address", "address": {"postcode": "10115"}},
        {"op": "choose_delivery", "level": "standard"}
    ]);
    app.edit_now(&cart, &ops, None).await;
    let total = app.server_total(&cart, None).await;
    let body = checkout_body(&cart, &total, test_cards::SUCCESS);
    let reply = app.checkout(&format!("k-{cart}"), &body, None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let number = reply.json["order"]["number"].as_str().unwrap().to_owned();
    let token = reply.json["guest_token"].as_str().unwrap().to_owned();
    let id = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap()
        .id;
    let row = of_order(&state.db, &id).await.unwrap().remove(0);
    assert_eq!(row.fulfilment.location, BAD_HERSFELD);
    (id, number, token, row.id)
}

async fn send(app: &TestApp, path: &str, body: &Value, key: Option<&str>) -> Reply {
    let mut request = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header(axum::http::header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header(omnicart_api::INTEGRATION_KEY_HEADER, key);
    }
    let body = axum::body::Body::from(body.to_string());
    app.raw(request.body(body).unwrap()).await
}

async fn propose(app: &TestApp, fulfilment: &str, sku: &str) -> Reply {
    let path = omnicart_api::routes::FULFILMENT_SUBSTITUTIONS.replace("{id}", fulfilment);
    send(app, &path, &json!({"line": 0, "sku": sku}), Some(KEY)).await
}

async fn answer(app: &TestApp, number: &str, id: &str, token: &str, accept: bool) -> Reply {
    let path = omnicart_api::routes::ORDER_SUBSTITUTION
        .replace("{number}", number)
        .replace("{id}", id);
    let path = format!("{path}?token={token}");
    send(app, &path, &json!({"accept": accept}), None).await
}

/// Units of `sku` reserved at `location` (the stock row, and what orders hold).
async fn held(state: &AppState, location: &str, sku: &str) -> (i64, i64) {
    let reserved: i64 =
        sqlx::query_scalar("SELECT reserved FROM stock WHERE location = $1 AND sku = $2")
            .bind(location)
            .bind(sku)
            .fetch_one(state.db.pool())
            .await
            .unwrap();
    let by_orders: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM stock_reservations WHERE location = $1 AND sku = $2",
    )
    .bind(location)
    .bind(sku)
    .fetch_one(state.db.pool())
    .await
    .unwrap();
    (reserved, by_orders)
}

fn minor(amount: &Value) -> i64 {
    let text = amount.as_str().unwrap();
    let (units, cents) = text.split_once('.').unwrap();
    units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

#[tokio::test]
async fn an_accepted_cheaper_substitute_ships_instead_and_only_its_price_is_captured() {
    let (app, state) = keyed_app().await;
    let (order_id, number, token, fulfilment) = placed(&app, &state).await;
    let proposed = propose(&app, &fulfilment, CABLE).await;
    assert_eq!(proposed.status, StatusCode::OK, "{:?}", proposed.json);
    assert_eq!(proposed.json["state"], "proposed");
    let (charged, original) = (
        minor(&proposed.json["charged"]),
        minor(&proposed.json["original"]),
    );
    assert!(
        charged < original,
        "the cable is the cheaper: {:?}",
        proposed.json
    );
    let id = proposed.json["id"].as_str().unwrap().to_owned();
    // One waits per line.
    let again = propose(&app, &fulfilment, ARC).await;
    assert_eq!(again.code(), "substitution_decided");
    // The order's page shows it, to the order's shopper only.
    let page = app
        .get(&format!("/api/orders/{number}?token={token}"), None)
        .await;
    assert_eq!(page.json["substitutions"][0]["id"], id.as_str());
    let stranger = answer(&app, &number, &id, "not-the-token", true).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);

    let accepted = answer(&app, &number, &id, &token, true).await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.json);
    assert_eq!(accepted.json["state"], "accepted");
    assert_eq!(held(&state, BAD_HERSFELD, BEAM).await, (0, 0));
    assert_eq!(held(&state, BAD_HERSFELD, CABLE).await, (1, 1));
    let row = of_order(&state.db, &order_id).await.unwrap().remove(0);
    assert_eq!(row.fulfilment.lines()[0].sku, CABLE);
    assert_eq!(row.fulfilment.lines()[0].ordered_sku(), BEAM);
    // The same answer again changes nothing; the other answer is refused.
    let replay = answer(&app, &number, &id, &token, true).await;
    assert_eq!(replay.json["state"], "accepted");
    assert_eq!(held(&state, BAD_HERSFELD, CABLE).await, (1, 1));
    let contrary = answer(&app, &number, &id, &token, false).await;
    assert_eq!(
        (contrary.status, contrary.code()),
        (StatusCode::CONFLICT, "substitution_decided")
    );

    // Shipping captures the total less what the substitute costs less than the soundbar.
    let at = omnicart_engine::Timestamp::from_unix(1_900_000_000);
    for to in [
        omnicart_order::FulfilmentState::Picking,
        omnicart_order::FulfilmentState::Packed,
    ] {
        apply(&state, "wms", &fulfilment, Action::To(to), at)
            .await
            .unwrap();
    }
    let parcel = Parcel {
        carrier: "DHL".into(),
        tracking_number: "1".into(),
        label: String::new(),
    };
    apply(&state, "wms", &fulfilment, Action::Ship(parcel), at)
        .await
        .unwrap();
    let order = orders::by_number(&state.db, &number)
        .await
        .unwrap()
        .unwrap()
        .order;
    let total = order.totals.total.to_minor().unwrap();
    assert_eq!(
        order.payment.captured().to_minor(),
        Some(total - (original - charged))
    );
    assert_eq!(order.payment.capturable().to_minor(), Some(0));
}

#[tokio::test]
async fn a_dearer_substitute_costs_the_ordered_price_and_a_declined_one_is_sourced_again() {
    let (app, state) = keyed_app().await;
    let (order_id, number, token, fulfilment) = placed(&app, &state).await;
    let proposed = propose(&app, &fulfilment, ARC).await;
    assert_eq!(proposed.status, StatusCode::OK, "{:?}", proposed.json);
    assert_eq!(
        proposed.json["charged"], proposed.json["original"],
        "never more than ordered"
    );
    let id = proposed.json["id"].as_str().unwrap().to_owned();
    let declined = answer(&app, &number, &id, &token, false).await;
    assert_eq!(declined.status, StatusCode::OK, "{:?}", declined.json);
    assert_eq!(declined.json["state"], "declined");
    // Rejected at Bad Hersfeld, sent from Dortmund instead, its unit held there.
    assert_eq!(held(&state, BAD_HERSFELD, BEAM).await, (0, 0));
    assert_eq!(held(&state, DORTMUND, BEAM).await, (1, 1));
    assert_eq!(held(&state, BAD_HERSFELD, ARC).await, (0, 0));
    let rows = of_order(&state.db, &order_id).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].fulfilment.location, DORTMUND);

    // Refusals: a SKU that is not goods, a line that does not exist.
    let service = propose(&app, &rows[1].id, "SVC-SETUP").await;
    assert_eq!(service.code(), "unknown_sku");
    let path = omnicart_api::routes::FULFILMENT_SUBSTITUTIONS.replace("{id}", &rows[1].id);
    let nowhere = send(&app, &path, &json!({"line": 4, "sku": CABLE}), Some(KEY)).await;
    assert_eq!(nowhere.code(), "unknown_line");
}
