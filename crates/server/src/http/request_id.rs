//! Request ids: every request has one (`x-request-id`), echoed in the response, carried by
//! the request's tracing span (so every log line of the request names it) and by the body of
//! a 5xx ([`crate::http::AppError`]), so a shopper's report of a failure finds its log lines.
//!
//! A caller's own id (a proxy's, a client's) is kept if it is short and plain
//! ([`is_safe`]): it goes into logs and headers as it is. Anything else is replaced by a
//! fresh random one.

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::ids::random_id;

/// The header that carries the id, both ways.
pub const HEADER: &str = "x-request-id";
/// Longest id accepted from a caller.
pub const MAX_LEN: usize = 64;

tokio::task_local! {
    /// The id of the request being handled, for the error body of a 5xx.
    static CURRENT: String;
}

/// The id of the request being handled, inside [`layer`]'s layers.
pub fn current() -> Option<String> {
    CURRENT.try_with(String::clone).ok()
}

/// Whether a caller's id may be kept: 1 to [`MAX_LEN`] ASCII letters, digits, `-`, `_`, `.`.
pub fn is_safe(id: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Wraps `router` (its fallback included) so each request gets an id, a span and the id in
/// its response.
pub fn layer(router: Router) -> Router {
    // The last layer added sees the request first.
    router
        .layer(middleware::from_fn(in_scope))
        .layer(TraceLayer::new_for_http().make_span_with(span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(Fresh))
        .layer(middleware::map_request(drop_unsafe))
}

/// A new random id (a caller's unsafe one was dropped first by [`drop_unsafe`]).
#[derive(Clone, Copy)]
struct Fresh;

impl MakeRequestId for Fresh {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&random_id(""))
            .ok()
            .map(RequestId::new)
    }
}

async fn drop_unsafe(mut request: Request) -> Request {
    let headers = request.headers_mut();
    if headers
        .get(HEADER)
        .is_some_and(|id| !is_safe(id.as_bytes()))
    {
        headers.remove(HEADER);
    }
    request
}

/// The request's span. The path is left out: a cart's id in it is that cart's capability.
fn span(request: &Request) -> tracing::Span {
    let id = id_of(request).unwrap_or_default();
    tracing::info_span!("request", id = %id, method = %request.method())
}

async fn in_scope(request: Request, next: Next) -> Response {
    let id = id_of(&request).unwrap_or_default();
    CURRENT.scope(id, next.run(request)).await
}

fn id_of(request: &Request) -> Option<String> {
    let id = request.extensions().get::<RequestId>()?;
    id.header_value().to_str().ok().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::is_safe;

    #[test]
    fn only_short_plain_ids_are_kept() {
        for kept in ["a", "0f3c-44_ab.9", &"x".repeat(64)] {
            assert!(is_safe(kept.as_bytes()), "{kept}");
        }
        for dropped in ["", "a b", "id\nFORGED: 1", "é", "<script>", &"x".repeat(65)] {
            assert!(!is_safe(dropped.as_bytes()), "{dropped:?}");
        }
    }
}
