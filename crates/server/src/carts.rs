//! Cart API: carts stored by unguessable id with a version for optimistic concurrency.
//!
//! `POST /api/carts` (a signed-in caller gets their own cart; anyone else a new anonymous one),
//! `GET /api/carts/{id}`, `POST /api/carts/{id}/ops` with `{"version": n, "ops": [CartOp…]}`.
//! Edits are the engine's `CartOp`s, checked by the engine all or nothing, then stamped by the
//! server's clock and added to the cart's operation log (see `sync`), which makes the cart: one
//! write path for this endpoint and for offline devices. A write based on an old version gets
//! 409 with the stored cart, and changes nothing. A cart owned by another customer is reported
//! as not found, never shown.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use omnicart_engine::replica::Operation;
use omnicart_engine::{Cart, CartOp, Quote, QuoteContext, quote};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{self, Caller};
use crate::db::{self, Db};
use crate::error::{ApiJson, AppError};
use crate::ids::{now_millis, now_unix, random_id};
use crate::sync;

/// Most operations accepted in one request.
pub const MAX_OPS_PER_REQUEST: usize = 100;

/// A cart as the API returns it. `quote` is the server's pricing of it by the same engine the
/// page runs (absent only if the catalogue no longer sells one of its SKUs).
#[derive(Serialize, Deserialize, Debug)]
pub struct CartView {
    pub id: String,
    pub version: i64,
    pub cart: Cart,
    pub quote: Option<Quote>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditRequest {
    version: i64,
    ops: Vec<CartOp>,
}

pub struct CartRecord {
    pub id: String,
    pub owner: Option<String>,
    pub version: i64,
    pub cart: Cart,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/carts", post(create))
        .route("/carts/{id}", get(read))
        .route("/carts/{id}/ops", post(edit))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<CartView>), AppError> {
    let record = match &caller.customer_id {
        Some(customer) => customer_cart(&state.db, customer).await?,
        None => insert(&state.db, None).await?,
    };
    let context = auth::quote_context(&caller);
    Ok((StatusCode::CREATED, Json(view(&state, record, &context))))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CartView>, AppError> {
    let record = load_for(&state.db, &id, &caller).await?;
    let context = auth::quote_context(&caller);
    Ok(Json(view(&state, record, &context)))
}

async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<EditRequest>,
) -> Result<Json<CartView>, AppError> {
    if request.ops.is_empty() || request.ops.len() > MAX_OPS_PER_REQUEST {
        let message = format!("send 1 to {MAX_OPS_PER_REQUEST} operations at a time");
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_ops_count",
            message,
        ));
    }
    let mut record = load_for(&state.db, &id, &caller).await?;
    let context = auth::quote_context(&caller);
    if request.version != record.version {
        return Err(stale(&state, record, &context));
    }
    let snapshot = &state.catalogue.snapshot;
    let mut logged = as_operations(&record.cart, snapshot, &request.ops);
    record
        .cart
        .apply_all(snapshot, &request.ops)
        .map_err(|(i, e)| AppError::domain(&e).with_op_index(i))?;
    // Compare-and-set on the version: of two writers racing from one version, exactly one wins.
    // The winner's update also locks the cart's row until its operations are logged.
    let mut tx = db::begin_write(&state.db).await?;
    let Some(locked) = sync::lock(&mut tx, &record.id, Some(record.version)).await? else {
        drop(tx);
        let current = load_for(&state.db, &id, &caller).await?;
        return Err(stale(&state, current, &context));
    };
    locked.stamp_after(&mut logged, now_millis())?;
    let appended = sync::append_locked(&mut tx, &record.id, &logged, locked).await?;
    tx.commit().await?;
    let record = CartRecord {
        version: appended.version,
        cart: appended.cart,
        ..record
    };
    Ok(Json(view(&state, record, &context)))
}

/// Edits made through this endpoint as log operations (so a device syncing the log sees them),
/// to be stamped once the cart is locked ([`sync::Locked::stamp_after`]). An add records the
/// quantity it was added to.
fn as_operations(
    cart: &Cart,
    snapshot: &omnicart_engine::Snapshot,
    ops: &[CartOp],
) -> Vec<Operation> {
    let mut cart = cart.clone();
    ops.iter()
        .map(|op| {
            let seen = match op {
                CartOp::Add { sku, .. } => Some(cart.quantity_of(sku).map_or(0, |q| q.get())),
                _ => None,
            };
            let _ = cart.apply(snapshot, op);
            sync::server_op(op.clone(), seen)
        })
        .collect()
}

fn stale(state: &AppState, current: CartRecord, context: &QuoteContext) -> AppError {
    let message = format!(
        "the cart changed (now version {}); apply your edit to the current cart",
        current.version
    );
    let current = serde_json::to_value(view(state, current, context)).unwrap_or_default();
    AppError::new(StatusCode::CONFLICT, "stale_version", message).with_current(current)
}

pub(crate) fn view(state: &AppState, record: CartRecord, context: &QuoteContext) -> CartView {
    let quote = quote(&state.catalogue.snapshot, &record.cart, context).ok();
    CartView {
        id: record.id,
        version: record.version,
        cart: record.cart,
        quote,
    }
}

/// The cart if the caller may see it: anonymous carts to whoever holds the id, a customer's
/// cart to that customer only. Anything else is "not found", so ids cannot be probed.
pub(crate) async fn load_for(db: &Db, id: &str, caller: &Caller) -> Result<CartRecord, AppError> {
    let record = load(db, id)
        .await?
        .ok_or_else(|| AppError::not_found("cart"))?;
    if may_see(caller, record.owner.as_deref()) {
        Ok(record)
    } else {
        Err(AppError::not_found("cart"))
    }
}

/// Whether `caller` may see a cart owned by `owner` (see [`load_for`]).
pub(crate) fn may_see(caller: &Caller, owner: Option<&str>) -> bool {
    owner.is_none_or(|owner| caller.customer_id.as_deref() == Some(owner))
}

pub(crate) async fn load(db: &Db, id: &str) -> Result<Option<CartRecord>, AppError> {
    let row: Option<(String, Option<String>, i64, String)> =
        sqlx::query_as("SELECT id, owner, version, body FROM carts WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    row.map(|(id, owner, version, body)| {
        let cart = serde_json::from_str(&body)
            .map_err(|e| AppError::internal(format!("cart {id} body: {e}")))?;
        Ok(CartRecord {
            id,
            owner,
            version,
            cart,
        })
    })
    .transpose()
}

async fn insert(db: &Db, owner: Option<&str>) -> Result<CartRecord, AppError> {
    let id = random_id("cart_");
    let cart = Cart::new();
    let now = now_unix();
    sqlx::query("INSERT INTO carts (id, owner, version, body, created_at, updated_at) VALUES ($1, $2, 1, $3, $4, $5) ON CONFLICT (owner) DO NOTHING")
        .bind(&id)
        .bind(owner)
        .bind(serde_json::to_string(&cart).map_err(AppError::internal)?)
        .bind(now)
        .bind(now)
        .execute(db)
        .await?;
    Ok(CartRecord {
        id,
        owner: owner.map(str::to_owned),
        version: 1,
        cart,
    })
}

/// The customer's one cart, created on first use. Safe against two devices racing to create it.
pub async fn customer_cart(db: &Db, customer_id: &str) -> Result<CartRecord, AppError> {
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM carts WHERE owner = $1")
        .bind(customer_id)
        .fetch_optional(db)
        .await?;
    if existing.is_none() {
        insert(db, Some(customer_id)).await?;
    }
    let id: String = sqlx::query_scalar("SELECT id FROM carts WHERE owner = $1")
        .bind(customer_id)
        .fetch_one(db)
        .await?;
    load(db, &id)
        .await?
        .ok_or_else(|| AppError::internal("customer cart vanished"))
}
