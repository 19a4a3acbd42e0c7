//! Live cart updates: watching a cart for its next versions (`GET /api/carts/{id}/events`).
//! Who may watch is who may read ([`carts::read`]: another customer's cart is not found);
//! open watches are limited ([`Streams`]); the versions come from the store's feed
//! ([`crate::store::changes`]: this process's commits and, on PostgreSQL, every process's).

use std::sync::Arc;

use axum::http::StatusCode;
use omnicart_api::code;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::AppState;
use crate::error::AppError;
use crate::service::{Caller, carts};
use crate::store::changes::Watch;

/// Open event streams of this process (`OMNICART_MAX_STREAMS`): each holds a permit.
#[derive(Clone, Debug)]
pub struct Streams {
    permits: Arc<Semaphore>,
}

impl Streams {
    pub fn new(max: usize) -> Streams {
        Streams {
            permits: Arc::new(Semaphore::new(max)),
        }
    }
}

/// One open watch of a cart: what the stream sends from, and its place among [`Streams`].
pub struct Live {
    pub watch: Watch,
    /// The cart's version when the watch began (after it subscribed: nothing is missed).
    pub version: i64,
    _permit: OwnedSemaphorePermit,
}

/// Starts watching cart `id` for `caller`: 503 `too_many_streams` when this process has
/// its limit of streams open; 404 for a cart the caller may not read.
pub async fn watch(state: &AppState, caller: &Caller, id: &str) -> Result<Live, AppError> {
    let permit = Arc::clone(&state.streams.permits)
        .try_acquire_owned()
        .map_err(|_| {
            AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                code::TOO_MANY_STREAMS,
                "this server has as many event streams open as it takes; poll the cart instead",
            )
            .with_retry_after(RETRY_AFTER_SECONDS)
        })?;
    // Subscribe before reading, so a change committed in between is seen by one or the other.
    let watch = state.db.changes().watch(id);
    let view = carts::read(state, caller, id).await?;
    Ok(Live {
        watch,
        version: view.version,
        _permit: permit,
    })
}

/// When a refused stream may try again.
pub const RETRY_AFTER_SECONDS: i64 = 5;
