//! `POST /api/checkout` (`CheckoutRequest`, `Idempotency-Key`),
//! `POST /api/checkout/{id}/complete` (`ChallengeCompletion`, `Idempotency-Key`), `GET /api/orders`,
//! `GET /api/orders/{number}`, `POST /api/orders/{number}/cancel`; the rules are
//! [`crate::service::checkout`]'s and [`crate::service::orders`]'s. A checkout's (and a
//! completion's) answer is sent as the bytes stored for its key, so a replay is identical.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use omnicart_api::{
    ChallengeCompletion, CheckoutRequest, IDEMPOTENCY_KEY, OrderList, OrderView, routes,
};
use serde::Deserialize;

use crate::AppState;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::{ApiJson, AppError, api_path};
use crate::service::{Caller, checkout, orders};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(api_path(routes::CHECKOUT), post(place))
        .route(api_path(routes::CHECKOUT_COMPLETE), post(complete))
        .route(api_path(routes::ORDERS), get(list))
        .route(api_path(routes::ORDER), get(read))
        .route(api_path(routes::ORDER_CANCEL), post(cancel))
}

async fn place(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(request): ApiJson<CheckoutRequest>,
) -> Result<Response, AppError> {
    let key = headers.get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok());
    let answer = checkout::place(&state, &caller, key, request).await?;
    Ok(stored(answer))
}

async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(completion): ApiJson<ChallengeCompletion>,
) -> Result<Response, AppError> {
    let key = headers.get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok());
    let answer = checkout::complete(&state, &caller, &id, key, completion).await?;
    Ok(stored(answer))
}

/// An answer as it was stored for its key.
fn stored(answer: checkout::Answer) -> Response {
    let content_type = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )];
    (answer.status, content_type, answer.body).into_response()
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<u32>,
}

/// A guest's capability to an order.
#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<OrderList>, AppError> {
    Ok(Json(orders::list(&state, &caller, query.page).await?))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Result<Json<OrderView>, AppError> {
    let view = orders::read(&state, &caller, &number, query.token.as_deref()).await?;
    Ok(Json(view))
}

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Result<Json<OrderView>, AppError> {
    let view = orders::cancel(&state, &caller, &number, query.token.as_deref()).await?;
    Ok(Json(view))
}
