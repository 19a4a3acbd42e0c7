//! Customer accounts (`customers`): finding one by email or id, creating one.

use sqlx::error::ErrorKind;

use crate::ids::now_unix;
use crate::store::{Db, StoreError};

/// A customer as `GET /api/me` shows them.
pub struct CustomerRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub segments: Vec<String>,
}

/// A customer to create; `password_hash` is argon2's PHC string.
pub struct NewCustomer<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    /// Comma-separated, as stored.
    pub segments: &'a str,
    pub password_hash: &'a str,
}

/// Why a customer could not be created.
#[derive(Debug)]
pub enum InsertError {
    /// Another customer has this email (the unique index on `customers.email`).
    EmailTaken,
    Store(StoreError),
}

/// PostgreSQL's name for the `UNIQUE` of `customers.email` in `migrations/0001_init.sql`
/// (an unnamed column constraint is named `<table>_<column>_key`).
const EMAIL_UNIQUE_CONSTRAINT: &str = "customers_email_key";
/// SQLite names no constraint in its errors, but its extended result code tells a `UNIQUE`
/// constraint (`SQLITE_CONSTRAINT_UNIQUE`, 2067) from the primary key
/// (`SQLITE_CONSTRAINT_PRIMARYKEY`, 1555); `email` is the one `UNIQUE` of `customers`.
const SQLITE_CONSTRAINT_UNIQUE: &str = "2067";

pub async fn insert(db: &Db, customer: NewCustomer<'_>) -> Result<(), InsertError> {
    let inserted = sqlx::query("INSERT INTO customers (id, email, name, segments, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(customer.id)
        .bind(customer.email)
        .bind(customer.name)
        .bind(customer.segments)
        .bind(customer.password_hash)
        .bind(now_unix())
        .execute(db.pool())
        .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_email_taken(&e) => Err(InsertError::EmailTaken),
        Err(e) => Err(InsertError::Store(e.into())),
    }
}

/// Whether `e` is the violation of the unique email (see [`EMAIL_UNIQUE_CONSTRAINT`]).
fn is_email_taken(e: &sqlx::Error) -> bool {
    let Some(e) = e.as_database_error() else {
        return false;
    };
    e.kind() == ErrorKind::UniqueViolation
        && match e.constraint() {
            Some(name) => name == EMAIL_UNIQUE_CONSTRAINT,
            None => e.code().as_deref() == Some(SQLITE_CONSTRAINT_UNIQUE),
        }
}

pub async fn id_by_email(db: &Db, email: &str) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM customers WHERE email = $1")
            .bind(email)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// What sign-in checks a password against.
pub struct Credentials {
    pub customer_id: String,
    /// argon2's PHC string.
    pub password_hash: String,
}

/// The credentials of the customer with this email.
pub async fn credentials(db: &Db, email: &str) -> Result<Option<Credentials>, StoreError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT id, password_hash FROM customers WHERE email = $1")
            .bind(email)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|(customer_id, password_hash)| Credentials {
        customer_id,
        password_hash,
    }))
}

pub async fn customer(db: &Db, id: &str) -> Result<CustomerRow, StoreError> {
    let (id, email, name, segments): (String, String, String, String) =
        sqlx::query_as("SELECT id, email, name, segments FROM customers WHERE id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await?;
    Ok(CustomerRow {
        id,
        email,
        name,
        segments: split_segments(&segments),
    })
}

/// Segments are stored comma-separated.
pub(crate) fn split_segments(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
