//! Offline-first cart sync: a device pushes the operations it made and pulls those it lacks.
//!
//! A device pushes the operations it made (with their ids, hybrid-logical-clock stamps and
//! device ids; see the engine's `replica` module), the cursor of the last operation of this
//! cart it has, and the compaction generation of its copy of the log. The server stores each
//! operation once (by id: a replayed push changes nothing), replays the log into the cart with
//! the engine's merge rules, and answers with the operations after the cursor (the device's own
//! included; it skips those by id), the new cursor and the merged cart, priced. A pull is a
//! push of no operations.
//!
//! A device whose generation differs from the log's (see compaction in
//! [`crate::store::cart_log`]) gets `base` and every operation after it, and replaces its copy
//! of the log with them (its pending operations stay pending).
//!
//! All or nothing: a push with a malformed operation (400), an unknown SKU, coupon or pickup
//! location (422), too many operations (422) or a body over 64 KiB (413) stores nothing. A cart
//! that is not the caller's is not found (404). A cursor ahead of the server's is refused (409):
//! the device is talking about another cart or another database.

use axum::http::StatusCode;
use omnicart_api::{MAX_OPS_PER_REQUEST, SyncReply, SyncRequest, code};
use omnicart_engine::replica::{Base, Operation};
use omnicart_engine::{Cart, ErrorCode, Snapshot};
use serde_json::Value;

use crate::AppState;
use crate::error::AppError;
use crate::ids::now_millis;
use crate::service::{Caller, carts};
use crate::store::Db;
use crate::store::cart_log::{self, CartRow};
use crate::store::carts::CartRecord;

/// Where a copy of a cart's log stands: a device's (the request without its operations), or
/// the server's.
#[derive(Clone, Copy)]
struct Position {
    cursor: i64,
    generation: i64,
}

/// `POST /api/carts/{id}/sync`.
pub async fn sync(
    state: &AppState,
    caller: &Caller,
    id: String,
    request: SyncRequest<Value>,
) -> Result<SyncReply, AppError> {
    if request.ops.len() > MAX_OPS_PER_REQUEST {
        let message = format!("send at most {MAX_OPS_PER_REQUEST} operations at a time");
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::INVALID_OPS_COUNT,
            message,
        ));
    }
    let position = Position {
        cursor: request.cursor,
        generation: request.generation,
    };
    let (ops, refused) = parse(request.ops, &state.catalogue.snapshot)?;
    if !refused.is_empty() {
        // An operation the log already has is answered as stored, even if the catalogue has
        // changed since (its reply was lost, and the device is sending it again).
        let ids: Vec<&str> = refused.iter().map(|r| ops[r.index].id.as_str()).collect();
        let known = cart_log::stored_ids(&state.db, &id, &ids).await?;
        if let Some(refusal) = refused
            .into_iter()
            .find(|r| !known.contains(&ops[r.index].id))
        {
            return Err(refusal.error);
        }
    }
    let (owner, exchange) = if ops.is_empty() {
        let row = cart_log::read_row(&state.db, &id)
            .await?
            .ok_or_else(|| AppError::not_found("cart"))?;
        let log = Position {
            cursor: row.log_seq,
            generation: row.generation,
        };
        let owner = allowed(caller, row.owner.clone(), position, log)?;
        (owner, pull(&state.db, &id, row, position).await?)
    } else {
        push(&state.db, &id, &ops, caller, position).await?
    };
    let record = CartRecord {
        id,
        owner,
        version: exchange.version,
        cart: exchange.cart,
    };
    Ok(SyncReply {
        cursor: exchange.log_seq,
        generation: exchange.generation,
        base: exchange.base,
        ops: exchange.ops,
        cart: carts::view(state, record, &caller.quote_context()),
    })
}

/// The cart's owner if the caller may sync it (else 404, as if there were no such cart) and
/// the device's cursor is one the cart (at `log`) has given out (else 409).
fn allowed(
    caller: &Caller,
    owner: Option<String>,
    device: Position,
    log: Position,
) -> Result<Option<String>, AppError> {
    if !caller.may_see(owner.as_deref()) {
        return Err(AppError::not_found("cart"));
    }
    let (log_seq, generation) = (log.cursor, log.generation);
    if device.cursor < 0 || (device.generation == generation && device.cursor > log_seq) {
        let message = format!(
            "cursor {} is not one this cart has given out (it is at {log_seq})",
            device.cursor
        );
        return Err(AppError::new(
            StatusCode::CONFLICT,
            code::CURSOR_AHEAD,
            message,
        ));
    }
    // A device that has seen a later compaction than this cart's (a restored backup, another
    // database): its copy of the log is not this one, so it starts again from ours.
    if device.generation > generation {
        let message = format!(
            "generation {} is not one this cart has given out (it is at {generation})",
            device.generation
        );
        return Err(AppError::new(
            StatusCode::CONFLICT,
            code::CURSOR_AHEAD,
            message,
        ));
    }
    Ok(owner)
}

/// An operation the catalogue refuses: its index in the push, and the error.
struct Refusal {
    index: usize,
    error: AppError,
}

/// Reads and checks every operation before anything is stored: a malformed one is refused
/// (400); those the catalogue refuses (422) are returned, for [`sync`] to refuse unless the
/// log already has them.
fn parse(
    values: Vec<Value>,
    snapshot: &Snapshot,
) -> Result<(Vec<Operation>, Vec<Refusal>), AppError> {
    let now_ms = now_millis();
    let mut refused = Vec::new();
    let mut ops = Vec::with_capacity(values.len());
    for (i, value) in values.into_iter().enumerate() {
        let op: Operation = serde_json::from_value(value).map_err(|e| {
            AppError::new(
                StatusCode::BAD_REQUEST,
                code::INVALID_OPERATION,
                e.to_string(),
            )
            .with_op_index(i)
        })?;
        op.validate()
            .and_then(|()| op.check_stamp(now_ms))
            .map_err(|e| {
                AppError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()).with_op_index(i)
            })?;
        if let Err(e) = op.op.check(snapshot) {
            let error = AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
                .with_op_index(i);
            refused.push(Refusal { index: i, error });
        }
        ops.push(op);
    }
    Ok((ops, refused))
}

/// The outcome of a sync: where the log now stands, what the device has not seen, the cart.
struct Exchange {
    log_seq: i64,
    generation: i64,
    version: i64,
    cart: Cart,
    base: Option<Base>,
    ops: Vec<Operation>,
}

/// A pull: what a device at `device` has not seen, from `row` on. A device that is up to date
/// costs no more reads. Otherwise the operations are read without a lock: if a compaction
/// lands between the reads, they are taken again.
async fn pull(
    db: &Db,
    cart_id: &str,
    mut row: CartRow,
    device: Position,
) -> Result<Exchange, AppError> {
    loop {
        let fresh = row.generation != device.generation;
        let (base, ops) = if !fresh && device.cursor == row.log_seq {
            (None, Vec::new())
        } else {
            let mut conn = db.pool().acquire().await?;
            let base = if fresh {
                Some(cart_log::read_base(&mut conn, cart_id).await?)
            } else {
                None
            };
            let after = if fresh { 0 } else { device.cursor };
            let ops = cart_log::read_after(&mut conn, cart_id, after, row.log_seq).await?;
            if cart_log::read_generation(&mut conn, cart_id).await? != row.generation {
                drop(conn);
                row = cart_log::read_row(db, cart_id)
                    .await?
                    .ok_or_else(|| AppError::not_found("cart"))?;
                continue;
            }
            (base, ops)
        };
        return Ok(Exchange {
            log_seq: row.log_seq,
            generation: row.generation,
            version: row.version,
            cart: row.cart()?,
            base,
            ops,
        });
    }
}

/// A push: checks the caller may, stores `ops` and reads what the device has not seen, in one
/// transaction (a refused push is rolled back: it leaves no trace).
async fn push(
    db: &Db,
    cart_id: &str,
    ops: &[Operation],
    caller: &Caller,
    device: Position,
) -> Result<(Option<String>, Exchange), AppError> {
    let mut tx = db.begin_write().await?;
    let locked = cart_log::lock(&mut tx, cart_id)
        .await?
        .ok_or_else(|| AppError::not_found("cart"))?;
    let log = Position {
        cursor: locked.log_seq(),
        generation: locked.generation(),
    };
    let owner = allowed(caller, locked.owner().map(str::to_owned), device, log)?;
    let mut appended = locked.append(ops).await?;
    let fresh = appended.generation != device.generation;
    let base = if fresh {
        Some(cart_log::read_base(tx.conn(), cart_id).await?)
    } else {
        None
    };
    let ops = if !fresh && device.cursor == appended.from {
        // The device had everything before its push: what it has not seen is what it pushed.
        std::mem::take(&mut appended.stored)
    } else {
        let after = if fresh { 0 } else { device.cursor };
        cart_log::read_after(tx.conn(), cart_id, after, appended.log_seq).await?
    };
    tx.commit().await?;
    let exchange = Exchange {
        log_seq: appended.log_seq,
        generation: appended.generation,
        version: appended.version,
        cart: appended.cart,
        base,
        ops,
    };
    Ok((owner, exchange))
}
