//! Fulfilment orders (`fulfilment_orders`: the `omnicart_order::FulfilmentOrder` as JSON, with
//! its order, location, kind and state beside it) and their timeline (`fulfilment_events`),
//! written in the transaction of the change.

use omnicart_order::{FulfilmentOrder, Machine, Record};

use crate::ids::now_unix;
use crate::store::{Db, StoreError, WriteTx, parse_json, to_json};

/// A stored fulfilment order.
#[derive(Debug)]
pub struct FulfilmentRow {
    pub id: String,
    pub order_id: String,
    /// The order's number (`4829-1034-775`), as staff and the shopper read it.
    pub order_number: String,
    pub seq: i64,
    pub pickup_code_hash: Option<String>,
    pub captured_minor: Option<i64>,
    pub fulfilment: FulfilmentOrder,
}

/// One entry of the timeline.
pub struct EventRow {
    pub at: i64,
    pub from_state: String,
    pub to_state: String,
    pub actor: String,
    pub reason: String,
}

fn kind_name(f: &FulfilmentOrder) -> &'static str {
    match f.kind {
        omnicart_order::FulfilmentKind::Ship => "ship",
        omnicart_order::FulfilmentKind::Pickup => "pickup",
    }
}

/// Inserts a new fulfilment order and its first timeline entries.
pub async fn insert(
    tx: &mut WriteTx,
    id: &str,
    order_id: &str,
    seq: i64,
    f: &FulfilmentOrder,
) -> Result<(), StoreError> {
    let now = now_unix();
    sqlx::query("INSERT INTO fulfilment_orders (id, order_id, seq, location, kind, state, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
        .bind(id)
        .bind(order_id)
        .bind(seq)
        .bind(&f.location)
        .bind(kind_name(f))
        .bind(f.state().name())
        .bind(to_json(f)?)
        .bind(now)
        .execute(tx.conn())
        .await?;
    record(tx, id, f.history()).await
}

/// Appends `records` to the timeline of `id`.
pub async fn record(
    tx: &mut WriteTx,
    id: &str,
    records: &[Record<omnicart_order::FulfilmentState>],
) -> Result<(), StoreError> {
    let mut step: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM fulfilment_events WHERE fulfilment_id = $1")
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
    for r in records {
        sqlx::query("INSERT INTO fulfilment_events (fulfilment_id, step, at, from_state, to_state, actor, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id)
            .bind(step)
            .bind(r.at.unix())
            .bind(r.from.name())
            .bind(r.to.name())
            .bind(&r.actor.id)
            .bind(&r.reason)
            .execute(tx.conn())
            .await?;
        step += 1;
    }
    Ok(())
}

/// Writes the fulfilment order as changed, its new timeline entries and, once, its capture.
pub async fn update(
    tx: &mut WriteTx,
    row: &FulfilmentRow,
    code_hash: Option<&str>,
) -> Result<(), StoreError> {
    let f = &row.fulfilment;
    sqlx::query("UPDATE fulfilment_orders SET state = $1, body = $2, updated_at = $3, captured_minor = COALESCE(captured_minor, $4), pickup_code_hash = COALESCE($5, pickup_code_hash) WHERE id = $6")
        .bind(f.state().name())
        .bind(to_json(f)?)
        .bind(now_unix())
        .bind(row.captured_minor)
        .bind(code_hash)
        .bind(&row.id)
        .execute(tx.conn())
        .await?;
    record(tx, &row.id, f.history()).await?;
    let view = crate::service::fulfilment::view(row);
    crate::service::webhooks::fulfilment_event(tx, &row.order_id, &view).await
}

type Row = (
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
    String,
);

fn decode(
    (id, order_id, order_number, seq, pickup_code_hash, captured_minor, body): Row,
) -> Result<FulfilmentRow, StoreError> {
    Ok(FulfilmentRow {
        fulfilment: parse_json(&body, "fulfilment body")?,
        id,
        order_id,
        order_number,
        seq,
        pickup_code_hash,
        captured_minor,
    })
}

const COLUMNS: &str = "SELECT id, order_id, \
    (SELECT o.number FROM orders o WHERE o.id = fulfilment_orders.order_id), \
    seq, pickup_code_hash, captured_minor, body FROM fulfilment_orders";

/// The fulfilment order `id`, its row locked by this transaction (a no-op update takes the
/// lock on PostgreSQL; SQLite has one writer).
pub async fn lock(tx: &mut WriteTx, id: &str) -> Result<Option<FulfilmentRow>, StoreError> {
    sqlx::query("UPDATE fulfilment_orders SET updated_at = updated_at WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    let row: Option<Row> = sqlx::query_as(&format!("{COLUMNS} WHERE id = $1"))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    row.map(decode).transpose()
}

/// The order's fulfilment orders, by `seq`, on the transaction (under the order's lock).
pub async fn of_order_tx(
    tx: &mut WriteTx,
    order_id: &str,
) -> Result<Vec<FulfilmentRow>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{COLUMNS} WHERE order_id = $1 ORDER BY seq"))
        .bind(order_id)
        .fetch_all(tx.conn())
        .await?;
    rows.into_iter().map(decode).collect()
}

/// The order's fulfilment orders, by `seq`.
pub async fn of_order(db: &Db, order_id: &str) -> Result<Vec<FulfilmentRow>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{COLUMNS} WHERE order_id = $1 ORDER BY seq"))
        .bind(order_id)
        .fetch_all(db.pool())
        .await?;
    rows.into_iter().map(decode).collect()
}

/// What a list of fulfilment orders is narrowed to (each `None`: any).
#[derive(Clone, Copy, Debug, Default)]
pub struct Filter<'a> {
    pub location: Option<&'a str>,
    pub state: Option<&'a str>,
    /// The order's number.
    pub order: Option<&'a str>,
}

/// Fulfilment orders as `filter` narrows them, oldest first.
pub async fn list(
    db: &Db,
    filter: Filter<'_>,
    limit: i64,
) -> Result<Vec<FulfilmentRow>, StoreError> {
    let mut sql = format!("{COLUMNS} WHERE 1 = 1");
    let mut n = 0;
    // Each condition with `{}` where its parameter goes.
    let conditions = [
        ("location = {}", filter.location),
        ("state = {}", filter.state),
        (
            "order_id = (SELECT id FROM orders WHERE number = {})",
            filter.order,
        ),
    ];
    for (condition, value) in conditions {
        if value.is_some() {
            n += 1;
            sql.push_str(" AND ");
            sql.push_str(&condition.replace("{}", &format!("${n}")));
        }
    }
    sql.push_str(&format!(" ORDER BY created_at, id LIMIT ${}", n + 1));
    let mut query = sqlx::query_as::<_, Row>(&sql);
    for value in [filter.location, filter.state, filter.order]
        .into_iter()
        .flatten()
    {
        query = query.bind(value);
    }
    let rows = query.bind(limit).fetch_all(db.pool()).await?;
    rows.into_iter().map(decode).collect()
}

/// The timeline of `id`, oldest first.
pub async fn events(db: &Db, id: &str) -> Result<Vec<EventRow>, StoreError> {
    let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as("SELECT at, from_state, to_state, actor, reason FROM fulfilment_events WHERE fulfilment_id = $1 ORDER BY step")
        .bind(id)
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(at, from_state, to_state, actor, reason)| EventRow {
            at,
            from_state,
            to_state,
            actor,
            reason,
        })
        .collect())
}

/// The order id of the fulfilment order `id`.
pub async fn order_of(db: &Db, id: &str) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT order_id FROM fulfilment_orders WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Fulfilment orders still `ready_for_pickup` that became ready at or before `before` (unix
/// seconds), oldest first, at most `limit`.
pub async fn ready_before(db: &Db, before: i64, limit: i64) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT f.id FROM fulfilment_orders f JOIN fulfilment_events e ON e.fulfilment_id = f.id AND e.to_state = $1 WHERE f.state = $1 AND e.at <= $2 ORDER BY e.at, f.id LIMIT $3")
        .bind("ready_for_pickup")
        .bind(before)
        .bind(limit)
        .fetch_all(db.pool())
        .await?)
}
