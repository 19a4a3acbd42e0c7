//! Carts by id with a version for optimistic concurrency: create (a signed-in caller gets
//! their own cart; anyone else a new anonymous one), read, and edit at a version.
//!
//! Edits are the engine's `CartOp`s, checked by the engine all or nothing, then stamped by the
//! server's clock and added to the cart's operation log ([`crate::store::cart_log`]), which
//! makes the cart: one write path for this endpoint and for offline devices. A write based on
//! an old version gets 409 with the stored cart, and changes nothing. A cart owned by another
//! customer is reported as not found, never shown, so ids cannot be probed.

use axum::http::StatusCode;
use omnicart_api::{CartView, EditRequest, MAX_OPS_PER_REQUEST, code};
use omnicart_engine::replica::Operation;
use omnicart_engine::{
    Cart, CartOp, DeliveryChoice, Destination, FulfilmentError, Quote, QuoteContext, Snapshot,
    quote, quote_with_delivery,
};

use crate::AppState;
use crate::error::AppError;
use crate::ids::now_millis;
use crate::service::Caller;
use crate::store::carts::{self, CartRecord};
use crate::store::{Db, cart_log};

/// `POST /api/carts`: the caller's own cart, or a new anonymous one.
pub async fn create(state: &AppState, caller: &Caller) -> Result<CartView, AppError> {
    let record = match &caller.customer_id {
        Some(customer) => carts::customer_cart(&state.db, customer).await?,
        None => carts::insert(&state.db, None).await?,
    };
    Ok(view(state, record, &caller.quote_context()))
}

pub async fn read(state: &AppState, caller: &Caller, id: &str) -> Result<CartView, AppError> {
    let record = load_for(&state.db, id, caller).await?;
    Ok(view(state, record, &caller.quote_context()))
}

/// Applies `request.ops` to the cart at `request.version`, all or nothing.
pub async fn edit(
    state: &AppState,
    caller: &Caller,
    id: &str,
    request: EditRequest,
) -> Result<CartView, AppError> {
    if request.ops.is_empty() || request.ops.len() > MAX_OPS_PER_REQUEST {
        let message = format!("send 1 to {MAX_OPS_PER_REQUEST} operations at a time");
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::INVALID_OPS_COUNT,
            message,
        ));
    }
    let mut record = load_for(&state.db, id, caller).await?;
    let context = caller.quote_context();
    if request.version != record.version {
        return Err(stale(state, record, &context));
    }
    let snapshot = &state.catalogue.snapshot;
    let mut logged = as_operations(&record.cart, snapshot, &request.ops);
    record
        .cart
        .apply_all(snapshot, &request.ops)
        .map_err(|(i, e)| AppError::domain(&e).with_op_index(i))?;
    // Compare-and-set on the version: of two writers racing from one version, exactly one wins.
    // The winner's update also locks the cart's row until its operations are logged.
    let mut tx = state.db.begin_write().await?;
    let Some(locked) = cart_log::lock_at_version(&mut tx, &record.id, record.version).await? else {
        drop(tx);
        let current = load_for(&state.db, id, caller).await?;
        return Err(stale(state, current, &context));
    };
    locked.stamp_after(&mut logged, now_millis())?;
    let appended = locked.append(&logged).await?;
    tx.commit().await?;
    let record = CartRecord {
        version: appended.version,
        cart: appended.cart,
        ..record
    };
    Ok(view(state, record, &context))
}

/// Edits made through `/ops` as log operations (so a device syncing the log sees them), to be
/// stamped once the cart is locked ([`cart_log::LockedCart::stamp_after`]). An add records
/// the quantity it was added to.
fn as_operations(cart: &Cart, snapshot: &Snapshot, ops: &[CartOp]) -> Vec<Operation> {
    let mut cart = cart.clone();
    ops.iter()
        .map(|op| {
            let seen = match op {
                CartOp::Add { sku, .. } => Some(cart.quantity_of(sku).map_or(0, |q| q.get())),
                _ => None,
            };
            let _ = cart.apply(snapshot, op);
            cart_log::server_op(op.clone(), seen)
        })
        .collect()
}

fn stale(state: &AppState, current: CartRecord, context: &QuoteContext) -> AppError {
    let message = format!(
        "the cart changed (now version {}); apply your edit to the current cart",
        current.version
    );
    let current = serde_json::to_value(view(state, current, context)).unwrap_or_default();
    AppError::new(StatusCode::CONFLICT, code::STALE_VERSION, message).with_current(current)
}

/// A stored cart as the API returns it, priced by the engine in `context` ([`quote_of`]).
pub fn view(state: &AppState, record: CartRecord, context: &QuoteContext) -> CartView {
    let quote = quote_of(&state.catalogue.snapshot, &record.cart, context);
    CartView {
        id: record.id,
        version: record.version,
        cart: record.cart,
        quote,
    }
}

/// The cart's quote as the page shows it and placement charges it: with the delivery charge
/// when the cart has a destination and its choice is offered (`quote_with_delivery`, the
/// same call the page and placement make), else the goods alone; `None` when the engine
/// cannot price it. (Priced with the catalogue's stock: placement reads the live stock.)
pub fn quote_of(snapshot: &Snapshot, cart: &Cart, context: &QuoteContext) -> Option<Quote> {
    let with_delivery = context.now.zip(destination_of(snapshot, cart));
    match with_delivery {
        Some((now, to)) => match quote_with_delivery(snapshot, cart, context, &to, now) {
            Ok((quote, _)) => Some(quote),
            Err(FulfilmentError::Quote(_)) => None,
            Err(_) => quote(snapshot, cart, context).ok(),
        },
        None => quote(snapshot, cart, context).ok(),
    }
}

/// Where the cart goes: the chosen pickup store, else its delivery address.
pub fn destination_of(snapshot: &Snapshot, cart: &Cart) -> Option<Destination> {
    match cart.delivery() {
        Some(DeliveryChoice::Pickup(id)) => snapshot
            .network()
            .data()
            .locations
            .iter()
            .find(|l| l.id == *id)
            .map(|l| Destination::at(l.point)),
        _ => cart.address().cloned(),
    }
}

/// The cart if the caller may see it ([`Caller::may_see`]); anything else is "not found".
async fn load_for(db: &Db, id: &str, caller: &Caller) -> Result<CartRecord, AppError> {
    let record = carts::load(db, id)
        .await?
        .ok_or_else(|| AppError::not_found("cart"))?;
    if caller.may_see(record.owner.as_deref()) {
        Ok(record)
    } else {
        Err(AppError::not_found("cart"))
    }
}
