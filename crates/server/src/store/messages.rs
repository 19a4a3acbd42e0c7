//! Cart reminders, opt-outs and unsubscribe tokens, surveys (migration 0016).

use crate::store::{Db, StoreError, WriteTx};

/// A signed-in customer's cart that may be due a reminder.
pub struct IdleCart {
    pub cart_id: String,
    pub customer_id: String,
    pub email: String,
    pub name: String,
    pub body: String,
    pub updated_at: i64,
    /// Reminders sent since it was last changed, and when the last was.
    pub sent: i64,
    pub last_sent_at: i64,
}

/// Customers' carts unchanged since `idle_before`, whose customer did not opt out, with what
/// they were reminded of since their last change (at most `limit`, the longest idle first).
pub async fn idle_carts(
    db: &Db,
    idle_before: i64,
    limit: i64,
) -> Result<Vec<IdleCart>, StoreError> {
    type Row = (
        String,
        String,
        String,
        String,
        String,
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.id, c.owner, u.email, u.name, c.body, c.updated_at, r.idle_since, r.sent, r.last_sent_at \
         FROM carts c JOIN customers u ON u.id = c.owner \
         LEFT JOIN cart_reminders r ON r.cart_id = c.id \
         WHERE c.owner IS NOT NULL AND c.updated_at <= $1 \
           AND NOT EXISTS (SELECT 1 FROM mail_opt_outs o WHERE o.customer_id = c.owner) \
         ORDER BY c.updated_at LIMIT $2",
    )
    .bind(idle_before)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(cart_id, customer_id, email, name, body, updated_at, since, sent, last)| {
                // A reminder count is of the cart as it is: a change since starts it again.
                let current = since == Some(updated_at);
                IdleCart {
                    cart_id,
                    customer_id,
                    email,
                    name,
                    body,
                    updated_at,
                    sent: if current { sent.unwrap_or(0) } else { 0 },
                    last_sent_at: if current { last.unwrap_or(0) } else { 0 },
                }
            },
        )
        .collect())
}

/// Counts a reminder of the cart as of its change at `idle_since`, sent at `now`, if the
/// count is still `sent` (a concurrent sender's reminder makes this `false`).
pub async fn count_reminder(
    tx: &mut WriteTx,
    cart: &IdleCart,
    now: i64,
) -> Result<bool, StoreError> {
    let n = if cart.sent == 0 {
        sqlx::query("INSERT INTO cart_reminders (cart_id, idle_since, sent, last_sent_at) VALUES ($1, $2, 1, $3) ON CONFLICT (cart_id) DO UPDATE SET idle_since = $4, sent = 1, last_sent_at = $5 WHERE cart_reminders.idle_since <> $6")
            .bind(&cart.cart_id)
            .bind(cart.updated_at)
            .bind(now)
            .bind(cart.updated_at)
            .bind(now)
            .bind(cart.updated_at)
            .execute(tx.conn())
            .await?
            .rows_affected()
    } else {
        sqlx::query("UPDATE cart_reminders SET sent = sent + 1, last_sent_at = $1 WHERE cart_id = $2 AND idle_since = $3 AND sent = $4")
            .bind(now)
            .bind(&cart.cart_id)
            .bind(cart.updated_at)
            .bind(cart.sent)
            .execute(tx.conn())
            .await?
            .rows_affected()
    };
    Ok(n == 1)
}

/// Stores an unsubscribe token (its SHA-256) for the customer.
pub async fn insert_unsubscribe(
    tx: &mut WriteTx,
    token_hash: &str,
    customer_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO unsubscribe_tokens (token_hash, customer_id) VALUES ($1, $2)")
        .bind(token_hash)
        .bind(customer_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Opts out the customer of the token; `false` for an unknown token.
pub async fn opt_out(db: &Db, token_hash: &str, now: i64) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let customer: Option<(String,)> =
        sqlx::query_as("SELECT customer_id FROM unsubscribe_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(tx.conn())
            .await?;
    let Some((customer,)) = customer else {
        return Ok(false);
    };
    sqlx::query("INSERT INTO mail_opt_outs (customer_id, at) VALUES ($1, $2) ON CONFLICT (customer_id) DO NOTHING")
        .bind(&customer)
        .bind(now)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Records the order's survey, sent with a link of `token_hash`; `false` if it has one.
pub async fn insert_survey(
    tx: &mut WriteTx,
    order_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let n = sqlx::query("INSERT INTO surveys (order_id, token_hash, sent_at) VALUES ($1, $2, $3) ON CONFLICT (order_id) DO NOTHING")
        .bind(order_id)
        .bind(token_hash)
        .bind(now)
        .execute(tx.conn())
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// The order id of the survey link `token_hash`, and whether it was answered.
pub async fn survey(db: &Db, token_hash: &str) -> Result<Option<(String, bool)>, StoreError> {
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT order_id, answered_at FROM surveys WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|(order, answered)| (order, answered.is_some())))
}

/// Records the answer if the survey has none (`false`: it was answered before).
pub async fn answer(
    db: &Db,
    token_hash: &str,
    answer_json: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let n = sqlx::query("UPDATE surveys SET answered_at = $1, answer = $2 WHERE token_hash = $3 AND answered_at IS NULL")
        .bind(now)
        .bind(answer_json)
        .bind(token_hash)
        .execute(tx.conn())
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n == 1)
}

/// Answered surveys, newest first: (order number, answered at, answer JSON).
pub async fn answers(db: &Db, limit: i64) -> Result<Vec<(String, i64, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT o.number, s.answered_at, s.answer FROM surveys s JOIN orders o ON o.id = s.order_id WHERE s.answered_at IS NOT NULL ORDER BY s.answered_at DESC, o.number LIMIT $1")
        .bind(limit)
        .fetch_all(db.pool())
        .await?)
}
