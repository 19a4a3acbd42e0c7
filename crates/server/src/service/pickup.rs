//! Pickup in store: the code, its check and the sweeper of uncollected orders.
//!
//! - **The code.** Moving a pickup order to `ready_for_pickup` derives a code of eight
//!   Crockford base32 characters from the fulfilment order's id under the server's pickup key
//!   ([`crate::ids::derived_pickup_code`]: HMAC-SHA256; the key is `OMNICART_PICKUP_SECRET`,
//!   or one generated once per database, [`key`]), stores only its digest (salted with the
//!   fulfilment order's id) and mails the code to the order's contact, in the transaction of
//!   the move (the mail outbox). Because it is derived, `GET /api/orders/{number}` shows it
//!   again to the order's shopper while the pickup is ready ([`shown_code`]), and only then;
//!   collecting still checks the stored digest.
//! - **Collecting.** `collected` carries the code; a wrong one is refused
//!   (`wrong_pickup_code`) and counted on the fulfilment order, committed although the
//!   request is refused; after `omnicart_order::MAX_PICKUP_ATTEMPTS` wrong codes every code is
//!   refused (`pickup_locked`), the right one too.
//! - **Expiry.** A pickup order still `ready_for_pickup` `OMNICART_PICKUP_DAYS` after it became
//!   ready is expired by [`expire_uncollected`], one transaction each under the fulfilment
//!   order's lock: the fulfilment order goes to `expired`, the order is cancelled, every unit
//!   its checkout attempt reserved is given back to the stock at once, and the authorization
//!   is voided through the provider and recorded on the ledger as `void:{attempt}`. The rule
//!   of the money: a pickup order captures nothing before it is collected (only shipping
//!   captures), so expiry releases the whole authorization; nothing is refunded. A second or
//!   concurrent sweep finds the order no longer ready, under the same lock, and does nothing.

use std::time::Duration;

use omnicart_engine::Timestamp;
use omnicart_order::{Actor, FulfilmentState, Request, Role};

use crate::AppState;
use crate::error::AppError;
use std::sync::Arc;

use crate::ids::{derived_pickup_code, now_unix, pickup_code_hash};
use crate::service::fulfilment::refused;
use crate::store::WriteTx;
use crate::store::checkout::{self as held, CANCELLED, ORDERED};
use crate::store::fulfilment::{self as store, FulfilmentRow};
use crate::store::mail::{self, Mail};
use crate::store::orders;

/// How often the sweeper looks for uncollected pickups.
pub const SWEEP_EVERY: Duration = Duration::from_secs(600);
/// Most pickup orders one sweep expires (the next sweep takes the rest).
const SWEEP_BATCH: i64 = 200;

/// Whether `code` is the pickup code of `row` (none issued: nothing matches).
pub fn code_matches(row: &FulfilmentRow, code: &str) -> bool {
    let given = pickup_code_hash(&row.id, code);
    row.pickup_code_hash
        .as_deref()
        .is_some_and(|stored| constant_time_eq(stored.as_bytes(), given.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The key pickup codes are derived from: the configured secret, else the database's
/// generated one, read once per process. Ask for it before opening a write transaction (on
/// SQLite the first call writes).
pub async fn key(state: &AppState) -> Result<Arc<[u8]>, AppError> {
    let key = state
        .pickup_key
        .get_or_try_init(|| async {
            let secret = match &state.pickup_secret {
                Some(secret) => secret.to_string(),
                None => crate::store::server_keys::key(&state.db, "pickup").await?,
            };
            Ok::<_, AppError>(Arc::from(secret.into_bytes()))
        })
        .await?;
    Ok(key.clone())
}

/// The code of `row` to show its shopper: while it is ready for pickup, and only if it is the
/// code that was issued (stored digest), formatted as mailed (`ABCD-EFGH`).
pub fn shown_code(key: &[u8], row: &FulfilmentRow) -> Option<String> {
    if row.fulfilment.state() != FulfilmentState::ReadyForPickup {
        return None;
    }
    let code = derived_pickup_code(key, &row.id);
    code_matches(row, &code).then(|| {
        let (first, second) = code.split_at(4);
        format!("{first}-{second}")
    })
}

/// Issues the pickup code of `row` (just made ready) under `key`: mails it to the order's
/// contact in `tx` and returns the digest to store.
pub async fn issue(tx: &mut WriteTx, row: &FulfilmentRow, key: &[u8]) -> Result<String, AppError> {
    let order = orders::lock_by_id(tx, &row.order_id)
        .await?
        .ok_or_else(|| AppError::internal("a fulfilment order without its order"))?;
    let code = derived_pickup_code(key, &row.id);
    let number = order.order.number.to_string();
    let (first, second) = code.split_at(4);
    let text = format!(
        "Hello {},\n\nyour order {number} is ready for pickup at {}.\n\
         Show this code at the counter: {first}-{second}\n",
        order.order.contact.name, row.fulfilment.location
    );
    let html = format!(
        "<p>Your order {number} is ready for pickup at {}.</p>\
         <p>Show this code at the counter: <strong>{first}-{second}</strong></p>",
        row.fulfilment.location
    );
    let mail = Mail {
        recipient: order.order.contact.email.clone(),
        subject: format!("Order {number} is ready for pickup"),
        text,
        html,
    };
    mail::insert(tx, &row.order_id, &mail).await?;
    Ok(pickup_code_hash(&row.id, &code))
}

/// Expires every pickup order ready since before `now − days`: see the module docs. Returns
/// how many this call expired.
pub async fn expire_uncollected(
    state: &AppState,
    now: Timestamp,
    days: u32,
) -> Result<usize, AppError> {
    let before = now.unix() - i64::from(days) * 86_400;
    let ids = store::ready_before(&state.db, before, SWEEP_BATCH).await?;
    let mut expired = 0;
    for id in ids {
        if expire(state, &id, now).await? {
            expired += 1;
        }
    }
    Ok(expired)
}

async fn expire(state: &AppState, id: &str, now: Timestamp) -> Result<bool, AppError> {
    let mut tx = state.db.begin_write().await?;
    let Some(mut row) = store::lock(&mut tx, id).await? else {
        return Ok(false);
    };
    if row.fulfilment.state() != FulfilmentState::ReadyForPickup {
        return Ok(false);
    }
    let actor = Actor::new(Role::System, "pickup-sweeper");
    let request = Request::new(actor, now, "not collected in time");
    row.fulfilment
        .transition(FulfilmentState::Expired, request.clone())
        .map_err(|e| refused(&e))?;
    let mut order = orders::lock_by_id(&mut tx, &row.order_id)
        .await?
        .ok_or_else(|| AppError::internal("a fulfilment order without its order"))?;
    let provider = state
        .payments
        .get(&order.order.provider)
        .ok_or_else(|| AppError::internal("the order's provider is gone"))?;
    provider
        .void(&order.attempt_id)
        .await
        .map_err(|e| AppError::internal(format!("void: {e:?}")))?;
    order
        .order
        .cancel(request, &format!("void:{}", order.attempt_id))
        .map_err(|e| AppError::internal(format!("expire: {e}")))?;
    held::release(&mut tx, &order.attempt_id, ORDERED, CANCELLED).await?;
    orders::update(&mut tx, &order.id, &order.order).await?;
    store::update(&mut tx, &row, None).await?;
    tx.commit().await?;
    Ok(true)
}

/// Runs [`expire_uncollected`] every [`SWEEP_EVERY`] (a failed sweep is logged and retried).
pub fn spawn_sweeper(state: AppState, days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            let now = Timestamp::from_unix(now_unix());
            match expire_uncollected(&state, now, days).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "uncollected pickups expired"),
                Err(e) => tracing::warn!(error = ?e, "pickup sweep failed"),
            }
        }
    })
}
