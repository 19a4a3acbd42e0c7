//! The store below the API, on both databases: account creation's errors, and each database's
//! own writer turn.

mod common;

use std::time::Duration;

use omnicart_server::service::accounts::{CreateAccountError, create_customer};

#[tokio::test]
async fn a_second_account_with_one_email_is_email_taken_not_a_database_error() {
    // Past sign-up's own check, as when two sign-ups race: the unique index decides.
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(&dir).await;
    let first = create_customer(&db, "race@example.com", "First", "", "a long password").await;
    assert!(first.is_ok(), "{first:?}");
    let second = create_customer(&db, "RACE@example.com", "Second", "", "a long password").await;
    assert!(
        matches!(second, Err(CreateAccountError::EmailTaken)),
        "{second:?}"
    );
    let other = create_customer(&db, "other@example.com", "Other", "", "a long password").await;
    assert!(other.is_ok(), "{other:?}");
}

#[tokio::test]
async fn two_databases_in_one_process_do_not_share_a_writer_turn() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (one, two) = (common::database(&one).await, common::database(&two).await);
    let held = one.begin_write().await.unwrap();
    let other = tokio::time::timeout(Duration::from_secs(5), two.begin_write()).await;
    assert!(
        other.is_ok(),
        "a write to one database waited for another's"
    );
    // The same database's writers do take turns (on SQLite; PostgreSQL has no turn).
    if one.pool().connect_options().database_url.scheme() == "sqlite" {
        let same = tokio::time::timeout(Duration::from_millis(200), one.begin_write()).await;
        assert!(same.is_err(), "two writers of one SQLite database at once");
    }
    drop(held);
}
