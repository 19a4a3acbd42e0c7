//! Cart rows (`carts`) as whole carts: reading one, creating one, a customer's one cart.
//! Changing a cart goes through its log ([`super::cart_log`]).

use omnicart_engine::Cart;

use crate::ids::{now_unix, random_id};
use crate::store::{Db, StoreError, parse_json, to_json};

/// A stored cart: its id, owner (`None`: anonymous), version and contents.
pub struct CartRecord {
    pub id: String,
    pub owner: Option<String>,
    pub version: i64,
    pub cart: Cart,
}

pub async fn load(db: &Db, id: &str) -> Result<Option<CartRecord>, StoreError> {
    let row: Option<(String, Option<String>, i64, String)> =
        sqlx::query_as("SELECT id, owner, version, body FROM carts WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
    row.map(|(id, owner, version, body)| {
        let cart = parse_json(&body, &format!("cart {id} body"))?;
        Ok(CartRecord {
            id,
            owner,
            version,
            cart,
        })
    })
    .transpose()
}

/// Creates an empty cart for `owner` (`None`: an anonymous one). A customer who has a cart
/// keeps it: the row is not inserted (see [`customer_cart`]).
pub async fn insert(db: &Db, owner: Option<&str>) -> Result<CartRecord, StoreError> {
    let id = random_id("cart_");
    let cart = Cart::new();
    let now = now_unix();
    sqlx::query("INSERT INTO carts (id, owner, version, body, created_at, updated_at) VALUES ($1, $2, 1, $3, $4, $5) ON CONFLICT (owner) DO NOTHING")
        .bind(&id)
        .bind(owner)
        .bind(to_json(&cart)?)
        .bind(now)
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(CartRecord {
        id,
        owner: owner.map(str::to_owned),
        version: 1,
        cart,
    })
}

/// The customer's one cart, created on first use. Safe against two devices racing to create it.
pub async fn customer_cart(db: &Db, customer_id: &str) -> Result<CartRecord, StoreError> {
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM carts WHERE owner = $1")
        .bind(customer_id)
        .fetch_optional(db.pool())
        .await?;
    if existing.is_none() {
        insert(db, Some(customer_id)).await?;
    }
    let id: String = sqlx::query_scalar("SELECT id FROM carts WHERE owner = $1")
        .bind(customer_id)
        .fetch_one(db.pool())
        .await?;
    load(db, &id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("customer cart vanished".into()))
}
