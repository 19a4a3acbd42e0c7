//! The outbox (`outbox`) and its deliveries to webhook endpoints (`webhook_endpoints`,
//! `event_deliveries`; migration 0014). [`append`] writes an event in the caller's
//! transaction, numbered after its order's last one, with one delivery per active endpoint;
//! the dispatcher ([`crate::service::webhooks`]) reads what is [`due`], [`claim`]s it, and
//! [`record`]s how it went (delivered, or failed: dead after its last attempt). A rolled-back
//! transaction leaves neither event nor delivery.

use omnicart_api::{DeliveryView, EventRecord};

use crate::ids::{now_millis, random_id, sha256_hex};
use crate::store::{Db, StoreError, WriteTx};

/// An event to write: its kind, the order it concerns (id and number), and the body's data.
pub struct NewEvent<'a, D: serde::Serialize> {
    pub kind: &'a str,
    pub order_id: &'a str,
    pub order_number: &'a str,
    pub data: &'a D,
}

/// Now, in Unix milliseconds (the outbox's and deliveries' times).
pub(crate) fn now_ms() -> i64 {
    i64::try_from(now_millis()).unwrap_or(i64::MAX)
}

/// Writes the event in the caller's transaction: the next `seq` of its order (the order's
/// row is locked by the transaction that changes it, so two cannot take the same number;
/// `UNIQUE`-free, the index only orders them), the body as the endpoints will receive it, and
/// a pending delivery per active endpoint. Returns the event's id.
pub async fn append<D: serde::Serialize>(
    tx: &mut WriteTx,
    event: &NewEvent<'_, D>,
) -> Result<String, StoreError> {
    let (seq,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox WHERE aggregate_id = $1")
            .bind(event.order_id)
            .fetch_one(tx.conn())
            .await?;
    let id = random_id("evt_");
    let created_ms = now_ms();
    let body = serde_json::to_string(&omnicart_api::Event {
        id: id.clone(),
        kind: event.kind.to_owned(),
        order_number: event.order_number.to_owned(),
        sequence: seq,
        created_at_ms: created_ms,
        data: event.data,
    })
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query("INSERT INTO outbox (id, topic, aggregate_id, payload, created_at, seq, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&id)
        .bind(event.kind)
        .bind(event.order_id)
        .bind(&body)
        .bind(created_ms / 1000)
        .bind(seq)
        .bind(created_ms)
        .execute(tx.conn())
        .await?;
    sqlx::query("INSERT INTO event_deliveries (event_id, endpoint_id, stream, seq, next_attempt_at) SELECT $1, id, $2, $3, $4 FROM webhook_endpoints WHERE active = 1")
        .bind(&id)
        .bind(event.order_id)
        .bind(seq)
        .bind(created_ms)
        .execute(tx.conn())
        .await?;
    tx.event_written();
    Ok(id)
}

/// The id an endpoint's URL is stored under: the same in every process.
pub fn endpoint_id(url: &str) -> String {
    format!("whe_{}", &sha256_hex(url.as_bytes())[..32])
}

/// Makes `urls` the active endpoints (others stay, inactive: what they had not received
/// waits for them should they come back).
pub async fn register_endpoints(db: &Db, urls: &[String]) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE webhook_endpoints SET active = 0")
        .execute(tx.conn())
        .await?;
    for url in urls {
        sqlx::query("INSERT INTO webhook_endpoints (id, url, active) VALUES ($1, $2, 1) ON CONFLICT (id) DO UPDATE SET active = 1")
            .bind(endpoint_id(url))
            .bind(url)
            .execute(tx.conn())
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A delivery that is due: to whom, what, and how often it failed before.
pub struct Due {
    pub event_id: String,
    pub endpoint_id: String,
    pub url: String,
    pub kind: String,
    pub body: String,
    pub attempts: i64,
    /// When the event was written (ms), for the delay from commit to delivery.
    pub created_ms: i64,
}

/// Up to `limit` deliveries due at `now_ms` to active endpoints, each the earliest
/// undelivered, undead event of its order for its endpoint (so at most one per order and
/// endpoint: a later event waits for the one before it).
pub async fn due(db: &Db, now_ms: i64, limit: i64) -> Result<Vec<Due>, StoreError> {
    type Row = (String, String, String, String, String, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT d.event_id, d.endpoint_id, w.url, o.topic, o.payload, d.attempts, o.created_ms \
         FROM event_deliveries d \
         JOIN webhook_endpoints w ON w.id = d.endpoint_id \
         JOIN outbox o ON o.id = d.event_id \
         WHERE d.delivered_at IS NULL AND d.dead_at IS NULL AND d.next_attempt_at <= $1 \
           AND w.active = 1 \
           AND NOT EXISTS (SELECT 1 FROM event_deliveries p \
               WHERE p.endpoint_id = d.endpoint_id AND p.stream = d.stream AND p.seq < d.seq \
                 AND p.delivered_at IS NULL AND p.dead_at IS NULL) \
         ORDER BY d.next_attempt_at, d.stream, d.seq LIMIT $2",
    )
    .bind(now_ms)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(event_id, endpoint_id, url, kind, body, attempts, created_ms)| Due {
                event_id,
                endpoint_id,
                url,
                kind,
                body,
                attempts,
                created_ms,
            },
        )
        .collect())
}

/// Claims each delivery until `until_ms` if it is still due at `now_ms`, in one write
/// transaction (on SQLite the writers' turn: a write beside it would make a placement's
/// transaction fail); the ones claimed. One not claimed is another dispatcher's (or was
/// delivered).
pub async fn claim(
    db: &Db,
    due: Vec<Due>,
    now_ms: i64,
    until_ms: i64,
) -> Result<Vec<Due>, StoreError> {
    let mut tx = db.begin_write().await?;
    let mut claimed = Vec::with_capacity(due.len());
    for d in due {
        let n = sqlx::query("UPDATE event_deliveries SET next_attempt_at = $1 WHERE event_id = $2 AND endpoint_id = $3 AND delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $4")
            .bind(until_ms)
            .bind(&d.event_id)
            .bind(&d.endpoint_id)
            .bind(now_ms)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 1 {
            claimed.push(d);
        }
    }
    tx.commit().await?;
    Ok(claimed)
}

/// How one delivery went.
pub enum Outcome {
    /// Received by its endpoint at this time (ms).
    Delivered(i64),
    /// Refused or unanswered: tried again at `retry_at_ms`, or given up (`dead`, the
    /// dead-letter state: only a replay sends it again).
    Failed {
        retry_at_ms: i64,
        dead: bool,
        error: String,
    },
}

/// Records how each delivery went, in one write transaction.
pub async fn record(db: &Db, outcomes: &[(Due, Outcome)]) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    for (due, outcome) in outcomes {
        match outcome {
            Outcome::Delivered(at_ms) => {
                sqlx::query("UPDATE event_deliveries SET delivered_at = $1, attempts = attempts + 1, last_error = NULL WHERE event_id = $2 AND endpoint_id = $3 AND delivered_at IS NULL")
                    .bind(at_ms)
                    .bind(&due.event_id)
                    .bind(&due.endpoint_id)
                    .execute(tx.conn())
                    .await?;
            }
            Outcome::Failed {
                retry_at_ms,
                dead,
                error,
            } => {
                sqlx::query("UPDATE event_deliveries SET attempts = attempts + 1, next_attempt_at = $1, dead_at = $2, last_error = $3 WHERE event_id = $4 AND endpoint_id = $5 AND delivered_at IS NULL")
                    .bind(retry_at_ms)
                    .bind(dead.then(now_ms))
                    .bind(error)
                    .bind(&due.event_id)
                    .bind(&due.endpoint_id)
                    .execute(tx.conn())
                    .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Makes every delivery of the event due again (delivered, dead or pending), and adds one
/// for each active endpoint it had none for; `false` if there is no such event.
pub async fn replay(db: &Db, event_id: &str) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM outbox WHERE id = $1")
        .bind(event_id)
        .fetch_optional(tx.conn())
        .await?;
    if exists.is_none() {
        return Ok(false);
    }
    let now = now_ms();
    sqlx::query("UPDATE event_deliveries SET delivered_at = NULL, dead_at = NULL, attempts = 0, next_attempt_at = $1 WHERE event_id = $2")
        .bind(now)
        .bind(event_id)
        .execute(tx.conn())
        .await?;
    // An endpoint added since the event was written gets it too.
    sqlx::query("INSERT INTO event_deliveries (event_id, endpoint_id, stream, seq, next_attempt_at) SELECT o.id, w.id, o.aggregate_id, o.seq, $1 FROM outbox o, webhook_endpoints w WHERE o.id = $2 AND w.active = 1 AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = o.id AND d.endpoint_id = w.id)")
        .bind(now)
        .bind(event_id)
        .execute(tx.conn())
        .await?;
    tx.event_written();
    tx.commit().await?;
    Ok(true)
}

/// Events newest first (at most `limit`), of one order (its id) and with a delivery in one
/// state (`pending`, `delivered`, `dead`) when given.
pub async fn list(
    db: &Db,
    order_id: Option<&str>,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<EventRecord>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE ($1 IS NULL OR o.aggregate_id = $1) \
           AND ($2 IS NULL OR EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = o.id \
             AND CASE WHEN d.delivered_at IS NOT NULL THEN 'delivered' \
                      WHEN d.dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END = $2)) \
         ORDER BY o.created_ms DESC, o.seq DESC LIMIT $3"
    ))
    .bind(order_id)
    .bind(state)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(record_of(db, row).await?);
    }
    Ok(out)
}

/// One event, as [`list`] shows it.
pub async fn get(db: &Db, event_id: &str) -> Result<Option<EventRecord>, StoreError> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE o.id = $1"))
        .bind(event_id)
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(row) => Ok(Some(record_of(db, row).await?)),
        None => Ok(None),
    }
}

type Row = (String, String, String, i64, i64, String);

const SELECT: &str = "SELECT o.id, o.topic, \
    (SELECT r.number FROM orders r WHERE r.id = o.aggregate_id), \
    o.seq, o.created_ms, o.payload FROM outbox o";

async fn record_of(
    db: &Db,
    (id, kind, order_number, sequence, created_at_ms, body): Row,
) -> Result<EventRecord, StoreError> {
    let deliveries = deliveries(db, &id).await?;
    Ok(EventRecord {
        id,
        kind,
        order_number,
        sequence,
        created_at_ms,
        body,
        deliveries,
    })
}

async fn deliveries(db: &Db, event_id: &str) -> Result<Vec<DeliveryView>, StoreError> {
    type Row = (String, Option<i64>, Option<i64>, i64, Option<String>);
    let rows: Vec<Row> = sqlx::query_as("SELECT w.url, d.delivered_at, d.dead_at, d.attempts, d.last_error FROM event_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.event_id = $1 ORDER BY w.url")
        .bind(event_id)
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(endpoint, delivered, dead, attempts, last_error)| DeliveryView {
                endpoint,
                state: match (delivered, dead) {
                    (Some(_), _) => "delivered",
                    (None, Some(_)) => "dead",
                    (None, None) => "pending",
                }
                .to_owned(),
                attempts,
                last_error,
            },
        )
        .collect())
}
