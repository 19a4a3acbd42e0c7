//! Cross-origin use of the API (`OMNICART_CORS_ORIGINS`): tower-http's `CorsLayer` with an
//! allow-list of origins. A listed origin's page may read the API (the public snapshot,
//! and the cart, sync and order APIs with a bearer token in `Authorization`); an unlisted
//! one gets no `Access-Control-Allow-Origin`, so its browser keeps the answer from it.
//! Credentials (cookies) are not allowed across origins: a page elsewhere authenticates with
//! a token, never with the shop's session cookie.

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may keep a preflight's answer.
pub const MAX_AGE_SECONDS: u64 = 600;

/// The layer for `origins`; `None` when there are none (no CORS headers at all).
pub fn layer(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_NONE_MATCH,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("last-event-id"),
            ])
            .expose_headers([
                header::ETAG,
                header::RETRY_AFTER,
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(std::time::Duration::from_secs(MAX_AGE_SECONDS)),
    )
}
