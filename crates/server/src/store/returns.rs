//! Returns (`returns`: the `omnicart_order::Return` as JSON, with its order, owner and state
//! beside it; `return_lines`: each goods line's units, for the return rates), the restocking
//! of received units (`stock.on_hand`), and the counts the return rates divide.

use omnicart_order::{Disposition, Machine, Order, Return};

use crate::ids::now_unix;
use crate::store::{Db, StoreError, WriteTx, parse_json, to_json};

/// A stored return.
pub struct ReturnRow {
    pub id: String,
    pub order_id: String,
    pub customer_id: Option<String>,
    pub ret: Return,
}

type Row = (String, String, Option<String>, String);

fn decode((id, order_id, customer_id, body): Row) -> Result<ReturnRow, StoreError> {
    Ok(ReturnRow {
        ret: parse_json(&body, "return body")?,
        id,
        order_id,
        customer_id,
    })
}

const COLUMNS: &str = "SELECT id, order_id, customer_id, body FROM returns";

/// Inserts a new return of `order_id` after its others (the caller holds the order's lock).
pub async fn insert(
    tx: &mut WriteTx,
    id: &str,
    order_id: &str,
    customer_id: Option<&str>,
    ret: &Return,
) -> Result<(), StoreError> {
    let now = now_unix();
    sqlx::query("INSERT INTO returns (id, order_id, seq, customer_id, state, body, created_at, updated_at) VALUES ($1, $2, (SELECT COUNT(*) FROM returns WHERE order_id = $2), $3, $4, $5, $6, $6)")
        .bind(id)
        .bind(order_id)
        .bind(customer_id)
        .bind(ret.state().name())
        .bind(to_json(ret)?)
        .bind(now)
        .execute(tx.conn())
        .await?;
    for line in ret.lines().iter().filter(|l| !l.service) {
        sqlx::query("INSERT INTO return_lines (return_id, line, sku, customer_id, quantity) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(i64::try_from(line.line).unwrap_or(i64::MAX))
            .bind(line.sku.as_str())
            .bind(customer_id)
            .bind(i64::from(line.quantity))
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Writes the return as changed; `received` marks its lines received (for the rates).
pub async fn update(tx: &mut WriteTx, row: &ReturnRow, received: bool) -> Result<(), StoreError> {
    sqlx::query("UPDATE returns SET state = $1, body = $2, updated_at = $3 WHERE id = $4")
        .bind(row.ret.state().name())
        .bind(to_json(&row.ret)?)
        .bind(now_unix())
        .bind(&row.id)
        .execute(tx.conn())
        .await?;
    if received {
        sqlx::query("UPDATE return_lines SET received = 1 WHERE return_id = $1")
            .bind(&row.id)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// The return `id`, its row locked by this transaction (a no-op update takes the lock on
/// PostgreSQL; SQLite has one writer).
pub async fn lock(tx: &mut WriteTx, id: &str) -> Result<Option<ReturnRow>, StoreError> {
    sqlx::query("UPDATE returns SET updated_at = updated_at WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    let row: Option<Row> = sqlx::query_as(&format!("{COLUMNS} WHERE id = $1"))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    row.map(decode).transpose()
}

/// The order's returns, oldest first, on the transaction (under the order's lock).
pub async fn of_order_tx(tx: &mut WriteTx, order_id: &str) -> Result<Vec<ReturnRow>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{COLUMNS} WHERE order_id = $1 ORDER BY seq"))
        .bind(order_id)
        .fetch_all(tx.conn())
        .await?;
    rows.into_iter().map(decode).collect()
}

/// The order's returns, oldest first.
pub async fn of_order(db: &Db, order_id: &str) -> Result<Vec<ReturnRow>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{COLUMNS} WHERE order_id = $1 ORDER BY seq"))
        .bind(order_id)
        .fetch_all(db.pool())
        .await?;
    rows.into_iter().map(decode).collect()
}

/// Puts `quantity` units of `sku` back on hand at `location` (a record made if it had none),
/// in the receipt's transaction: available there as soon as it commits.
pub async fn restock(
    tx: &mut WriteTx,
    location: &str,
    sku: &str,
    quantity: u32,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO stock (location, sku, on_hand) VALUES ($1, $2, $3) ON CONFLICT (location, sku) DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand")
        .bind(location)
        .bind(sku)
        .bind(i64::from(quantity))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Whether a disposition puts the units back on the shelf.
pub fn restocks(d: Option<Disposition>) -> bool {
    d == Some(Disposition::Restock)
}

/// Units received back, per SKU and per customer (`(key, units)`).
pub async fn returned_units(
    db: &Db,
) -> Result<(Vec<(String, i64)>, Vec<(String, i64)>), StoreError> {
    let by_sku: Vec<(String, i64)> = sqlx::query_as("SELECT sku, CAST(SUM(quantity) AS BIGINT) FROM return_lines WHERE received = 1 GROUP BY sku")
        .fetch_all(db.pool())
        .await?;
    let by_customer: Vec<(String, i64)> = sqlx::query_as("SELECT customer_id, CAST(SUM(quantity) AS BIGINT) FROM return_lines WHERE received = 1 AND customer_id IS NOT NULL GROUP BY customer_id")
        .fetch_all(db.pool())
        .await?;
    Ok((by_sku, by_customer))
}

/// Every order not cancelled (for the units sold), at most `limit`.
pub async fn sold_orders(db: &Db, limit: i64) -> Result<Vec<Order>, StoreError> {
    let bodies: Vec<(String,)> = sqlx::query_as(
        "SELECT body FROM orders WHERE state <> 'cancelled' ORDER BY created_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    bodies
        .into_iter()
        .map(|(b,)| parse_json(&b, "order body"))
        .collect()
}
