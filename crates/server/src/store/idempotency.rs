//! Stored first answers per (scope, idempotency key) (`idempotency_keys`). A key is claimed
//! by inserting its row (the primary key decides between racers), answered by filling in its
//! status and body, and forgotten after a failure that changed nothing ([`forget`]) or after
//! its time to live ([`prune`]).

use crate::store::{Db, StoreError, WriteTx};

/// What a claim found.
pub enum Claim {
    /// The key is new: this request runs.
    Fresh,
    /// The first request with this key is still running.
    Running,
    /// The key was used with another request body.
    Mismatch,
    /// The first answer, to send again as it was.
    Answered { status: u16, body: String },
}

/// Claims `key` for a request whose body hashes to `hash`, forgetting an answer older than
/// `expired_before` first.
pub async fn claim(
    db: &Db,
    scope: &str,
    key: &str,
    hash: &str,
    now: i64,
    expired_before: i64,
) -> Result<Claim, StoreError> {
    let mut tx = db.begin_write().await?;
    // One statement: a new key, or one whose first answer has expired, is (re)claimed.
    let inserted = sqlx::query("INSERT INTO idempotency_keys (scope, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (scope, idem_key) DO UPDATE SET request_hash = excluded.request_hash, created_at = excluded.created_at, status = NULL, body = NULL WHERE idempotency_keys.created_at < $5")
        .bind(scope)
        .bind(key)
        .bind(hash)
        .bind(now)
        .bind(expired_before)
        .execute(tx.conn())
        .await?
        .rows_affected();
    let claim = if inserted == 1 {
        Claim::Fresh
    } else {
        let (stored_hash, status, body): (String, Option<i64>, Option<String>) = sqlx::query_as(
            "SELECT request_hash, status, body FROM idempotency_keys WHERE scope = $1 AND idem_key = $2",
        )
        .bind(scope)
        .bind(key)
        .fetch_one(tx.conn())
        .await?;
        match (stored_hash == hash, status, body) {
            (false, _, _) => Claim::Mismatch,
            (true, Some(status), Some(body)) => Claim::Answered {
                status: u16::try_from(status).unwrap_or(500),
                body,
            },
            _ => Claim::Running,
        }
    };
    tx.commit().await?;
    Ok(claim)
}

/// Stores the answer of a claimed key, in the caller's transaction.
pub async fn answer(
    tx: &mut WriteTx,
    scope: &str,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $1, body = $2 WHERE scope = $3 AND idem_key = $4",
    )
    .bind(i64::from(status))
    .bind(body)
    .bind(scope)
    .bind(key)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Forgets a claim that has no answer (its request failed having changed nothing), so a retry
/// runs again.
pub async fn forget(db: &Db, scope: &str, key: &str) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND body IS NULL")
        .bind(scope)
        .bind(key)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets answers created before `answered_before` and unanswered claims created before
/// `running_before` (their process died: a retry may run again; whatever they reserved has
/// been released by the sweeper).
pub async fn prune(db: &Db, answered_before: i64, running_before: i64) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < $1 OR (body IS NULL AND created_at < $2)",
    )
    .bind(answered_before)
    .bind(running_before)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What is stored under a key, read without claiming it.
pub enum Stored {
    /// No claim: never made, forgotten or pruned.
    Missing,
    /// Its request is still running.
    Running,
    Answered {
        status: u16,
        body: String,
    },
}

/// What is stored under `key` (another request's key, whose answer this one gives).
pub async fn stored(db: &Db, scope: &str, key: &str) -> Result<Stored, StoreError> {
    let row: Option<(Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT status, body FROM idempotency_keys WHERE scope = $1 AND idem_key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(db.pool())
    .await?;
    Ok(match row {
        None => Stored::Missing,
        Some((Some(status), Some(body))) => Stored::Answered {
            status: u16::try_from(status).unwrap_or(500),
            body,
        },
        Some(_) => Stored::Running,
    })
}
