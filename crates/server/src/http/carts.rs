//! `POST /api/carts`, `GET /api/carts/{id}`, `POST /api/carts/{id}/ops` (`EditRequest`); the
//! rules are [`crate::service::carts`]'s, after the rate limits ([`crate::service::limits`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use omnicart_api::{CartView, EditRequest, routes};

use crate::AppState;
use crate::http::extract::ApiPath;
use crate::http::{ApiJson, AppError, api_path};
use crate::service::limits::ClientAddr;
use crate::service::{Caller, carts};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(api_path(routes::CARTS), post(create))
        .route(api_path(routes::CART), get(read))
        .route(api_path(routes::CART_OPS), post(edit))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddr,
) -> Result<(StatusCode, Json<CartView>), AppError> {
    state
        .limits
        .create_cart(client, caller.customer_id.as_deref())?;
    let view = carts::create(&state, &caller).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CartView>, AppError> {
    Ok(Json(carts::read(&state, &caller, &id).await?))
}

async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<EditRequest>,
) -> Result<Json<CartView>, AppError> {
    state.limits.sync(client, &id)?;
    Ok(Json(carts::edit(&state, &caller, &id, request).await?))
}
