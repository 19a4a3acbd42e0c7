//! The mail outbox (`mail_outbox`): mail written in the transaction of the change it
//! announces, read and marked sent by the mail sender ([`crate::service::mail`]).

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

/// A mail not yet sent, with its id.
pub struct Pending {
    pub id: String,
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

/// Up to `limit` unsent mails, oldest first.
pub async fn pending(db: &Db, limit: i64) -> Result<Vec<Pending>, StoreError> {
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as("SELECT id, recipient, subject, text_body, html_body FROM mail_outbox WHERE sent_at IS NULL ORDER BY created_at, id LIMIT $1")
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, recipient, subject, text, html)| Pending {
            id,
            mail: Mail {
                recipient,
                subject,
                text,
                html,
            },
        })
        .collect())
}

pub async fn mark_sent(db: &Db, id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE mail_outbox SET sent_at = $1 WHERE id = $2 AND sent_at IS NULL")
        .bind(now_unix())
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}
