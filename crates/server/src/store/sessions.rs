//! Sessions (`sessions`), stored by the SHA-256 of their token: a leaked database holds no
//! usable token. Tokens are hashed by the caller ([`crate::ids::sha256_hex`]).

use crate::store::{Db, StoreError, accounts};

/// Who a live session belongs to: the customer's id and segments.
pub struct SessionOwner {
    pub customer_id: String,
    pub segments: Vec<String>,
    /// Their orders placed and not cancelled, and the coupon codes those orders used (each
    /// once, sorted), read with the session: every signed-in request needs them for its quote
    /// context, so they cost no round trip of their own.
    pub orders: i64,
    pub used_coupons: Vec<String>,
}

pub async fn insert(
    db: &Db,
    token_hash: &str,
    customer_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO sessions (token_hash, customer_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(customer_id)
        .bind(now)
        .bind(expires_at)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The owner of the session, if it exists and has not expired at `now`.
pub async fn owner(
    db: &Db,
    token_hash: &str,
    now: i64,
) -> Result<Option<SessionOwner>, StoreError> {
    // One row per used code (one row with none when there is none): a customer has few.
    let rows: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT s.customer_id, c.segments,
                (SELECT COUNT(*) FROM orders o WHERE o.customer_id = s.customer_id AND o.state <> 'cancelled'),
                u.code
             FROM sessions s JOIN customers c ON c.id = s.customer_id
             LEFT JOIN order_coupons u ON u.customer_id = s.customer_id
                 AND EXISTS (SELECT 1 FROM orders uo WHERE uo.id = u.order_id AND uo.state <> 'cancelled')
             WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    let mut used_coupons: Vec<String> = rows.iter().filter_map(|r| r.3.clone()).collect();
    used_coupons.sort_unstable();
    used_coupons.dedup();
    Ok(rows
        .into_iter()
        .next()
        .map(|(customer_id, segments, orders, _)| SessionOwner {
            customer_id,
            segments: accounts::split_segments(&segments),
            orders,
            used_coupons,
        }))
}

pub async fn delete(db: &Db, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(db.pool())
        .await?;
    Ok(())
}
