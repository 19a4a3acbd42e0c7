//! Routing after placement, for staff and integrations behind the integration key
//! ([`Integration`]): a location rejects lines of its fulfilment order
//! ([`crate::service::resourcing`]); the inventory feed ([`crate::service::inventory`]).

use axum::extract::State;
use axum::routing::{post, put};
use axum::{Json, Router};
use omnicart_api::{InventoryFeed, InventoryReply, RejectionReply, RejectionRequest, routes};

use crate::AppState;
use crate::http::extract::ApiPath;
use crate::http::integration::Integration;
use crate::http::{ApiJson, AppError, api_path};
use crate::service::{inventory, resourcing};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(api_path(routes::FULFILMENT_REJECTIONS), post(reject))
        .route(api_path(routes::INVENTORY), put(feed))
}

async fn feed(
    State(state): State<AppState>,
    _by: Integration,
    ApiJson(feed): ApiJson<InventoryFeed>,
) -> Result<Json<InventoryReply>, AppError> {
    Ok(Json(inventory::apply(&state, &feed).await?))
}

async fn reject(
    State(state): State<AppState>,
    by: Integration,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<RejectionRequest>,
) -> Result<Json<RejectionReply>, AppError> {
    let at = omnicart_engine::Timestamp::from_unix(crate::ids::now_unix());
    let reply = resourcing::reject(&state, &by.name, &id, request, at).await?;
    Ok(Json(reply))
}
