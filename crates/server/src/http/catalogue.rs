//! The snapshot feed: `GET /api/snapshot` serves the catalogue the engine in the page loads,
//! with the database's stock in it ([`crate::service::stock::snapshot`]), and an ETag that
//! changes when the stock does, so a returning shopper's browser revalidates instead of
//! downloading it again.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use omnicart_api::routes;

use crate::AppState;
use crate::error::AppError;
use crate::http::api_path;
use crate::service::stock;

pub fn router() -> Router<AppState> {
    Router::new().route(api_path(routes::SNAPSHOT), get(snapshot))
}

async fn snapshot(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let feed = stock::snapshot(&state).await?;
    let etag = feed.etag;
    let cache = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            // If-None-Match compares weakly (RFC 9110 §13.1.2): a cache that compressed the
            // answer may hand back `W/"…"`.
            v.split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
        });
    if fresh {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let content_type = (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok((cache, [content_type], feed.json).into_response())
}
