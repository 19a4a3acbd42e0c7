//! `POST /api/carts/{id}/sync` (`SyncRequest`, answered with `SyncReply`); the rules are
//! [`crate::service::sync`]'s. The operations are read as raw JSON here and one by one by the
//! service, so a refusal names the operation's index.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use omnicart_api::{SyncReply, SyncRequest, routes};
use serde_json::Value;

use crate::AppState;
use crate::http::extract::ApiPath;
use crate::http::{ApiJson, AppError, api_path};
use crate::service::limits::ClientAddr;
use crate::service::{Caller, sync};

pub fn router() -> Router<AppState> {
    Router::new().route(api_path(routes::CART_SYNC), post(handle))
}

async fn handle(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<SyncRequest<Value>>,
) -> Result<Json<SyncReply>, AppError> {
    state.limits.sync(client, &id)?;
    Ok(Json(sync::sync(&state, &caller, id, request).await?))
}
