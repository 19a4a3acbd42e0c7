//! Stock (`stock`), promotion uses (`promotion_usage`) and checkout attempts with what they
//! hold (`checkout_attempts`, `stock_reservations`, `promotion_claims`).
//!
//! Stock and uses change only by conditional updates whose `WHERE` is the rule
//! (`on_hand - reserved - safety >= $q`, `used < use_limit`, `spent + $a <= budget`), never by
//! reading a value and writing it back: two transactions racing for the last unit cannot both
//! succeed, on SQLite (one writer) or PostgreSQL (the second re-checks the row after the
//! first commits). Every unit reserved and every use claimed is recorded under its attempt,
//! and [`release`] gives back exactly what was recorded.

use omnicart_engine::Snapshot;
use omnicart_order::StockDemand;
use sqlx::error::ErrorKind;

use crate::store::{Db, StoreError, WriteTx, to_json};

/// An attempt holds stock and uses and is being paid for.
pub const RESERVED: &str = "reserved";
/// An order holds what the attempt reserved.
pub const ORDERED: &str = "ordered";
/// Declined, failed or swept: holds nothing.
pub const RELEASED: &str = "released";
/// Its order was cancelled: holds nothing.
pub const CANCELLED: &str = "cancelled";

/// Loads the network's stock when the table is empty (first start) and adds a usage row for
/// every promotion with a usage limit or budget that has none. Stock already stored is kept.
pub async fn seed(db: &Db, snapshot: &Snapshot) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM stock")
        .fetch_one(tx.conn())
        .await?;
    if count == 0 {
        for record in &snapshot.network().data().stock {
            sqlx::query("INSERT INTO stock (location, sku, on_hand, reserved, safety, incoming) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&record.location)
                .bind(record.sku.as_str())
                .bind(i64::from(record.on_hand))
                .bind(i64::from(record.reserved))
                .bind(i64::from(record.safety))
                .bind(to_json(&record.incoming)?)
                .execute(tx.conn())
                .await?;
        }
    }
    let currency = snapshot.currency();
    for promotion in snapshot.promotions() {
        if promotion.usage_limit.is_none() && promotion.budget.is_none() {
            continue;
        }
        let budget = promotion
            .budget
            .map(|b| omnicart_engine::Money::parse(&String::from(b), currency))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("budget of {}: {e}", promotion.id)))?
            .and_then(|m| m.to_minor());
        sqlx::query("INSERT INTO promotion_usage (promotion_id, use_limit, budget_minor) VALUES ($1, $2, $3) ON CONFLICT (promotion_id) DO NOTHING")
            .bind(&*promotion.id)
            .bind(promotion.usage_limit.map(i64::from))
            .bind(budget)
            .execute(tx.conn())
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A limited promotion's row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UsageRow {
    pub promotion_id: String,
    pub use_limit: Option<i64>,
    pub used: i64,
    pub budget_minor: Option<i64>,
    pub spent_minor: i64,
}

pub async fn usage(db: &Db) -> Result<Vec<UsageRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT promotion_id, use_limit, used, budget_minor, spent_minor FROM promotion_usage",
    )
    .fetch_all(db.pool())
    .await?)
}

/// A stock record as stored: `incoming` is its JSON list of dated arrivals.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StockRow {
    pub location: String,
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub safety: i64,
    pub incoming: String,
}

/// The stock of `skus` at every location, in one query (on the transaction's connection,
/// or any other).
pub async fn stock_of(
    conn: &mut sqlx::AnyConnection,
    skus: &[&str],
) -> Result<Vec<StockRow>, StoreError> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=skus.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT location, sku, on_hand, reserved, safety, incoming FROM stock WHERE sku IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as(&sql);
    for sku in skus {
        query = query.bind(*sku);
    }
    Ok(query.fetch_all(conn).await?)
}

/// The units the cart's live checkout attempt holds, per (location, SKU).
pub async fn held_by_cart(
    conn: &mut sqlx::AnyConnection,
    cart_id: &str,
) -> Result<Vec<(String, String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT r.location, r.sku, r.quantity FROM stock_reservations r \
         JOIN checkout_attempts a ON a.id = r.attempt_id WHERE a.cart_id = $1 AND a.state = $2",
    )
    .bind(cart_id)
    .bind(RESERVED)
    .fetch_all(conn)
    .await?)
}

/// Every stock record, by location then SKU (byte order, the same on either database).
pub async fn all_stock(db: &Db) -> Result<Vec<StockRow>, StoreError> {
    let mut rows: Vec<StockRow> =
        sqlx::query_as("SELECT location, sku, on_hand, reserved, safety, incoming FROM stock")
            .fetch_all(db.pool())
            .await?;
    rows.sort_unstable_by(|a, b| (&a.location, &a.sku).cmp(&(&b.location, &b.sku)));
    Ok(rows)
}

/// A new attempt, in [`RESERVED`]. `false`: the cart has a live attempt already.
pub async fn insert_attempt(
    tx: &mut WriteTx,
    attempt: &NewAttempt<'_>,
) -> Result<bool, StoreError> {
    let result = sqlx::query("INSERT INTO checkout_attempts (id, cart_id, customer_id, state, provider, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(attempt.id)
        .bind(attempt.cart_id)
        .bind(attempt.customer_id)
        .bind(RESERVED)
        .bind(attempt.provider)
        .bind(attempt.now)
        .bind(attempt.expires_at)
        .execute(tx.conn())
        .await;
    match result {
        Ok(_) => Ok(true),
        // The one unique index an insert with a fresh random id can break: one live attempt
        // per cart.
        Err(e) if e.as_database_error().map(|d| d.kind()) == Some(ErrorKind::UniqueViolation) => {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

pub struct NewAttempt<'a> {
    pub id: &'a str,
    pub cart_id: &'a str,
    pub customer_id: Option<&'a str>,
    pub provider: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// Reserves every demand (each for one stock record) for the attempt, in two statements: one
/// conditional update of all the records (each row only if it can promise its demand), and,
/// if every row could, one insert of what the attempt holds. The demands refused; when any
/// is, the rows that could were updated all the same, and the caller rolls back.
pub async fn reserve_all(
    tx: &mut WriteTx,
    attempt_id: &str,
    demands: &[StockDemand],
) -> Result<Vec<StockDemand>, StoreError> {
    if demands.is_empty() {
        return Ok(Vec::new());
    }
    // `VALUES` names its columns column1, column2, … on SQLite and PostgreSQL alike.
    let values: Vec<String> = (0..demands.len())
        .map(|i| {
            format!(
                "(${}, ${}, CAST(${} AS BIGINT))",
                3 * i + 1,
                3 * i + 2,
                3 * i + 3
            )
        })
        .collect();
    let sql = format!(
        "UPDATE stock SET reserved = stock.reserved + d.column3 FROM (VALUES {}) AS d \
         WHERE stock.location = d.column1 AND stock.sku = d.column2 \
         AND stock.on_hand - stock.reserved - stock.safety >= d.column3 RETURNING location, sku",
        values.join(", ")
    );
    if tx.conn().backend_name() == "PostgreSQL" {
        lock_in_order(tx, demands).await?;
    }
    let mut update = sqlx::query_as::<_, (String, String)>(&sql);
    for d in demands {
        update = update
            .bind(&d.location)
            .bind(d.sku.as_str())
            .bind(i64::from(d.quantity));
    }
    let reserved = update.fetch_all(tx.conn()).await?;
    let short: Vec<StockDemand> = demands
        .iter()
        .filter(|d| {
            !reserved
                .iter()
                .any(|(l, s)| *l == d.location && s == d.sku.as_str())
        })
        .cloned()
        .collect();
    if !short.is_empty() {
        return Ok(short);
    }
    let rows: Vec<String> = (0..demands.len())
        .map(|i| format!("($1, ${}, ${}, ${})", 3 * i + 2, 3 * i + 3, 3 * i + 4))
        .collect();
    let sql = format!(
        "INSERT INTO stock_reservations (attempt_id, location, sku, quantity) VALUES {}",
        rows.join(", ")
    );
    let mut insert = sqlx::query(&sql).bind(attempt_id);
    for d in demands {
        insert = insert
            .bind(&d.location)
            .bind(d.sku.as_str())
            .bind(i64::from(d.quantity));
    }
    insert.execute(tx.conn()).await?;
    Ok(short)
}

/// Locks the demands' stock rows in (location, SKU) order, so two placements wanting the
/// same records wait for each other instead of deadlocking (PostgreSQL locks the rows of
/// an `UPDATE … FROM` in whatever order its join visits them).
async fn lock_in_order(tx: &mut WriteTx, demands: &[StockDemand]) -> Result<(), StoreError> {
    let pairs: Vec<String> = (0..demands.len())
        .map(|i| format!("(location = ${} AND sku = ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "SELECT location FROM stock WHERE {} ORDER BY location, sku FOR UPDATE",
        pairs.join(" OR ")
    );
    let mut lock = sqlx::query(&sql);
    for d in demands {
        lock = lock.bind(&d.location).bind(d.sku.as_str());
    }
    lock.fetch_all(tx.conn()).await?;
    Ok(())
}

/// Claims one use of a promotion and `amount_minor` of its budget, if it is limited (has a
/// usage row). `false`: no use or not enough budget left (nothing changed).
pub async fn claim_use_if_limited(
    tx: &mut WriteTx,
    attempt_id: &str,
    promotion_id: &str,
    amount_minor: i64,
) -> Result<bool, StoreError> {
    let updated = sqlx::query("UPDATE promotion_usage SET used = used + 1, spent_minor = spent_minor + $1 WHERE promotion_id = $2 AND (use_limit IS NULL OR used < use_limit) AND (budget_minor IS NULL OR spent_minor + $1 <= budget_minor)")
        .bind(amount_minor)
        .bind(promotion_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
    if updated == 0 {
        let limited: Option<String> =
            sqlx::query_scalar("SELECT promotion_id FROM promotion_usage WHERE promotion_id = $1")
                .bind(promotion_id)
                .fetch_optional(tx.conn())
                .await?;
        return Ok(limited.is_none());
    }
    sqlx::query(
        "INSERT INTO promotion_claims (attempt_id, promotion_id, amount_minor) VALUES ($1, $2, $3)",
    )
    .bind(attempt_id)
    .bind(promotion_id)
    .bind(amount_minor)
    .execute(tx.conn())
    .await?;
    Ok(true)
}

/// Moves the attempt from `from` to `to` if it is still in `from` (and, for `from` =
/// [`RESERVED`], not expired at `now`). `false`: it was not (another process moved it).
pub async fn move_attempt(
    tx: &mut WriteTx,
    attempt_id: &str,
    from: &str,
    to: &str,
    not_expired_at: Option<i64>,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE checkout_attempts SET state = $1 WHERE id = $2 AND state = $3 AND expires_at >= $4",
    )
    .bind(to)
    .bind(attempt_id)
    .bind(from)
    .bind(not_expired_at.unwrap_or(i64::MIN))
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Moves the attempt from `from` to `to` ([`RELEASED`] or [`CANCELLED`]) and gives back every
/// unit and use it holds. `false`: it was not in `from` (already released: nothing changed).
pub async fn release(
    tx: &mut WriteTx,
    attempt_id: &str,
    from: &str,
    to: &str,
) -> Result<bool, StoreError> {
    if !move_attempt(tx, attempt_id, from, to, None).await? {
        return Ok(false);
    }
    sqlx::query("UPDATE stock SET reserved = reserved - (SELECT r.quantity FROM stock_reservations r WHERE r.attempt_id = $1 AND r.location = stock.location AND r.sku = stock.sku) WHERE EXISTS (SELECT 1 FROM stock_reservations r WHERE r.attempt_id = $1 AND r.location = stock.location AND r.sku = stock.sku)")
        .bind(attempt_id)
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM stock_reservations WHERE attempt_id = $1")
        .bind(attempt_id)
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE promotion_usage SET used = used - 1, spent_minor = spent_minor - (SELECT c.amount_minor FROM promotion_claims c WHERE c.attempt_id = $1 AND c.promotion_id = promotion_usage.promotion_id) WHERE promotion_id IN (SELECT promotion_id FROM promotion_claims WHERE attempt_id = $1)")
        .bind(attempt_id)
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM promotion_claims WHERE attempt_id = $1")
        .bind(attempt_id)
        .execute(tx.conn())
        .await?;
    Ok(true)
}

/// Attempts in [`RESERVED`] that expired before `now` (a crashed or stalled placement), with
/// their provider.
pub async fn expired_attempts(db: &Db, now: i64) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, provider FROM checkout_attempts WHERE state = $1 AND expires_at < $2",
    )
    .bind(RESERVED)
    .bind(now)
    .fetch_all(db.pool())
    .await?)
}
