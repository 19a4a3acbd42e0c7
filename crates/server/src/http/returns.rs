//! The return endpoints: the shopper's request on their order (the caller rules of the
//! order's own page), and the location's receipt, the refund's retry and the return rates
//! behind the integration key ([`Integration`]). Each answer is the service's
//! ([`crate::service::returns`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use omnicart_api::{ReceiveRequest, ReturnRates, ReturnRequest, ReturnView, routes};
use serde::Deserialize;

use crate::AppState;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::integration::Integration;
use crate::http::{ApiJson, AppError, api_path};
use crate::service::{Caller, returns};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(api_path(routes::ORDER_RETURNS), post(request))
        .route(api_path(routes::RETURN_RECEIVE), post(receive))
        .route(api_path(routes::RETURN_REFUND), post(refund))
        .route(api_path(routes::RETURN_RATES), get(rates))
}

/// A guest's capability to an order.
#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

fn now() -> omnicart_engine::Timestamp {
    omnicart_engine::Timestamp::from_unix(crate::ids::now_unix())
}

async fn request(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiQuery(query): ApiQuery<TokenQuery>,
    ApiJson(body): ApiJson<ReturnRequest>,
) -> Result<(StatusCode, Json<ReturnView>), AppError> {
    let token = query.token.as_deref();
    let view = returns::request(&state, &caller, &number, token, body, now()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn receive(
    State(state): State<AppState>,
    by: Integration,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReceiveRequest>,
) -> Result<Json<ReturnView>, AppError> {
    Ok(Json(
        returns::receive(&state, &by.name, &id, body, now()).await?,
    ))
}

async fn refund(
    State(state): State<AppState>,
    by: Integration,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ReturnView>, AppError> {
    Ok(Json(returns::refund(&state, &by.name, &id, now()).await?))
}

async fn rates(
    State(state): State<AppState>,
    _by: Integration,
) -> Result<Json<ReturnRates>, AppError> {
    Ok(Json(returns::rates(&state).await?))
}
