//! Offline-first cart sync: `POST /api/carts/{id}/sync` with
//! `{"cursor": n, "generation": g, "ops": [Operation…]}`.
//!
//! A device pushes the operations it made (with their ids, hybrid-logical-clock stamps and
//! device ids; see the engine's `replica` module), the cursor of the last operation of this
//! cart it has, and the compaction generation of its copy of the log. The server stores each
//! operation once (by id: a replayed push changes nothing), replays the log into the cart with
//! the engine's merge rules, and answers with the operations after the cursor (the device's own
//! included; it skips those by id), the new cursor and the merged cart, priced. A pull is a
//! push of no operations.
//!
//! **Compaction.** A log longer than [`COMPACT_ABOVE`] operations has all but its newest
//! [`COMPACT_KEEP`] folded into a base (the engine's `replica::Base`, rule 8) and its
//! generation goes up. A device whose generation differs gets `base` and every operation after
//! it, and replaces its copy of the log with them (its pending operations stay pending). Folded
//! operations keep their rows, so pushing one again still changes nothing.
//!
//! All or nothing: a push with a malformed operation (400), an unknown SKU, coupon or pickup
//! location (422), too many operations (422) or a body over 64 KiB (413) stores nothing. A cart
//! that is not the caller's is not found (404). A cursor ahead of the server's is refused (409):
//! the device is talking about another cart or another database.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use omnicart_engine::replica::{Base, Head, OpLog, Operation};
use omnicart_engine::Cart;
use omnicart_engine::{ErrorCode, Snapshot};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{self, Caller};
use crate::carts::{self, CartView, MAX_OPS_PER_REQUEST};
use crate::db::{Db, Tx};
use crate::error::{ApiJson, AppError};
use crate::ids::now_unix;
use crate::AppState;

/// A log longer than this is compacted…
pub const COMPACT_ABOVE: usize = 256;
/// …down to its newest this many operations.
pub const COMPACT_KEEP: usize = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncRequest {
    cursor: i64,
    /// The compaction generation of the device's copy of the log (0: never compacted).
    #[serde(default)]
    generation: i64,
    #[serde(default)]
    ops: Vec<Value>,
}

#[derive(Serialize)]
pub struct SyncReply {
    /// The cart's cursor after this exchange: send it with the next sync.
    pub cursor: i64,
    /// The log's compaction generation: send it with the next sync.
    pub generation: i64,
    /// The compacted start of the log, when the device's generation was another: the device
    /// starts its log again from it, with `ops`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<Base>,
    /// Operations after the request's cursor (or, with `base`, after the base), in the order
    /// the server received them.
    pub ops: Vec<Operation>,
    pub cart: CartView,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/carts/{id}/sync", post(sync))
}

async fn sync(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(request): ApiJson<SyncRequest>) -> Result<Json<SyncReply>, AppError> {
    if request.ops.len() > MAX_OPS_PER_REQUEST {
        let message = format!("send at most {MAX_OPS_PER_REQUEST} operations at a time");
        return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_ops_count", message));
    }
    let ops = parse(request.ops, &state.catalogue.snapshot)?;
    let record = carts::load_for(&state.db, &id, &caller).await?;
    let at = position(&state.db, &record.id).await?;
    if request.cursor < 0 || (request.generation == at.generation && request.cursor > at.log_seq) {
        let message = format!("cursor {} is not one this cart has given out (it is at {})", request.cursor, at.log_seq);
        return Err(AppError::new(StatusCode::CONFLICT, "cursor_ahead", message));
    }
    append(&state.db, &record.id, &ops).await?;
    let (at, base, ops) = read_since(&state.db, &record.id, request.cursor, request.generation).await?;
    let record = carts::load_for(&state.db, &id, &caller).await?;
    let context = auth::quote_context(&caller);
    Ok(Json(SyncReply { cursor: at.log_seq, generation: at.generation, base, ops, cart: carts::view(&state, record, &context) }))
}

/// Reads and checks every operation before anything is stored.
fn parse(values: Vec<Value>, snapshot: &Snapshot) -> Result<Vec<Operation>, AppError> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let op: Operation = serde_json::from_value(value)
                .map_err(|e| AppError::new(StatusCode::BAD_REQUEST, "invalid_operation", format!("operation {i}: {e}")))?;
            op.validate().map_err(|e| AppError::new(StatusCode::BAD_REQUEST, e.code(), format!("operation {i}: {e}")))?;
            op.op.check(snapshot).map_err(|e| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), format!("operation {i}: {e}")))?;
            Ok(op)
        })
        .collect()
}

/// Where a cart's log stands.
struct Position {
    log_seq: i64,
    generation: i64,
}

async fn position(db: &Db, cart_id: &str) -> Result<Position, AppError> {
    let (log_seq, generation): (i64, i64) =
        sqlx::query_as("SELECT log_seq, generation FROM carts WHERE id = $1").bind(cart_id).fetch_one(db).await?;
    Ok(Position { log_seq, generation })
}

/// What a device at (`cursor`, `generation`) has not seen: the operations after its cursor,
/// or the base and all operations after it if the log was compacted since. Read without a
/// lock: if a compaction lands between the reads, they are taken again.
async fn read_since(db: &Db, cart_id: &str, cursor: i64, generation: i64) -> Result<(Position, Option<Base>, Vec<Operation>), AppError> {
    loop {
        let at = position(db, cart_id).await?;
        let fresh = at.generation != generation;
        let base = if fresh { Some(read_base(db, cart_id).await?) } else { None };
        let after = if fresh { 0 } else { cursor };
        let bodies: Vec<String> =
            sqlx::query_scalar("SELECT body FROM cart_ops WHERE cart_id = $1 AND seq > $2 AND seq <= $3 AND folded = 0 ORDER BY seq")
                .bind(cart_id)
                .bind(after)
                .bind(at.log_seq)
                .fetch_all(db)
                .await?;
        if position(db, cart_id).await?.generation == at.generation {
            let ops = bodies.iter().map(|b| decode(b)).collect::<Result<_, _>>()?;
            return Ok((at, base, ops));
        }
    }
}

async fn read_base(db: &Db, cart_id: &str) -> Result<Base, AppError> {
    let base: Option<String> = sqlx::query_scalar("SELECT base FROM carts WHERE id = $1").bind(cart_id).fetch_one(db).await?;
    Ok(base.map(|b| parse_json(&b, "base")).transpose()?.unwrap_or_default())
}

fn decode(body: &str) -> Result<Operation, AppError> {
    serde_json::from_str(body).map_err(|e| AppError::internal(format!("stored operation: {e}")))
}

/// Adds the operations not stored yet to a cart's log and, if there were any, replays the log
/// into `carts.body` (one transaction: readers never see a log and a body that disagree).
pub async fn append(db: &Db, cart_id: &str, ops: &[Operation]) -> Result<usize, AppError> {
    if ops.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    // Writing first takes the cart's row lock (PostgreSQL) or the write lock (SQLite), so
    // appends to one cart take turns and sequence numbers never collide.
    sqlx::query("UPDATE carts SET updated_at = $1 WHERE id = $2").bind(now_unix()).bind(cart_id).execute(&mut *tx).await?;
    let added = append_locked(&mut tx, cart_id, ops).await?;
    tx.commit().await?;
    Ok(added)
}

/// [`append`] inside a transaction that has already written to the cart's row.
///
/// Operations newer than every one before them (a device pushing what it has just done) are
/// applied to the stored cart at once ([`Head::advance`]); anything else, or a log due for
/// compaction, replays the log from its base.
pub(crate) async fn append_locked(tx: &mut Tx, cart_id: &str, ops: &[Operation]) -> Result<usize, AppError> {
    let (mut seq, live, body, head): (i64, i64, String, Option<String>) =
        sqlx::query_as("SELECT log_seq, live, body, head FROM carts WHERE id = $1").bind(cart_id).fetch_one(&mut **tx).await?;
    let now = now_unix();
    let mut fresh: Vec<Operation> = Vec::new();
    for op in ops {
        if fresh.iter().any(|f| f.id == op.id) {
            continue;
        }
        let json = serde_json::to_string(op).map_err(AppError::internal)?;
        let stored = sqlx::query(
            "INSERT INTO cart_ops (cart_id, seq, op_id, body, received_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (cart_id, op_id) DO NOTHING",
        )
        .bind(cart_id)
        .bind(seq + 1)
        .bind(&op.id)
        .bind(json)
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if stored == 1 {
            seq += 1;
            fresh.push(op.clone());
        }
    }
    if fresh.is_empty() {
        return Ok(0);
    }
    let live = live + fresh.len() as i64;
    let mut cart: Cart = parse_json(&body, "body")?;
    let mut head: Option<Head> = head.map(|h| parse_json(&h, "head")).transpose()?;
    let advanced = live <= COMPACT_ABOVE as i64 && head.as_mut().is_some_and(|h| h.advance(&mut cart, &fresh));
    let (head, live, compacted) = if advanced {
        (head.unwrap_or_default(), live, false)
    } else {
        let mut log = read_log(tx, cart_id).await?;
        let compacted = log.len() > COMPACT_ABOVE && compact(tx, cart_id, &mut log).await?;
        let (replayed, head) = log.replay();
        cart = replayed;
        (head, log.len() as i64, compacted)
    };
    let body = serde_json::to_string(&cart).map_err(AppError::internal)?;
    let head = serde_json::to_string(&head).map_err(AppError::internal)?;
    sqlx::query(
        "UPDATE carts SET body = $1, head = $2, log_seq = $3, live = $4, version = version + 1, generation = generation + $5
         WHERE id = $6",
    )
    .bind(body)
    .bind(head)
    .bind(seq)
    .bind(live)
    .bind(i64::from(compacted))
    .bind(cart_id)
    .execute(&mut **tx)
    .await?;
    Ok(fresh.len())
}

/// A cart's log: its base and every operation not compacted.
async fn read_log(tx: &mut Tx, cart_id: &str) -> Result<OpLog, AppError> {
    let base: Option<String> = sqlx::query_scalar("SELECT base FROM carts WHERE id = $1").bind(cart_id).fetch_one(&mut **tx).await?;
    let base: Base = base.map(|b| parse_json(&b, "base")).transpose()?.unwrap_or_default();
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM cart_ops WHERE cart_id = $1 AND folded = 0 ORDER BY seq")
        .bind(cart_id)
        .fetch_all(&mut **tx)
        .await?;
    let mut log = OpLog::with_base(base);
    for body in bodies {
        log.insert(decode(&body)?).map_err(AppError::internal)?;
    }
    Ok(log)
}

fn parse_json<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<T, AppError> {
    serde_json::from_str(json).map_err(|e| AppError::internal(format!("stored cart {what}: {e}")))
}

/// Folds all but the newest operations of a long log into its base (see the module docs).
async fn compact(tx: &mut Tx, cart_id: &str, log: &mut OpLog) -> Result<bool, AppError> {
    let folded = log.compact(COMPACT_KEEP);
    for id in &folded {
        sqlx::query("UPDATE cart_ops SET folded = 1, body = '' WHERE cart_id = $1 AND op_id = $2")
            .bind(cart_id)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    let base = serde_json::to_string(log.base()).map_err(AppError::internal)?;
    sqlx::query("UPDATE carts SET base = $1 WHERE id = $2").bind(base).bind(cart_id).execute(&mut **tx).await?;
    Ok(!folded.is_empty())
}
