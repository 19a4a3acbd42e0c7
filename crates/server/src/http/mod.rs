//! The HTTP layer: [`app`] merges one `router()` per resource under `/api` ([`catalogue`],
//! [`carts`], [`events`] (a cart's live versions), [`sync`], [`auth`], [`checkout`] (placement and orders), [`openapi`] (the
//! document of it all)), serves the built storefront for every other path, and
//! wraps it all in request ids and tracing ([`request_id`]) and the security headers
//! ([`headers`]), and, for the origins configured, CORS ([`cors`]). Handlers only extract
//! ([`extract`]: [`ApiJson`], the `Caller`; [`integration`]: the key of a staff or
//! integration endpoint), call a service and answer; every refusal is an
//! [`AppError`] ([`error`]). [`dev_mail`] is a developer page the binary mounts beside it.

pub mod appointments;
pub mod auth;
pub mod carts;
pub mod catalogue;
pub mod checkout;
pub mod cors;
pub mod dev_mail;
pub mod edits;
pub mod error;
pub mod events;
pub mod extract;
pub mod fulfilment;
pub mod headers;
pub mod integration;
pub mod messages;
pub mod openapi;
pub mod request_id;
pub mod supply;
pub mod sync;
pub mod webhooks;

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode};
use omnicart_api::{MAX_BODY_BYTES, code, routes};
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

use crate::AppState;
pub use crate::error::AppError;
pub use extract::ApiJson;

/// The whole application. `dist` is the storefront built by Trunk; `None` serves the API only.
pub fn app(state: AppState, dist: Option<&Path>) -> Router {
    let api = Router::new()
        .merge(catalogue::router())
        .merge(carts::router())
        .merge(events::router())
        .merge(sync::router())
        .merge(auth::router())
        .merge(checkout::router())
        .merge(edits::router())
        .merge(fulfilment::router())
        .merge(supply::router())
        .merge(messages::router())
        .merge(appointments::router())
        .merge(webhooks::router())
        .merge(openapi::router())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(|| async { AppError::not_found("API endpoint") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let cors = cors::layer(&state.cors_origins);
    let api = headers::no_store(api.with_state(state)).layer(CompressionLayer::new());
    let api = match cors {
        Some(cors) => api.layer(cors),
        None => api,
    };
    let router = Router::new().nest(routes::PREFIX, api);
    let router = match dist {
        Some(dist) => router.fallback_service(headers::storefront_caching(
            Router::new().fallback_service(storefront(dist)),
        )),
        None => router.fallback(|| async {
            AppError::new(
                StatusCode::NOT_FOUND,
                code::NOT_FOUND,
                "no storefront built",
            )
        }),
    };
    let csp = headers::policy_for(dist.map(|d| d.join("index.html")).as_deref());
    headers::layer(request_id::layer(router), csp)
}

/// A route that exists, asked with a method it does not take: the JSON error shape (axum
/// adds the `Allow` header).
async fn method_not_allowed(method: Method) -> AppError {
    let message = format!("{method} is not allowed here; the Allow header lists what is");
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        code::METHOD_NOT_ALLOWED,
        message,
    )
}

/// A route of `omnicart_api::routes` as the API router, nested under
/// [`routes::PREFIX`], registers it. A path missing from [`routes::ALL`] is a programmer
/// error: every route is listed there, and the OpenAPI document's test checks the list.
fn api_path(route: &'static str) -> &'static str {
    assert!(
        routes::is_listed(route),
        "{route} is not in omnicart_api::routes::ALL (nor, then, in the OpenAPI document)"
    );
    route
        .strip_prefix(routes::PREFIX)
        .expect("every API route is under the API prefix")
}

/// Static files of the storefront; any unknown path gets `index.html` (200) so client-side
/// routes (`/product/…`, `/cart`) survive a reload. Files are sent as their brotli or gzip
/// copy where the client takes it and the build made one (`scripts/precompress.mjs`, run by
/// Trunk after every build); API answers are compressed per request instead
/// (`CompressionLayer`: brotli at quality 4 or gzip, not event streams).
fn storefront(dist: &Path) -> ServeDir<ServeFile> {
    let index: PathBuf = dist.join("index.html");
    ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(index)
                .precompressed_br()
                .precompressed_gzip(),
        )
}
