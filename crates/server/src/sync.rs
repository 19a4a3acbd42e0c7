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
use omnicart_engine::replica::{Base, Head, OpLog, Operation, Stamp};
use omnicart_engine::{Cart, CartOp};
use omnicart_engine::{ErrorCode, Snapshot};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::AnyConnection;

use crate::AppState;
use crate::auth::{self, Caller};
use crate::carts::{self, CartRecord, CartView, MAX_OPS_PER_REQUEST};
use crate::db::{self, Db, Tx};
use crate::error::{ApiJson, AppError};
use crate::ids::{now_unix, random_id};

/// A log longer than this is compacted…
pub const COMPACT_ABOVE: usize = 256;
/// …down to its newest this many operations.
pub const COMPACT_KEEP: usize = 64;
/// Operation ids per statement when folding (well under SQLite's and PostgreSQL's limits on
/// bound parameters).
const FOLD_PER_STATEMENT: usize = 500;

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

async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(mut request): ApiJson<SyncRequest>,
) -> Result<Json<SyncReply>, AppError> {
    if request.ops.len() > MAX_OPS_PER_REQUEST {
        let message = format!("send at most {MAX_OPS_PER_REQUEST} operations at a time");
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_ops_count",
            message,
        ));
    }
    let (ops, refused) = parse(std::mem::take(&mut request.ops), &state.catalogue.snapshot)?;
    if !refused.is_empty() {
        // An operation the log already has is answered as stored, even if the catalogue has
        // changed since (its reply was lost, and the device is sending it again).
        let known = stored_ids(
            &state.db,
            &id,
            refused.iter().map(|(i, _)| ops[*i].id.as_str()),
        )
        .await?;
        if let Some((_, error)) = refused
            .into_iter()
            .find(|(i, _)| !known.contains(&ops[*i].id))
        {
            return Err(error);
        }
    }
    let (owner, exchange) = if ops.is_empty() {
        let row = read_row(&state.db, &id)
            .await?
            .ok_or_else(|| AppError::not_found("cart"))?;
        let owner = allowed(
            &caller,
            row.owner.clone(),
            &request,
            row.log_seq,
            row.generation,
        )?;
        (
            owner,
            pull(&state.db, &id, row, request.cursor, request.generation).await?,
        )
    } else {
        push(&state.db, &id, &ops, &caller, &request).await?
    };
    let record = CartRecord {
        id,
        owner,
        version: exchange.version,
        cart: exchange.cart,
    };
    let context = auth::quote_context(&caller);
    Ok(Json(SyncReply {
        cursor: exchange.log_seq,
        generation: exchange.generation,
        base: exchange.base,
        ops: exchange.ops,
        cart: carts::view(&state, record, &context),
    }))
}

/// The cart's owner if the caller may sync it (else 404, as if there were no such cart) and
/// the device's cursor is one the cart (at `log_seq`, `generation`) has given out (else 409).
fn allowed(
    caller: &Caller,
    owner: Option<String>,
    request: &SyncRequest,
    log_seq: i64,
    generation: i64,
) -> Result<Option<String>, AppError> {
    if !carts::may_see(caller, owner.as_deref()) {
        return Err(AppError::not_found("cart"));
    }
    if request.cursor < 0 || (request.generation == generation && request.cursor > log_seq) {
        let message = format!(
            "cursor {} is not one this cart has given out (it is at {log_seq})",
            request.cursor
        );
        return Err(AppError::new(StatusCode::CONFLICT, "cursor_ahead", message));
    }
    // A device that has seen a later compaction than this cart's (a restored backup, another
    // database): its copy of the log is not this one, so it starts again from ours.
    if request.generation > generation {
        let message = format!(
            "generation {} is not one this cart has given out (it is at {generation})",
            request.generation
        );
        return Err(AppError::new(StatusCode::CONFLICT, "cursor_ahead", message));
    }
    Ok(owner)
}

/// Reads and checks every operation before anything is stored: a malformed one is refused
/// (400); those the catalogue refuses (422) are returned with their errors, by index, for
/// [`sync`] to refuse unless the log already has them.
#[allow(clippy::type_complexity)]
fn parse(
    values: Vec<Value>,
    snapshot: &Snapshot,
) -> Result<(Vec<Operation>, Vec<(usize, AppError)>), AppError> {
    let mut refused = Vec::new();
    let mut ops = Vec::with_capacity(values.len());
    for (i, value) in values.into_iter().enumerate() {
        let op: Operation = serde_json::from_value(value).map_err(|e| {
            AppError::new(StatusCode::BAD_REQUEST, "invalid_operation", e.to_string())
                .with_op_index(i)
        })?;
        op.validate().map_err(|e| {
            AppError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()).with_op_index(i)
        })?;
        if let Err(e) = op.op.check(snapshot) {
            refused.push((
                i,
                AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
                    .with_op_index(i),
            ));
        }
        ops.push(op);
    }
    Ok((ops, refused))
}

/// `$2, $3, …` for `n` values bound after the cart id (`$1`), for an `IN (…)` list.
fn after_cart_id(n: usize) -> String {
    (0..n)
        .map(|i| format!("${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which of `ids` the cart's log holds.
async fn stored_ids<'i>(
    db: &Db,
    cart_id: &str,
    ids: impl Iterator<Item = &'i str>,
) -> Result<Vec<String>, AppError> {
    let ids: Vec<&str> = ids.collect();
    let sql = format!(
        "SELECT op_id FROM cart_ops WHERE cart_id = $1 AND op_id IN ({})",
        after_cart_id(ids.len())
    );
    let mut query = sqlx::query_scalar(&sql).bind(cart_id);
    for id in ids {
        query = query.bind(id);
    }
    Ok(query.fetch_all(db).await?)
}

/// A cart's row as sync reads it.
struct CartRow {
    owner: Option<String>,
    version: i64,
    body: String,
    log_seq: i64,
    generation: i64,
}

async fn read_row(db: &Db, cart_id: &str) -> Result<Option<CartRow>, AppError> {
    let row: Option<(Option<String>, i64, String, i64, i64)> =
        sqlx::query_as("SELECT owner, version, body, log_seq, generation FROM carts WHERE id = $1")
            .bind(cart_id)
            .fetch_optional(db)
            .await?;
    Ok(
        row.map(|(owner, version, body, log_seq, generation)| CartRow {
            owner,
            version,
            body,
            log_seq,
            generation,
        }),
    )
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

/// A pull: what a device at (`cursor`, `generation`) has not seen, from `row` on. A device
/// that is up to date costs no more reads. Otherwise the operations are read without a lock:
/// if a compaction lands between the reads, they are taken again.
async fn pull(
    db: &Db,
    cart_id: &str,
    mut row: CartRow,
    cursor: i64,
    generation: i64,
) -> Result<Exchange, AppError> {
    loop {
        let fresh = row.generation != generation;
        let (base, ops) = if !fresh && cursor == row.log_seq {
            (None, Vec::new())
        } else {
            let mut conn = db.acquire().await?;
            let base = if fresh {
                Some(read_base(&mut conn, cart_id).await?)
            } else {
                None
            };
            let ops = read_after(
                &mut conn,
                cart_id,
                if fresh { 0 } else { cursor },
                row.log_seq,
            )
            .await?;
            let (now,): (i64,) = sqlx::query_as("SELECT generation FROM carts WHERE id = $1")
                .bind(cart_id)
                .fetch_one(&mut *conn)
                .await?;
            if now != row.generation {
                drop(conn);
                row = read_row(db, cart_id)
                    .await?
                    .ok_or_else(|| AppError::not_found("cart"))?;
                continue;
            }
            (base, ops)
        };
        let cart = parse_json(&row.body, "body")?;
        return Ok(Exchange {
            log_seq: row.log_seq,
            generation: row.generation,
            version: row.version,
            cart,
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
    request: &SyncRequest,
) -> Result<(Option<String>, Exchange), AppError> {
    let (cursor, generation) = (request.cursor, request.generation);
    let mut tx = db::begin_write(db).await?;
    let mut locked = lock(&mut tx, cart_id, None)
        .await?
        .ok_or_else(|| AppError::not_found("cart"))?;
    let owner = allowed(
        caller,
        locked.owner.take(),
        request,
        locked.log_seq,
        locked.generation,
    )?;
    let mut appended = append_locked(&mut tx, cart_id, ops, locked).await?;
    let fresh = appended.generation != generation;
    let base = if fresh {
        Some(read_base(&mut tx, cart_id).await?)
    } else {
        None
    };
    let ops = if !fresh && cursor == appended.from {
        // The device had everything before its push: what it has not seen is what it pushed.
        std::mem::take(&mut appended.stored)
    } else {
        read_after(
            &mut tx,
            cart_id,
            if fresh { 0 } else { cursor },
            appended.log_seq,
        )
        .await?
    };
    tx.commit().await?;
    let Appended {
        log_seq,
        generation,
        version,
        cart,
        ..
    } = appended;
    Ok((
        owner,
        Exchange {
            log_seq,
            generation,
            version,
            cart,
            base,
            ops,
        },
    ))
}

/// Operations after `after` up to `upto`, in the order they were received.
async fn read_after(
    conn: &mut AnyConnection,
    cart_id: &str,
    after: i64,
    upto: i64,
) -> Result<Vec<Operation>, AppError> {
    let bodies: Vec<String> =
        sqlx::query_scalar("SELECT body FROM cart_ops WHERE cart_id = $1 AND seq > $2 AND seq <= $3 AND folded = 0 ORDER BY seq")
            .bind(cart_id)
            .bind(after)
            .bind(upto)
            .fetch_all(conn)
            .await?;
    bodies.iter().map(|b| decode(b)).collect()
}

async fn read_base(conn: &mut AnyConnection, cart_id: &str) -> Result<Base, AppError> {
    let base: Option<String> = sqlx::query_scalar("SELECT base FROM carts WHERE id = $1")
        .bind(cart_id)
        .fetch_one(conn)
        .await?;
    Ok(base
        .map(|b| parse_json(&b, "base"))
        .transpose()?
        .unwrap_or_default())
}

fn decode(body: &str) -> Result<Operation, AppError> {
    serde_json::from_str(body).map_err(|e| AppError::internal(format!("stored operation: {e}")))
}

/// A cart's row as a write has locked it.
#[derive(sqlx::FromRow)]
pub(crate) struct Locked {
    pub(crate) owner: Option<String>,
    log_seq: i64,
    live: i64,
    body: String,
    head: Option<String>,
    generation: i64,
    version: i64,
}

impl Locked {
    /// The cart as stored.
    pub(crate) fn cart(&self) -> Result<Cart, AppError> {
        parse_json(&self.body, "body")
    }

    /// Stamps `ops`, made by the server now, after every operation in the log: by the server's
    /// clock, or just after the log's newest stamp when a device's clock has run ahead of it
    /// (else that device's older edit would win over this one).
    pub(crate) fn stamp_after(&self, ops: &mut [Operation], now_ms: u64) -> Result<(), AppError> {
        let head: Option<Head> = self
            .head
            .as_deref()
            .map(|h| parse_json(h, "head"))
            .transpose()?;
        let newest = head.and_then(|h| h.last).map(|(stamp, _)| stamp);
        match newest {
            Some(n) if n.ms >= now_ms => stamp_server_ops(ops, n.ms, n.counter.saturating_add(1)),
            _ => stamp_server_ops(ops, now_ms, 0),
        }
        Ok(())
    }
}

/// An edit the server makes (through `/ops`, or joining a guest cart at sign-in), to be
/// stamped with [`stamp_server_ops`] or [`Locked::stamp_after`] before it is logged. `seen`:
/// for an add, the quantity it was added to.
pub(crate) fn server_op(op: CartOp, seen: Option<u32>) -> Operation {
    Operation {
        id: random_id("srv_"),
        stamp: Stamp {
            ms: 0,
            counter: 0,
            device: String::new(),
        },
        seen,
        op,
    }
}

/// Stamps the server's `ops` at millisecond `ms`, counting from `first`, in order.
pub(crate) fn stamp_server_ops(ops: &mut [Operation], ms: u64, first: u32) {
    for (i, op) in ops.iter_mut().enumerate() {
        op.stamp = Stamp {
            ms,
            counter: first.saturating_add(i as u32),
            device: "server".into(),
        };
    }
}

/// Takes a cart's row for writing and reads it: writing to the row locks it (PostgreSQL; on
/// SQLite the transaction holds the database's write lock), so appends to one cart take turns
/// and sequence numbers never collide. With `version`, only if the cart is at that version
/// (compare-and-set: of two writers racing from one version, exactly one gets it). `None`:
/// no such cart (or not at that version).
pub(crate) async fn lock(
    tx: &mut Tx,
    cart_id: &str,
    version: Option<i64>,
) -> Result<Option<Locked>, AppError> {
    let sql = match version {
        None => {
            "UPDATE carts SET updated_at = $1 WHERE id = $2 RETURNING owner, log_seq, live, body, head, generation, version"
        }
        Some(_) => {
            "UPDATE carts SET updated_at = $1 WHERE id = $2 AND version = $3 RETURNING owner, log_seq, live, body, head, generation, version"
        }
    };
    let mut query = sqlx::query_as::<_, Locked>(sql)
        .bind(now_unix())
        .bind(cart_id);
    if let Some(version) = version {
        query = query.bind(version);
    }
    Ok(query.fetch_optional(&mut **tx).await?)
}

/// The outcome of an append: how many operations were new, and the cart after them.
pub(crate) struct Appended {
    /// The log's sequence number before the append.
    pub from: i64,
    /// The operations stored, numbered from `from + 1`.
    pub stored: Vec<Operation>,
    pub log_seq: i64,
    pub generation: i64,
    pub version: i64,
    pub cart: Cart,
}

/// Adds the operations not stored yet to a cart's log and, if there were any, brings
/// `carts.body` up to date (one transaction: readers never see a log and a body that
/// disagree).
pub async fn append(db: &Db, cart_id: &str, ops: &[Operation]) -> Result<usize, AppError> {
    if ops.is_empty() {
        return Ok(0);
    }
    let mut tx = db::begin_write(db).await?;
    let locked = lock(&mut tx, cart_id, None)
        .await?
        .ok_or_else(|| AppError::not_found("cart"))?;
    let appended = append_locked(&mut tx, cart_id, ops, locked).await?;
    tx.commit().await?;
    Ok(appended.stored.len())
}

/// [`append`] inside a transaction that has [`lock`]ed the cart.
///
/// Operations newer than every one before them (a device pushing what it has just done) are
/// applied to the stored cart at once ([`Head::advance`]); anything else, or a log due for
/// compaction, replays the log from its base.
pub(crate) async fn append_locked(
    tx: &mut Tx,
    cart_id: &str,
    ops: &[Operation],
    locked: Locked,
) -> Result<Appended, AppError> {
    let Locked {
        log_seq,
        live,
        body,
        head,
        generation,
        version,
        ..
    } = locked;
    let mut cart: Cart = parse_json(&body, "body")?;
    let fresh = insert_new(tx, cart_id, ops, log_seq).await?;
    if fresh.is_empty() {
        return Ok(Appended {
            from: log_seq,
            stored: fresh,
            log_seq,
            generation,
            version,
            cart,
        });
    }
    let seq = log_seq + fresh.len() as i64;
    let live = live + fresh.len() as i64;
    let mut head: Option<Head> = head.map(|h| parse_json(&h, "head")).transpose()?;
    let advanced =
        live <= COMPACT_ABOVE as i64 && head.as_mut().is_some_and(|h| h.advance(&mut cart, &fresh));
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
    sqlx::query("UPDATE carts SET body = $1, head = $2, log_seq = $3, live = $4, version = version + 1, generation = generation + $5 WHERE id = $6")
        .bind(body)
        .bind(head)
        .bind(seq)
        .bind(live)
        .bind(i64::from(compacted))
        .bind(cart_id)
        .execute(&mut **tx)
        .await?;
    Ok(Appended {
        from: log_seq,
        stored: fresh,
        log_seq: seq,
        generation: generation + i64::from(compacted),
        version: version + 1,
        cart,
    })
}

/// Stores the operations of `ops` whose ids the cart's log does not have yet, numbered from
/// `log_seq + 1`, and returns them (one statement, unless some were stored before).
async fn insert_new(
    tx: &mut Tx,
    cart_id: &str,
    ops: &[Operation],
    log_seq: i64,
) -> Result<Vec<Operation>, AppError> {
    let mut unique: Vec<&Operation> = Vec::with_capacity(ops.len());
    for op in ops {
        if !unique.iter().any(|u| u.id == op.id) {
            unique.push(op);
        }
    }
    if insert_numbered(tx, cart_id, &unique, log_seq).await? == unique.len() {
        return Ok(unique.into_iter().cloned().collect());
    }
    // Some were stored before (a device pushing again what it pushed before): their rows were
    // skipped, leaving gaps in the numbering. Number the new ones again without gaps.
    let stored: Vec<String> =
        sqlx::query_scalar("DELETE FROM cart_ops WHERE cart_id = $1 AND seq > $2 RETURNING op_id")
            .bind(cart_id)
            .bind(log_seq)
            .fetch_all(&mut **tx)
            .await?;
    let fresh: Vec<&Operation> = unique
        .into_iter()
        .filter(|op| stored.contains(&op.id))
        .collect();
    insert_numbered(tx, cart_id, &fresh, log_seq).await?;
    Ok(fresh.into_iter().cloned().collect())
}

/// Inserts `ops` numbered from `log_seq + 1` in one statement, skipping ids the log has, and
/// returns how many were inserted.
async fn insert_numbered(
    tx: &mut Tx,
    cart_id: &str,
    ops: &[&Operation],
    log_seq: i64,
) -> Result<usize, AppError> {
    if ops.is_empty() {
        return Ok(0);
    }
    let rows: Vec<String> = (0..ops.len())
        .map(|i| format!("($1, $2, ${}, ${}, ${})", 3 * i + 3, 3 * i + 4, 3 * i + 5))
        .collect();
    let sql = format!(
        "INSERT INTO cart_ops (cart_id, received_at, seq, op_id, body) VALUES {} ON CONFLICT (cart_id, op_id) DO NOTHING",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(cart_id).bind(now_unix());
    for (i, op) in ops.iter().enumerate() {
        let json = serde_json::to_string(op).map_err(AppError::internal)?;
        query = query.bind(log_seq + 1 + i as i64).bind(&op.id).bind(json);
    }
    Ok(query.execute(&mut **tx).await?.rows_affected() as usize)
}

/// A cart's log: its base and every operation not compacted.
async fn read_log(tx: &mut Tx, cart_id: &str) -> Result<OpLog, AppError> {
    let base = read_base(tx, cart_id).await?;
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM cart_ops WHERE cart_id = $1 AND folded = 0 ORDER BY seq",
    )
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
    // The folded rows keep their ids (a device pushing one again is still answered) but lose
    // their bodies: a few statements, however long the log, so the writer's turn stays short.
    for ids in folded.chunks(FOLD_PER_STATEMENT) {
        let sql = format!(
            "UPDATE cart_ops SET folded = 1, body = '' WHERE cart_id = $1 AND op_id IN ({})",
            after_cart_id(ids.len())
        );
        let mut query = sqlx::query(&sql).bind(cart_id);
        for id in ids {
            query = query.bind(id);
        }
        query.execute(&mut **tx).await?;
    }
    let base = serde_json::to_string(log.base()).map_err(AppError::internal)?;
    sqlx::query("UPDATE carts SET base = $1 WHERE id = $2")
        .bind(base)
        .bind(cart_id)
        .execute(&mut **tx)
        .await?;
    Ok(!folded.is_empty())
}
