//! Sessions (`sessions`), stored by the SHA-256 of their token: a leaked database holds no
//! usable token. Tokens are hashed by the caller ([`crate::ids::sha256_hex`]).

use crate::store::{Db, StoreError, accounts};

/// Who a live session belongs to: the customer's id and segments.
pub struct SessionOwner {
    pub customer_id: String,
    pub segments: Vec<String>,
    /// Their orders placed and not cancelled, read with the session: every signed-in request
    /// needs it for its quote context, so it costs no round trip of its own.
    pub orders: i64,
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
    let row: Option<(String, String, i64)> = sqlx::query_as(
        "SELECT s.customer_id, c.segments,
                (SELECT COUNT(*) FROM orders o WHERE o.customer_id = s.customer_id AND o.state <> 'cancelled')
             FROM sessions s JOIN customers c ON c.id = s.customer_id
             WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|(customer_id, segments, orders)| SessionOwner {
        customer_id,
        segments: accounts::split_segments(&segments),
        orders,
    }))
}

pub async fn delete(db: &Db, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(db.pool())
        .await?;
    Ok(())
}
