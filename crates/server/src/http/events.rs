//! `GET /api/carts/{id}/events`: a cart's new versions as server-sent events, one stream per
//! tab. Each event is `cart`, its id the version (a browser reconnecting sends it back as
//! `Last-Event-ID`, so a change made while it was away arrives at once) and its data
//! `{"version":N}`; the page pulls the cart on it. Comments every 15 s keep proxies from
//! closing an idle stream; the stream ends when the server shuts down
//! ([`crate::store::changes::Changes::close`]). Never compressed: `CompressionLayer` passes
//! `text/event-stream` through (a compressor would hold events back in its buffer).

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use omnicart_api::routes;

use crate::AppState;
use crate::http::{AppError, api_path};
use crate::service::Caller;
use crate::service::live::{self, Live};

/// How long a browser waits before reconnecting a dropped stream (the `retry` field).
pub const RECONNECT_AFTER: Duration = Duration::from_secs(1);

pub fn router() -> Router<AppState> {
    Router::new().route(api_path(routes::CART_EVENTS), get(events))
}

async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let last_seen: Option<i64> = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let live = live::watch(&state, &caller, &id).await?;
    // The current version first, unless the client has it already.
    let first = match last_seen {
        Some(seen) if seen >= live.version => None,
        _ => Some(live.version),
    };
    let after = last_seen.unwrap_or(i64::MIN).max(live.version);
    let stream = futures_util::stream::unfold(
        (live, first, after),
        |(mut live, first, after): (Live, Option<i64>, i64)| async move {
            let version = match first {
                Some(version) => version,
                None => live.watch.next_after(after).await?,
            };
            let event = Event::default()
                .event("cart")
                .id(version.to_string())
                .retry(RECONNECT_AFTER)
                .data(format!("{{\"version\":{version}}}"));
            Some((Ok(event), (live, None, after.max(version))))
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
