//! Checkouts waiting for the shopper's challenge (`checkout_challenges`): the placement kept
//! for step 3, the attempt's hold extended for a person, and the one completion that may
//! run (claimed by its idempotency key, so a second completion finds the first one's answer;
//! or by a new checkout of the cart that replaces it).

use crate::store::checkout::RESERVED;
use crate::store::{Db, StoreError, WriteTx};

pub struct NewChallenge<'a> {
    pub attempt_id: &'a str,
    pub scope: &'a str,
    /// JSON of what step 3 places.
    pub placement: &'a str,
    pub now: i64,
}

/// A challenge with its attempt.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ChallengeRow {
    pub attempt_id: String,
    pub customer_id: Option<String>,
    pub scope: String,
    pub provider: String,
    /// The attempt's state (`reserved` while it holds stock and uses).
    pub state: String,
    pub expires_at: i64,
    pub placement: String,
    pub completed_by: Option<String>,
}

impl ChallengeRow {
    /// Still holding stock and uses at `now` (the sweeper has not released it).
    pub fn live_at(&self, now: i64) -> bool {
        self.state == RESERVED && self.expires_at >= now
    }
}

/// Extends a live attempt's hold to `expires_at`. `false`: it is no longer live at `now`
/// (swept), nothing changed.
pub async fn extend_attempt(
    tx: &mut WriteTx,
    attempt_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE checkout_attempts SET expires_at = $1 WHERE id = $2 AND state = $3 AND expires_at >= $4",
    )
    .bind(expires_at)
    .bind(attempt_id)
    .bind(RESERVED)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub async fn insert(tx: &mut WriteTx, challenge: &NewChallenge<'_>) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO checkout_challenges (attempt_id, scope, placement, created_at) VALUES ($1, $2, $3, $4)")
        .bind(challenge.attempt_id)
        .bind(challenge.scope)
        .bind(challenge.placement)
        .bind(challenge.now)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn find(db: &Db, attempt_id: &str) -> Result<Option<ChallengeRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT c.attempt_id, a.customer_id, c.scope, a.provider, a.state, a.expires_at, c.placement, c.completed_by FROM checkout_challenges c JOIN checkout_attempts a ON a.id = c.attempt_id WHERE c.attempt_id = $1",
    )
    .bind(attempt_id)
    .fetch_optional(db.pool())
    .await?)
}

/// The cart's live attempt, if it is a challenge no completion has claimed.
pub async fn waiting(db: &Db, cart_id: &str) -> Result<Option<ChallengeRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT c.attempt_id, a.customer_id, c.scope, a.provider, a.state, a.expires_at, c.placement, c.completed_by FROM checkout_challenges c JOIN checkout_attempts a ON a.id = c.attempt_id WHERE a.cart_id = $1 AND a.state = $2 AND c.completed_by IS NULL",
    )
    .bind(cart_id)
    .bind(RESERVED)
    .fetch_optional(db.pool())
    .await?)
}

/// Claims the challenge for the completion with idempotency key `key`: `None` if it has it
/// now (no completion had it, or this key had it before), else the key of the completion
/// that has it.
pub async fn claim(db: &Db, attempt_id: &str, key: &str) -> Result<Option<String>, StoreError> {
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query("UPDATE checkout_challenges SET completed_by = $1 WHERE attempt_id = $2 AND (completed_by IS NULL OR completed_by = $1)")
        .bind(key)
        .bind(attempt_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
    let holder = if updated == 1 {
        None
    } else {
        sqlx::query_scalar("SELECT completed_by FROM checkout_challenges WHERE attempt_id = $1")
            .bind(attempt_id)
            .fetch_one(tx.conn())
            .await?
    };
    tx.commit().await?;
    Ok(holder)
}

/// Gives the challenge up again after a completion that failed having changed nothing (a
/// server failure: its retry, or another completion, may run).
pub async fn unclaim(db: &Db, attempt_id: &str, key: &str) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE checkout_challenges SET completed_by = NULL WHERE attempt_id = $1 AND completed_by = $2")
        .bind(attempt_id)
        .bind(key)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(())
}
