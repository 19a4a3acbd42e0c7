//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the whole API, built once from the
//! contract's types (`omnicart_api::openapi::document`) and served as the same bytes after.

use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use omnicart_api::routes;

use crate::AppState;
use crate::http::api_path;

pub fn router() -> Router<AppState> {
    Router::new().route(api_path(routes::OPENAPI), get(document))
}

/// The document as JSON, serialized on first use.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        omnicart_api::openapi::document()
            .to_json()
            .expect("the OpenAPI document serializes")
    })
}

async fn document() -> Response {
    let content_type = (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    ([content_type], json()).into_response()
}
