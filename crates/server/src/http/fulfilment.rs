//! The staff's and integrations' fulfilment endpoints (issue 16), behind the integration key
//! ([`Integration`]): the list by location, state and order, and a fulfilment order's transitions.
//! Each answer is the service's ([`crate::service::fulfilment`]).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use omnicart_api::{FulfilmentOrderList, FulfilmentOrderView, TransitionRequest, routes};
use serde::Deserialize;

use crate::AppState;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::integration::Integration;
use crate::http::{ApiJson, AppError, api_path};
use crate::service::fulfilment;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(api_path(routes::FULFILMENT_ORDERS), get(list))
        .route(api_path(routes::FULFILMENT_TRANSITIONS), post(transition))
}

#[derive(Deserialize)]
struct Filter {
    location: Option<String>,
    state: Option<String>,
    /// An order's number.
    order: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    _by: Integration,
    ApiQuery(filter): ApiQuery<Filter>,
) -> Result<Json<FulfilmentOrderList>, AppError> {
    let filter = crate::store::fulfilment::Filter {
        location: filter.location.as_deref(),
        state: filter.state.as_deref(),
        order: filter.order.as_deref(),
    };
    let list = fulfilment::list(&state, filter);
    Ok(Json(list.await?))
}

async fn transition(
    State(state): State<AppState>,
    by: Integration,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<TransitionRequest>,
) -> Result<Json<FulfilmentOrderView>, AppError> {
    let action = fulfilment::action(request)?;
    let at = omnicart_engine::Timestamp::from_unix(crate::ids::now_unix());
    let (row, _) = fulfilment::apply(&state, &by.name, &id, action, at).await?;
    Ok(Json(fulfilment::view(&row)))
}
