//! The staff's and integrations' view of the events sent to other systems (issue 17), behind
//! the integration key: the list (the dead letters among them) and a replay. The rules are
//! [`crate::service::webhooks`]'s.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use omnicart_api::{EventList, EventRecord, routes};
use serde::Deserialize;

use crate::AppState;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::integration::Integration;
use crate::http::{AppError, api_path};
use crate::service::webhooks;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(api_path(routes::INTEGRATION_EVENTS), get(list))
        .route(api_path(routes::INTEGRATION_EVENT_REPLAY), post(replay))
}

#[derive(Deserialize)]
struct Filter {
    /// An order's number.
    order: Option<String>,
    /// `pending`, `delivered` or `dead`.
    state: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    _by: Integration,
    ApiQuery(filter): ApiQuery<Filter>,
) -> Result<Json<EventList>, AppError> {
    let list = webhooks::list(&state.db, filter.order.as_deref(), filter.state.as_deref());
    Ok(Json(list.await?))
}

async fn replay(
    State(state): State<AppState>,
    _by: Integration,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<EventRecord>, AppError> {
    Ok(Json(webhooks::replay(&state.db, &id).await?))
}
