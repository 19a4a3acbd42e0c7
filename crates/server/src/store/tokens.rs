//! Bearer tokens (`bearer_tokens`), stored by the SHA-256 of their token (hashed by the
//! caller with [`crate::ids::sha256_hex`]): a session's, or a guest cart's.

use crate::store::{Db, StoreError};

/// What a live token stands for.
pub struct Token {
    /// The session it acts as (a signed-in customer's), or `None` for a guest cart's token.
    pub session_hash: Option<String>,
    pub cart_id: Option<String>,
}

pub async fn insert(
    db: &Db,
    token_hash: &str,
    session_hash: Option<&str>,
    cart_id: Option<&str>,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO bearer_tokens (token_hash, session_hash, cart_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash)
        .bind(session_hash)
        .bind(cart_id)
        .bind(now)
        .bind(expires_at)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The token, if it exists and has not expired at `now`.
pub async fn find(db: &Db, token_hash: &str, now: i64) -> Result<Option<Token>, StoreError> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT session_hash, cart_id FROM bearer_tokens WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|(session_hash, cart_id)| Token {
        session_hash,
        cart_id,
    }))
}

/// Revokes one token.
pub async fn delete(db: &Db, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM bearer_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Revokes every token of a session (sign-out; the foreign key does it too where the
/// session row goes).
pub async fn delete_for_session(db: &Db, session_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM bearer_tokens WHERE session_hash = $1")
        .bind(session_hash)
        .execute(db.pool())
        .await?;
    Ok(())
}
