//! Routing after placement and supply: moving an order's reserved units from one location to
//! others, giving back units nobody can ship, the cancelled lines (`line_cancellations`,
//! migration 0013), and the inventory feed's writes. SQL only; the rules are
//! `crate::service::resourcing`'s and `crate::service::inventory`'s.

use omnicart_engine::fulfilment::Incoming;

use crate::ids::{now_unix, random_id};
use crate::store::{StoreError, WriteTx, to_json};

/// Locks the stock rows of `skus` at every location, in (location, SKU) order as placement
/// locks them, so a re-sourcing and a placement sharing records wait instead of deadlocking
/// (PostgreSQL; SQLite's writer turn already serializes writers).
pub async fn lock_stock(tx: &mut WriteTx, skus: &[&str]) -> Result<(), StoreError> {
    if skus.is_empty() || tx.conn().backend_name() != "PostgreSQL" {
        return Ok(());
    }
    let placeholders: Vec<String> = (1..=skus.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT location FROM stock WHERE sku IN ({}) ORDER BY location, sku FOR UPDATE",
        placeholders.join(", ")
    );
    let mut lock = sqlx::query(&sql);
    for sku in skus {
        lock = lock.bind(*sku);
    }
    lock.fetch_all(tx.conn()).await?;
    Ok(())
}

/// Gives back `quantity` units of `sku` that the attempt holds at `location` (its
/// reservation row shrinks, and goes when empty). `false`: it held fewer (nothing changed).
pub async fn release_units(
    tx: &mut WriteTx,
    attempt_id: &str,
    location: &str,
    sku: &str,
    quantity: i64,
) -> Result<bool, StoreError> {
    let held = sqlx::query("UPDATE stock_reservations SET quantity = quantity - $1 WHERE attempt_id = $2 AND location = $3 AND sku = $4 AND quantity >= $1")
        .bind(quantity)
        .bind(attempt_id)
        .bind(location)
        .bind(sku)
        .execute(tx.conn())
        .await?
        .rows_affected();
    if held != 1 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM stock_reservations WHERE attempt_id = $1 AND location = $2 AND sku = $3 AND quantity = 0")
        .bind(attempt_id)
        .bind(location)
        .bind(sku)
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE stock SET reserved = reserved - $1 WHERE location = $2 AND sku = $3")
        .bind(quantity)
        .bind(location)
        .bind(sku)
        .execute(tx.conn())
        .await?;
    Ok(true)
}

/// Reserves `quantity` units of `sku` at `location` for the attempt, if the record can
/// promise them (the placement's condition). `false`: it cannot (nothing changed).
pub async fn reserve_units(
    tx: &mut WriteTx,
    attempt_id: &str,
    location: &str,
    sku: &str,
    quantity: i64,
) -> Result<bool, StoreError> {
    let updated = sqlx::query("UPDATE stock SET reserved = reserved + $1 WHERE location = $2 AND sku = $3 AND on_hand - reserved - safety >= $1")
        .bind(quantity)
        .bind(location)
        .bind(sku)
        .execute(tx.conn())
        .await?
        .rows_affected();
    if updated != 1 {
        return Ok(false);
    }
    sqlx::query("INSERT INTO stock_reservations (attempt_id, location, sku, quantity) VALUES ($1, $2, $3, $4) ON CONFLICT (attempt_id, location, sku) DO UPDATE SET quantity = stock_reservations.quantity + excluded.quantity")
        .bind(attempt_id)
        .bind(location)
        .bind(sku)
        .bind(quantity)
        .execute(tx.conn())
        .await?;
    Ok(true)
}

/// A cancelled line's units, as recorded.
pub struct Cancellation<'a> {
    pub order_id: &'a str,
    pub fulfilment_id: &'a str,
    pub sku: &'a str,
    pub quantity: i64,
    pub amount_minor: i64,
}

pub async fn insert_cancellation(tx: &mut WriteTx, c: &Cancellation<'_>) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO line_cancellations (id, order_id, fulfilment_id, sku, quantity, amount_minor, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(random_id("lcx_"))
        .bind(c.order_id)
        .bind(c.fulfilment_id)
        .bind(c.sku)
        .bind(c.quantity)
        .bind(c.amount_minor)
        .bind(now_unix())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// What the order's last parcel leaves uncaptured, in minor units: the cancelled lines'
/// amounts and, for each accepted substitute, what it costs less than the units ordered.
pub async fn cancelled_minor(tx: &mut WriteTx, order_id: &str) -> Result<i64, StoreError> {
    let cancelled: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(amount_minor) AS BIGINT) FROM line_cancellations WHERE order_id = $1",
    )
    .bind(order_id)
    .fetch_one(tx.conn())
    .await?;
    let cheaper: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(original_minor - charged_minor) AS BIGINT) FROM substitutions WHERE order_id = $1 AND state = 'accepted'",
    )
    .bind(order_id)
    .fetch_one(tx.conn())
    .await?;
    Ok(cancelled.unwrap_or(0) + cheaper.unwrap_or(0))
}

/// One stock record as a feed sets it.
pub struct FeedRecord<'a> {
    pub location: &'a str,
    pub sku: &'a str,
    pub on_hand: i64,
    /// Ascending by date, one entry per date.
    pub incoming: Vec<Incoming>,
}

/// Sets each record's on-hand count and incoming supply (a new record starts with nothing
/// reserved), in (location, SKU) order; a record already so is not written. How many were
/// written.
pub async fn apply_feed(tx: &mut WriteTx, records: &[FeedRecord<'_>]) -> Result<u32, StoreError> {
    let mut written = 0;
    for r in records {
        let changed = sqlx::query("INSERT INTO stock (location, sku, on_hand, incoming) VALUES ($1, $2, $3, $4) ON CONFLICT (location, sku) DO UPDATE SET on_hand = excluded.on_hand, incoming = excluded.incoming WHERE stock.on_hand <> excluded.on_hand OR stock.incoming <> excluded.incoming")
            .bind(r.location)
            .bind(r.sku)
            .bind(r.on_hand)
            .bind(to_json(&r.incoming)?)
            .execute(tx.conn())
            .await?
            .rows_affected();
        written += u32::from(changed > 0);
    }
    Ok(written)
}

/// A substitution as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SubstitutionRow {
    pub id: String,
    pub order_id: String,
    pub fulfilment_id: String,
    pub line_index: i64,
    pub sku: String,
    pub substitute_sku: String,
    pub quantity: i64,
    pub original_minor: i64,
    pub charged_minor: i64,
    pub state: String,
}

const SUBSTITUTION: &str = "SELECT id, order_id, fulfilment_id, line_index, sku, substitute_sku, quantity, original_minor, charged_minor, state FROM substitutions";

/// Stores a proposed substitution. `false`: the line has one proposed already (nothing
/// stored; on PostgreSQL the transaction is then over).
pub async fn insert_substitution(
    tx: &mut WriteTx,
    s: &SubstitutionRow,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query("INSERT INTO substitutions (id, order_id, fulfilment_id, line_index, sku, substitute_sku, quantity, original_minor, charged_minor, state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING")
        .bind(&s.id)
        .bind(&s.order_id)
        .bind(&s.fulfilment_id)
        .bind(s.line_index)
        .bind(&s.sku)
        .bind(&s.substitute_sku)
        .bind(s.quantity)
        .bind(s.original_minor)
        .bind(s.charged_minor)
        .bind(&s.state)
        .bind(now_unix())
        .execute(tx.conn())
        .await?
        .rows_affected();
    Ok(inserted == 1)
}

/// The substitution `id`, locked for its decision (PostgreSQL; SQLite has one writer).
pub async fn lock_substitution(
    tx: &mut WriteTx,
    id: &str,
) -> Result<Option<SubstitutionRow>, StoreError> {
    let lock = if tx.conn().backend_name() == "PostgreSQL" {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!("{SUBSTITUTION} WHERE id = $1{lock}");
    Ok(sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?)
}

pub async fn decide_substitution(
    tx: &mut WriteTx,
    id: &str,
    state: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE substitutions SET state = $1, decided_at = $2 WHERE id = $3")
        .bind(state)
        .bind(now_unix())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// An order's substitutions, oldest first.
pub async fn substitutions_of(
    db: &crate::store::Db,
    order_id: &str,
) -> Result<Vec<SubstitutionRow>, StoreError> {
    let sql = format!("{SUBSTITUTION} WHERE order_id = $1 ORDER BY created_at, id");
    Ok(sqlx::query_as(&sql)
        .bind(order_id)
        .fetch_all(db.pool())
        .await?)
}
