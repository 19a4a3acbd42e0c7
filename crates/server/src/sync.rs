//! Offline-first cart sync: `POST /api/carts/{id}/sync` with `{"cursor": n, "ops": [Operation…]}`.
//!
//! A device pushes the operations it made (with their ids, hybrid-logical-clock stamps and
//! device ids; see the engine's `replica` module) and the cursor of the last server operation
//! it has. The server stores each operation once (by id: a replayed push changes nothing),
//! replays the whole log into the cart with the engine's merge rules, and answers with the
//! operations after the cursor (the device's own included; it skips those by id), the new
//! cursor and the merged cart, priced. A pull is a push of no operations.
//!
//! All or nothing: a push with a malformed operation (400), an unknown SKU, coupon or pickup
//! location (422), too many operations (422) or a body over 64 KiB (413) stores nothing. A cart
//! that is not the caller's is not found (404). A cursor ahead of the server's is refused (409):
//! the device is talking about another cart or another database.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use omnicart_engine::replica::{OpLog, Operation};
use omnicart_engine::{ErrorCode, Snapshot};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::SqlitePool;

use crate::auth::{self, Caller};
use crate::carts::{self, CartView, MAX_OPS_PER_REQUEST};
use crate::error::{ApiJson, AppError};
use crate::ids::now_unix;
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncRequest {
    cursor: i64,
    #[serde(default)]
    ops: Vec<Value>,
}

#[derive(Serialize)]
pub struct SyncReply {
    /// The server's cursor after this exchange: send it with the next sync.
    pub cursor: i64,
    /// Operations after the request's cursor, in the order the server received them.
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
    let latest = latest_seq(&state.db, &record.id).await?;
    if request.cursor < 0 || request.cursor > latest {
        let message = format!("cursor {} is not one this cart has given out (it is at {latest})", request.cursor);
        return Err(AppError::new(StatusCode::CONFLICT, "cursor_ahead", message));
    }
    append(&state.db, &record.id, &ops).await?;
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT seq, body FROM cart_ops WHERE cart_id = ? AND seq > ? ORDER BY seq")
        .bind(&record.id)
        .bind(request.cursor)
        .fetch_all(&state.db)
        .await?;
    let cursor = rows.last().map_or(request.cursor, |r| r.0);
    let ops = rows.into_iter().map(|(_, body)| decode(&body)).collect::<Result<_, _>>()?;
    let record = carts::load_for(&state.db, &id, &caller).await?;
    let context = auth::quote_context(&caller);
    Ok(Json(SyncReply { cursor, ops, cart: carts::view(&state, record, &context) }))
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

/// Stores one operation in a cart's log unless its id is there; returns whether it was new.
pub(crate) async fn log(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, cart_id: &str, op: &Operation) -> Result<bool, AppError> {
    let body = serde_json::to_string(op).map_err(AppError::internal)?;
    let added = sqlx::query("INSERT INTO cart_ops (cart_id, op_id, body, received_at) VALUES (?, ?, ?, ?) ON CONFLICT(cart_id, op_id) DO NOTHING")
        .bind(cart_id)
        .bind(&op.id)
        .bind(body)
        .bind(now_unix())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(added == 1)
}

fn decode(body: &str) -> Result<Operation, AppError> {
    serde_json::from_str(body).map_err(|e| AppError::internal(format!("stored operation: {e}")))
}

async fn latest_seq(db: &SqlitePool, cart_id: &str) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM cart_ops WHERE cart_id = ?").bind(cart_id).fetch_one(db).await?)
}

/// Stores the operations not stored yet and, if there were any, replays the cart's whole log
/// into `carts.body` (one transaction: readers never see a log and a body that disagree).
pub async fn append(db: &SqlitePool, cart_id: &str, ops: &[Operation]) -> Result<usize, AppError> {
    if ops.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    let mut added = 0;
    for op in ops {
        added += usize::from(log(&mut tx, cart_id, op).await?);
    }
    if added > 0 {
        let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM cart_ops WHERE cart_id = ? ORDER BY seq").bind(cart_id).fetch_all(&mut *tx).await?;
        let mut log = OpLog::new();
        for body in bodies {
            log.insert(decode(&body)?).map_err(AppError::internal)?;
        }
        let cart = serde_json::to_string(&log.cart()).map_err(AppError::internal)?;
        sqlx::query("UPDATE carts SET body = ?, version = version + 1, updated_at = ? WHERE id = ?")
            .bind(cart)
            .bind(now_unix())
            .bind(cart_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(added)
}
