//! Orders (`orders`: the `omnicart_order::Order` as JSON, with its number, owner and state
//! beside it for lookups) and the outbox (`outbox`), written in the transaction of the change
//! they announce.

use omnicart_order::Order;
use sqlx::AnyConnection;

use crate::ids::now_unix;
use crate::store::{Db, StoreError, WriteTx, parse_json, to_json};

/// A stored order with who may open it.
pub struct OrderRow {
    pub id: String,
    pub customer_id: Option<String>,
    pub guest_token_hash: Option<String>,
    pub attempt_id: String,
    pub order: Order,
}

pub struct NewOrder<'a> {
    pub id: &'a str,
    pub attempt_id: &'a str,
    pub guest_token_hash: Option<&'a str>,
    pub order: &'a Order,
}

/// Inserts the order. `false`: its number is taken (draw another).
pub async fn insert(tx: &mut WriteTx, new: &NewOrder<'_>) -> Result<bool, StoreError> {
    let now = now_unix();
    let inserted = sqlx::query("INSERT INTO orders (id, number, customer_id, guest_token_hash, attempt_id, state, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (number) DO NOTHING")
        .bind(new.id)
        .bind(new.order.number.to_string())
        .bind(new.order.customer_id.as_deref())
        .bind(new.guest_token_hash)
        .bind(new.attempt_id)
        .bind(omnicart_order::Machine::name(new.order.status.state()))
        .bind(to_json(new.order)?)
        .bind(now)
        .execute(tx.conn())
        .await?
        .rows_affected();
    if inserted != 1 {
        return Ok(false);
    }
    for code in &new.order.coupons {
        sqlx::query("INSERT INTO order_coupons (order_id, customer_id, code) VALUES ($1, $2, $3) ON CONFLICT (order_id, code) DO NOTHING")
            .bind(new.id)
            .bind(new.order.customer_id.as_deref())
            .bind(code)
            .execute(tx.conn())
            .await?;
    }
    Ok(true)
}

/// What a customer's orders tell promotions: how many are placed and not cancelled, and the
/// coupon codes those orders used (`order_coupons`), each once, sorted. The engine refuses a
/// used code only for a once-per-customer promotion: other codes stay reusable. A cancelled
/// order gives its codes back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub orders: i64,
    pub used_coupons: Vec<String>,
}

/// The codes used by the customer's orders that are not cancelled (the session's query,
/// [`crate::store::sessions::owner`], joins the same rows).
const USED_COUPONS: &str = "SELECT DISTINCT oc.code FROM order_coupons oc JOIN orders o ON o.id = oc.order_id WHERE oc.customer_id = $1 AND o.state <> 'cancelled' ORDER BY oc.code";

/// The customer's [`History`], on `conn` (a pooled connection, or a transaction's so that
/// it is read under the cart's lock).
pub async fn history(conn: &mut AnyConnection, customer_id: &str) -> Result<History, StoreError> {
    let orders: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE customer_id = $1 AND state <> 'cancelled'",
    )
    .bind(customer_id)
    .fetch_one(&mut *conn)
    .await?;
    let used_coupons: Vec<String> = sqlx::query_scalar(USED_COUPONS)
        .bind(customer_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(History {
        orders,
        used_coupons,
    })
}

/// [`history`] on a connection of the pool.
pub async fn history_of(db: &Db, customer_id: &str) -> Result<History, StoreError> {
    let mut conn = db.pool().acquire().await?;
    history(&mut conn, customer_id).await
}

/// Writes the order as changed (status, payment), with its event for the other systems in
/// the same transaction: `order.<state>` when its state changed, else `order.updated`
/// ([`crate::service::webhooks`]). Every change of an order passes here, so none goes
/// unannounced.
pub async fn update(tx: &mut WriteTx, id: &str, order: &Order) -> Result<(), StoreError> {
    let state = omnicart_order::Machine::name(order.status.state());
    let (before,): (String,) = sqlx::query_as("SELECT state FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    sqlx::query("UPDATE orders SET state = $1, body = $2, updated_at = $3 WHERE id = $4")
        .bind(state)
        .bind(to_json(order)?)
        .bind(now_unix())
        .bind(id)
        .execute(tx.conn())
        .await?;
    let kind = if before == state {
        "order.updated".to_owned()
    } else {
        format!("order.{state}")
    };
    crate::service::webhooks::order_event(tx, &kind, id, order).await
}

type Row = (String, Option<String>, Option<String>, String, String);

fn decode(
    (id, customer_id, guest_token_hash, attempt_id, body): Row,
) -> Result<OrderRow, StoreError> {
    Ok(OrderRow {
        order: parse_json(&body, "order body")?,
        id,
        customer_id,
        guest_token_hash,
        attempt_id,
    })
}

const SELECT: &str =
    "SELECT id, customer_id, guest_token_hash, attempt_id, body FROM orders WHERE number = $1";

pub async fn by_number(db: &Db, number: &str) -> Result<Option<OrderRow>, StoreError> {
    let row: Option<Row> = sqlx::query_as(SELECT)
        .bind(number)
        .fetch_optional(db.pool())
        .await?;
    row.map(decode).transpose()
}

/// The order by number, its row locked by this transaction (a no-op update takes the lock).
pub async fn lock_by_number(
    tx: &mut WriteTx,
    number: &str,
) -> Result<Option<OrderRow>, StoreError> {
    let conn: &mut AnyConnection = tx.conn();
    sqlx::query("UPDATE orders SET updated_at = updated_at WHERE number = $1")
        .bind(number)
        .execute(&mut *conn)
        .await?;
    let row: Option<Row> = sqlx::query_as(SELECT)
        .bind(number)
        .fetch_optional(conn)
        .await?;
    row.map(decode).transpose()
}

/// The number of the order `id`.
pub async fn number_of(db: &Db, id: &str) -> Result<String, StoreError> {
    let (number,): (String,) = sqlx::query_as("SELECT number FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    Ok(number)
}

/// The order `id`, its row locked by this transaction (as [`lock_by_number`]).
pub async fn lock_by_id(tx: &mut WriteTx, id: &str) -> Result<Option<OrderRow>, StoreError> {
    let conn: &mut AnyConnection = tx.conn();
    sqlx::query("UPDATE orders SET updated_at = updated_at WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, customer_id, guest_token_hash, attempt_id, body FROM orders WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(decode).transpose()
}

/// A customer's orders, newest first: `limit` from `offset`.
pub async fn of_customer(
    db: &Db,
    customer_id: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<Order>, StoreError> {
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM orders WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3")
        .bind(customer_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    bodies.iter().map(|b| parse_json(b, "order body")).collect()
}
