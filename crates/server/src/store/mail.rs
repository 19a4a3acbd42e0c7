//! The mail outbox (`mail_outbox`): mail written in the transaction of the change it
//! announces; read when due, claimed, and marked sent or failed by the mail sender
//! ([`crate::service::mail`]).

use crate::ids::{now_unix, random_id};
use crate::store::{Db, StoreError, WriteTx};

/// A mail as stored and sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A mail not yet sent, with its id and how often sending it failed.
pub struct Pending {
    pub id: String,
    pub attempts: i64,
    pub mail: Mail,
}

/// Adds the mail about `order_id` to the outbox, in the caller's transaction.
pub async fn insert(tx: &mut WriteTx, order_id: &str, mail: &Mail) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO mail_outbox (id, order_id, recipient, subject, text_body, html_body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(random_id("mail_"))
        .bind(order_id)
        .bind(&mail.recipient)
        .bind(&mail.subject)
        .bind(&mail.text)
        .bind(&mail.html)
        .bind(now_unix())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Adds a mail about no order (a cart reminder) to the outbox, in the caller's transaction.
pub async fn insert_unordered(tx: &mut WriteTx, mail: &Mail) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO mail_outbox (id, recipient, subject, text_body, html_body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(random_id("mail_"))
        .bind(&mail.recipient)
        .bind(&mail.subject)
        .bind(&mail.text)
        .bind(&mail.html)
        .bind(now_unix())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Up to `limit` unsent mails due at `now` (never tried, or their retry time reached), the
/// longest due first.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<Pending>, StoreError> {
    type Row = (String, i64, String, String, String, String);
    let rows: Vec<Row> = sqlx::query_as("SELECT id, attempts, recipient, subject, text_body, html_body FROM mail_outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, created_at, id LIMIT $2")
        .bind(now)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, attempts, recipient, subject, text, html)| Pending {
            id,
            attempts,
            mail: Mail {
                recipient,
                subject,
                text,
                html,
            },
        })
        .collect())
}

/// Claims the mail for one send until `until`, if it is still unsent and due at `now`;
/// `false`: another sender has it (or sent it).
pub async fn claim(db: &Db, id: &str, now: i64, until: i64) -> Result<bool, StoreError> {
    let claimed = sqlx::query("UPDATE mail_outbox SET next_attempt_at = $1 WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3")
        .bind(until)
        .bind(id)
        .bind(now)
        .execute(db.pool())
        .await?
        .rows_affected();
    Ok(claimed == 1)
}

pub async fn mark_sent(db: &Db, id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE mail_outbox SET sent_at = $1 WHERE id = $2 AND sent_at IS NULL")
        .bind(now_unix())
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Records a failed send: one attempt more, the error, and when to try again.
pub async fn failed(db: &Db, id: &str, retry_at: i64, error: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3 AND sent_at IS NULL")
        .bind(retry_at)
        .bind(error)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}
