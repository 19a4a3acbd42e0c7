//! The survey an order's delivery sends and unsubscribing from cart reminders: both open to
//! the holder of the mailed link's token, without signing in; and the survey answers for
//! staff (integration key). The rules are [`crate::service::messages`]'s.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use omnicart_api::{
    SurveyAnswer, SurveyList, SurveyView, UnsubscribeRequest, Unsubscribed, routes,
};

use crate::AppState;
use crate::http::extract::ApiPath;
use crate::http::integration::Integration;
use crate::http::{ApiJson, AppError, api_path};
use crate::service::messages;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(api_path(routes::SURVEY), get(read).post(answer))
        .route(api_path(routes::INTEGRATION_SURVEYS), get(answers))
        .route(api_path(routes::UNSUBSCRIBE), post(unsubscribe))
}

async fn read(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<SurveyView>, AppError> {
    Ok(Json(messages::read(&state, &token).await?))
}

async fn answer(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(request): ApiJson<SurveyAnswer>,
) -> Result<(StatusCode, Json<SurveyView>), AppError> {
    messages::answer(&state, &token, &request).await?;
    Ok((
        StatusCode::CREATED,
        Json(messages::read(&state, &token).await?),
    ))
}

async fn answers(
    State(state): State<AppState>,
    _by: Integration,
) -> Result<Json<SurveyList>, AppError> {
    Ok(Json(messages::answers(&state).await?))
}

async fn unsubscribe(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<UnsubscribeRequest>,
) -> Result<Json<Unsubscribed>, AppError> {
    messages::unsubscribe(&state, &request.token).await?;
    Ok(Json(Unsubscribed { unsubscribed: true }))
}
