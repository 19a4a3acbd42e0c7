//! What edits after placement store (migration 0012): each order's `version` and what it was
//! priced with (`priced_with`), the re-reservation of an order's stock by record, and its
//! promotion claims brought in line with the edited quote.
//!
//! The re-reservation moves each stock record by its difference only, by the same kind of
//! conditional update as placement (`on_hand - reserved - safety >= $more`), with the
//! records locked first in (location, SKU) order on PostgreSQL, so edits and placements that
//! share records wait for each other instead of deadlocking.

use std::collections::BTreeMap;

use omnicart_order::StockDemand;

use crate::store::{StoreError, WriteTx};

/// The order's version and what it was priced with (JSON), on `conn`.
pub async fn version_of(
    conn: &mut sqlx::AnyConnection,
    order_id: &str,
) -> Result<(i64, Option<String>), StoreError> {
    Ok(
        sqlx::query_as("SELECT version, priced_with FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_one(conn)
            .await?,
    )
}

/// Records what the order was priced with (at placement, and after each edit).
pub async fn set_priced_with(
    tx: &mut WriteTx,
    order_id: &str,
    priced_with: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE orders SET priced_with = $1 WHERE id = $2")
        .bind(priced_with)
        .bind(order_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Raises the version from `from` by one. `false`: it was not `from` (another edit won).
pub async fn bump_version(tx: &mut WriteTx, order_id: &str, from: i64) -> Result<bool, StoreError> {
    let updated =
        sqlx::query("UPDATE orders SET version = version + 1 WHERE id = $1 AND version = $2")
            .bind(order_id)
            .bind(from)
            .execute(tx.conn())
            .await?
            .rows_affected();
    Ok(updated == 1)
}

/// What the attempt (and so its order) holds, per stock record, sorted.
pub async fn reserved_by(
    conn: &mut sqlx::AnyConnection,
    attempt_id: &str,
) -> Result<Vec<(String, String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT location, sku, quantity FROM stock_reservations WHERE attempt_id = $1 ORDER BY location, sku",
    )
    .bind(attempt_id)
    .fetch_all(conn)
    .await?)
}

/// Moves what the attempt holds to `wanted`: each record by its difference (more only if the
/// record can promise it), and the attempt's rows rewritten. The records that could not give
/// the more asked (then the caller rolls back; some rows may have moved).
pub async fn rereserve(
    tx: &mut WriteTx,
    attempt_id: &str,
    wanted: &[StockDemand],
) -> Result<Vec<(String, String)>, StoreError> {
    let mut delta: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (location, sku, quantity) in reserved_by(tx.conn(), attempt_id).await? {
        *delta.entry((location, sku)).or_default() -= quantity;
    }
    for d in wanted {
        *delta
            .entry((d.location.clone(), d.sku.as_str().to_owned()))
            .or_default() += i64::from(d.quantity);
    }
    delta.retain(|_, n| *n != 0);
    if delta.is_empty() {
        return Ok(Vec::new());
    }
    if tx.conn().backend_name() == "PostgreSQL" {
        for (location, sku) in delta.keys() {
            sqlx::query("SELECT location FROM stock WHERE location = $1 AND sku = $2 FOR UPDATE")
                .bind(location)
                .bind(sku)
                .fetch_all(tx.conn())
                .await?;
        }
    }
    let mut short = Vec::new();
    for ((location, sku), n) in &delta {
        let moved = sqlx::query("UPDATE stock SET reserved = reserved + $1 WHERE location = $2 AND sku = $3 AND ($1 < 0 OR on_hand - reserved - safety >= $1)")
            .bind(*n)
            .bind(location)
            .bind(sku)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if moved != 1 {
            short.push((location.clone(), sku.clone()));
        }
    }
    if !short.is_empty() {
        return Ok(short);
    }
    sqlx::query("DELETE FROM stock_reservations WHERE attempt_id = $1")
        .bind(attempt_id)
        .execute(tx.conn())
        .await?;
    for d in wanted {
        sqlx::query("INSERT INTO stock_reservations (attempt_id, location, sku, quantity) VALUES ($1, $2, $3, $4)")
            .bind(attempt_id)
            .bind(&d.location)
            .bind(d.sku.as_str())
            .bind(i64::from(d.quantity))
            .execute(tx.conn())
            .await?;
    }
    Ok(short)
}

/// The attempt's claims of limited promotions: promotion id to the discount claimed.
pub async fn claims_of(
    conn: &mut sqlx::AnyConnection,
    attempt_id: &str,
) -> Result<BTreeMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT promotion_id, amount_minor FROM promotion_claims WHERE attempt_id = $1",
    )
    .bind(attempt_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Brings the attempt's claims to `wanted` (promotion id to discount, the limited ones the
/// edited quote applies): a claim no longer applied is given back, a changed amount moves
/// the budget by its difference (more only within it), a new one is claimed as placement
/// claims. The promotions refused (then the caller rolls back).
pub async fn reclaim(
    tx: &mut WriteTx,
    attempt_id: &str,
    wanted: &BTreeMap<String, i64>,
) -> Result<Vec<String>, StoreError> {
    let held = claims_of(tx.conn(), attempt_id).await?;
    let mut refused = Vec::new();
    for (promotion, amount) in &held {
        match wanted.get(promotion) {
            None => {
                sqlx::query("UPDATE promotion_usage SET used = used - 1, spent_minor = spent_minor - $1 WHERE promotion_id = $2")
                    .bind(*amount)
                    .bind(promotion)
                    .execute(tx.conn())
                    .await?;
                sqlx::query(
                    "DELETE FROM promotion_claims WHERE attempt_id = $1 AND promotion_id = $2",
                )
                .bind(attempt_id)
                .bind(promotion)
                .execute(tx.conn())
                .await?;
            }
            Some(now) if now != amount => {
                let more = now - amount;
                let moved = sqlx::query("UPDATE promotion_usage SET spent_minor = spent_minor + $1 WHERE promotion_id = $2 AND ($1 < 0 OR budget_minor IS NULL OR spent_minor + $1 <= budget_minor)")
                    .bind(more)
                    .bind(promotion)
                    .execute(tx.conn())
                    .await?
                    .rows_affected();
                if moved != 1 {
                    refused.push(promotion.clone());
                    continue;
                }
                sqlx::query("UPDATE promotion_claims SET amount_minor = $1 WHERE attempt_id = $2 AND promotion_id = $3")
                    .bind(*now)
                    .bind(attempt_id)
                    .bind(promotion)
                    .execute(tx.conn())
                    .await?;
            }
            Some(_) => {}
        }
    }
    for (promotion, amount) in wanted {
        if !held.contains_key(promotion)
            && !crate::store::checkout::claim_use_if_limited(tx, attempt_id, promotion, *amount)
                .await?
        {
            refused.push(promotion.clone());
        }
    }
    Ok(refused)
}

/// Deletes a fulfilment order nobody started that an edit emptied, with its timeline.
pub async fn delete_fulfilment(tx: &mut WriteTx, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM fulfilment_events WHERE fulfilment_id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM fulfilment_orders WHERE id = $1 AND state = 'open'")
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Numbers the order's fulfilment orders `ids` 0, 1, 2 … in that order (after an edit
/// deleted some), so shipment `i` of the order's plan stays the fulfilment order of `seq` `i`.
/// Two passes, so no two rows share a `seq` on the way.
pub async fn renumber(tx: &mut WriteTx, ids: &[String]) -> Result<(), StoreError> {
    for pass in [true, false] {
        for (i, id) in ids.iter().enumerate() {
            let i = i64::try_from(i).unwrap_or(i64::MAX);
            let seq = if pass { -1 - i } else { i };
            sqlx::query("UPDATE fulfilment_orders SET seq = $1 WHERE id = $2")
                .bind(seq)
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
    }
    Ok(())
}
