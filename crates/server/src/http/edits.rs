//! `POST /api/orders/{number}/edits/preview` and `POST /api/orders/{number}/edits`
//! (`OrderEditRequest`; the commit with an `Idempotency-Key`): the shopper by their session
//! or a guest's token, or a call-centre agent by an integration key (`X-Integration-Key`;
//! an unknown key is 401, never the shopper's way). The rules are
//! [`crate::service::edits`]'s; a commit's answer is sent as the bytes stored for its key.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use omnicart_api::{IDEMPOTENCY_KEY, OrderEditPreview, OrderEditRequest, routes};
use serde::Deserialize;

use crate::AppState;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::integration::agent;
use crate::http::{ApiJson, AppError, api_path};
use crate::service::Caller;
use crate::service::edits;
use crate::service::orders::Asker;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(api_path(routes::ORDER_EDIT_PREVIEW), post(preview))
        .route(api_path(routes::ORDER_EDITS), post(commit))
}

/// A guest's capability to an order.
#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(number): ApiPath<String>,
    ApiQuery(query): ApiQuery<TokenQuery>,
    ApiJson(request): ApiJson<OrderEditRequest>,
) -> Result<Json<OrderEditPreview>, AppError> {
    let agent = agent(&state, &headers)?;
    let editor = Asker::new(
        agent.as_ref().map(|a| &*a.name),
        &caller,
        query.token.as_deref(),
    );
    Ok(Json(
        edits::preview(&state, &editor, &number, &request).await?,
    ))
}

async fn commit(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(number): ApiPath<String>,
    ApiQuery(query): ApiQuery<TokenQuery>,
    ApiJson(request): ApiJson<OrderEditRequest>,
) -> Result<Response, AppError> {
    let agent = agent(&state, &headers)?;
    let editor = Asker::new(
        agent.as_ref().map(|a| &*a.name),
        &caller,
        query.token.as_deref(),
    );
    let key = headers.get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok());
    let answer = edits::commit(&state, &editor, &number, key, &request).await?;
    let content_type = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )];
    Ok((answer.status, content_type, answer.body).into_response())
}
