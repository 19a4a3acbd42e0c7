//! Wrong passwords per (email, client address) in the current window (`sign_in_failures`):
//! counted in the database so that every server process on it sees the same counts. The
//! rules that read them are [`crate::service::accounts`]'s.

use crate::store::{Db, StoreError};

/// One pair's failures since `first_at` (Unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairFailures {
    pub failures: i64,
    pub first_at: i64,
}

/// An email's failures from every address, each pair counted up to a cap, and the latest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmailFailures {
    pub capped_total: i64,
    pub last_at: i64,
}

/// The email's failures over all addresses whose window started after `cutoff`, each pair
/// counting at most `cap` (one address, however persistent, adds at most `cap`).
pub async fn of_email(
    db: &Db,
    email: &str,
    cutoff: i64,
    cap: i64,
) -> Result<EmailFailures, StoreError> {
    let (capped_total, last_at): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT CAST(SUM(CASE WHEN failures > $3 THEN $3 ELSE failures END) AS BIGINT), MAX(last_at)
             FROM sign_in_failures WHERE email = $1 AND first_at > $2",
    )
    .bind(email)
    .bind(cutoff)
    .bind(cap)
    .fetch_one(db.pool())
    .await?;
    Ok(EmailFailures {
        capped_total: capped_total.unwrap_or(0),
        last_at: last_at.unwrap_or(0),
    })
}

/// Counts one more failure of the pair at `now`; a window that started at or before `cutoff`
/// starts again. One statement, so racing processes both count. The pair's count after it.
pub async fn record(
    db: &Db,
    email: &str,
    client: &str,
    now: i64,
    cutoff: i64,
) -> Result<PairFailures, StoreError> {
    let (failures, first_at): (i64, i64) = sqlx::query_as(
        "INSERT INTO sign_in_failures (email, client, failures, first_at, last_at)
             VALUES ($1, $2, 1, $3, $3)
         ON CONFLICT (email, client) DO UPDATE SET
             failures = CASE WHEN sign_in_failures.first_at <= $4 THEN 1
                             ELSE sign_in_failures.failures + 1 END,
             first_at = CASE WHEN sign_in_failures.first_at <= $4 THEN $3
                             ELSE sign_in_failures.first_at END,
             last_at = $3
         RETURNING failures, first_at",
    )
    .bind(email)
    .bind(client)
    .bind(now)
    .bind(cutoff)
    .fetch_one(db.pool())
    .await?;
    Ok(PairFailures { failures, first_at })
}

/// Forgets the pair's failures (its right password was given).
pub async fn clear(db: &Db, email: &str, client: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sign_in_failures WHERE email = $1 AND client = $2")
        .bind(email)
        .bind(client)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Deletes the windows that started at or before `cutoff`.
pub async fn prune(db: &Db, cutoff: i64) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM sign_in_failures WHERE first_at <= $1")
        .bind(cutoff)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}
