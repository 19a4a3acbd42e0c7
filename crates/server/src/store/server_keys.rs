//! Keys the server derives values from (`server_keys`, migration 0012): generated once per
//! database when the configuration names none, so every process on it agrees.

use crate::ids::session_token;
use crate::store::{Db, StoreError};

/// The key `name`: made (256 random bits, hex) by the first process to ask, read by all.
pub async fn key(db: &Db, name: &str) -> Result<String, StoreError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO server_keys (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(session_token())
    .execute(tx.conn())
    .await?;
    let secret: String = sqlx::query_scalar("SELECT secret FROM server_keys WHERE name = $1")
        .bind(name)
        .fetch_one(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(secret)
}
