//! Edits after placement: `POST /api/orders/{number}/edits/preview` ([`preview`]) and
//! `POST /api/orders/{number}/edits` ([`commit`]). The contract, the re-pricing rule
//! included, is `omnicart_api::edits`'s module docs; the rules of who may change what and
//! how the payment follows are `omnicart_order::edit`'s.
//!
//! **Re-pricing.** What the order was priced with at placement is kept beside it
//! (`orders.priced_with`: the cart, with its destination and delivery choice, and the
//! shopper's facts promotions read). An edit applies its operations to that cart with the
//! engine's `Cart::apply` (quantities, services and locations checked as a cart edit is) and
//! prices it with `quote_with_delivery`: the catalogue's prices, the promotions as of the
//! order's placement time, the order's own claims of limited promotions and its own
//! reserved units counted as its own, delivery dates from now. What the started fulfilment
//! orders keep stays where it is; the rest (the remainder) is sourced again by the engine.
//!
//! **Commit, in one transaction.** The order's fulfilment orders are locked, then the order
//! (the order fulfilment transitions lock them in), and its version checked; the stock is
//! moved per record by its difference (`store::edits::rereserve`, conditional updates), the
//! promotion claims brought in line, the open fulfilment orders given their new lines (a
//! location new to the plan gets a new one, one no longer in it is deleted), the money moved
//! through the provider while those locks are held (as a parcel's capture is) under keys
//! derived from the order and its new version (`edit:{order}:{version}:more|release|refund`),
//! so a retry after a failed commit moves nothing twice at the provider, and recorded on the
//! order's ledger; the version raised, the events in the outbox (`order.updated`, and
//! `fulfilment.open` for each fulfilment order changed or made), and the answer stored under
//! the idempotency key. Any refusal rolls everything back.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use omnicart_api::{
    MAX_OPS_PER_REQUEST, OrderEditPreview, OrderEditReply, OrderEditRequest, Profile, ShortLine,
    StockChange, code,
};
use omnicart_engine::fulfilment::delivery::DeliveryQuote;
use omnicart_engine::{
    Cart, CartOp, DeliveryChoice, ErrorCode, Money, ProductKind, Quote, Sku, Timestamp,
    quote_with_delivery,
};
use omnicart_order::{
    Change, EditError, EditScope, Fulfilment, FulfilmentKind, FulfilmentOrder, FulfilmentState,
    Part, PlannedShipment, Request, Role, Settlement, StockDemand, Totals,
};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{AppError, Refusal};
use crate::ids::{now_unix, random_id, sha256_hex};
use crate::payment::PaymentError;
use crate::service::checkout::{
    Answer, Keyed, checked_key, claim_key, keep_refusal, prepare, usage_of,
};
use crate::service::orders::{Asker, open_for, order_view};
use crate::service::stock::LiveStock;
use crate::service::{Caller, carts};
use crate::store::WriteTx;
use crate::store::checkout as held;
use crate::store::edits as store;
use crate::store::fulfilment::{self as fstore, FulfilmentRow};
use crate::store::idempotency;
use crate::store::orders::{self, OrderRow};

/// What an order was priced with at placement (`orders.priced_with`), and after each edit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PricedWith {
    pub cart: Cart,
    pub segments: Vec<String>,
    pub first_order: bool,
    pub used_coupons: Vec<String>,
}

/// Keeps what placement priced the order with, in the placement's transaction.
pub(crate) async fn record_placement(
    tx: &mut WriteTx,
    order_id: &str,
    caller: &Caller,
    cart: &Cart,
) -> Result<(), AppError> {
    let profile = caller.profile();
    let with = PricedWith {
        cart: cart.clone(),
        segments: profile.segments,
        first_order: profile.first_order,
        used_coupons: profile.used_coupons,
    };
    let json = serde_json::to_string(&with).map_err(AppError::internal)?;
    store::set_priced_with(tx, order_id, &json).await?;
    Ok(())
}

/// The order's version (0 as placed).
pub async fn version(state: &AppState, order_id: &str) -> Result<i64, AppError> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(store::version_of(&mut conn, order_id).await?.0)
}

/// `POST /api/orders/{number}/edits/preview`: what the edit would do; nothing changes.
pub async fn preview(
    state: &AppState,
    editor: &Asker<'_>,
    number: &str,
    request: &OrderEditRequest,
) -> Result<OrderEditPreview, AppError> {
    prepare(state).await?;
    let row = open_for(state, editor, number).await?;
    let parts = fstore::of_order(&state.db, &row.id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let (version, priced_with) = store::version_of(&mut conn, &row.id).await?;
    let facts = Facts {
        row: &row,
        version,
        priced_with: priced_with.as_deref(),
        parts: &parts,
        role: editor.role(),
    };
    Ok(plan(state, &mut conn, &facts, request).await?.preview)
}

/// `POST /api/orders/{number}/edits` with the idempotency key `key` (see the module docs).
pub async fn commit(
    state: &AppState,
    editor: &Asker<'_>,
    number: &str,
    key: Option<&str>,
    request: &OrderEditRequest,
) -> Result<Answer, AppError> {
    let key = checked_key(key)?;
    prepare(state).await?;
    let row = open_for(state, editor, number).await?;
    let scope = format!("order-edit:{}", row.id);
    let hash = sha256_hex(&serde_json::to_vec(request).map_err(AppError::internal)?);
    let keyed = Keyed { scope: &scope, key };
    if let Some(first) = claim_key(state, &keyed, &hash).await? {
        return Ok(first);
    }
    match committed(state, editor, &row.id, request, &keyed).await {
        Ok(answer) => Ok(answer),
        Err(e) if e.status.is_server_error() => {
            idempotency::forget(&state.db, &scope, key).await?;
            Err(e)
        }
        Err(e) => keep_refusal(state, &keyed, e).await,
    }
}

/// What an edit is planned from: the order, its version and pricing inputs, its
/// fulfilment orders (by `seq`), and who asks.
struct Facts<'a> {
    row: &'a OrderRow,
    version: i64,
    priced_with: Option<&'a str>,
    parts: &'a [FulfilmentRow],
    role: Role,
}

/// An edit worked out: the edited cart and its quote, the shipments of the parts that keep
/// theirs and of the remainder, the stock and claims wanted, the money.
struct Planned {
    with: PricedWith,
    quote: Quote,
    /// (index of the fulfilment order in `Facts::parts`, its shipment) for the started ones.
    kept: Vec<(usize, PlannedShipment)>,
    remainder: Vec<PlannedShipment>,
    level: Option<omnicart_engine::fulfilment::Level>,
    pickup_location: Option<String>,
    claims: BTreeMap<String, i64>,
    settlement: Settlement,
    preview: OrderEditPreview,
}

async fn plan(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    facts: &Facts<'_>,
    request: &OrderEditRequest,
) -> Result<Planned, AppError> {
    let order = &facts.row.order;
    if request.version != facts.version {
        let message = format!(
            "the order changed since version {} (it is at {}): read it again",
            request.version, facts.version
        );
        return Err(AppError::new(
            StatusCode::CONFLICT,
            code::STALE_VERSION,
            message,
        ));
    }
    check_ops(&request.ops)?;
    let before: PricedWith = facts
        .priced_with
        .map(|json| serde_json::from_str(json).map_err(AppError::internal))
        .transpose()?
        .ok_or_else(|| {
            let message = "this order was placed before orders could be edited";
            AppError::new(StatusCode::CONFLICT, code::EDIT_NOT_ALLOWED, message)
        })?;
    let snapshot = &state.catalogue.snapshot;
    let mut cart = before.cart.clone();
    for (i, op) in request.ops.iter().enumerate() {
        cart.apply(snapshot, op)
            .map_err(|e| AppError::domain(&e).with_op_index(i))?;
    }
    check_delivery(&before.cart, &cart)?;
    let parts: Vec<Part> = facts.parts.iter().map(part).collect();
    let change = Change {
        before: goods_units(state, &before.cart),
        after: goods_units(state, &cart),
        delivery_changed: cart.delivery() != before.cart.delivery(),
    };
    let scope = EditScope::check(facts.role, order.status.state(), &parts, &change)
        .map_err(|e| edit_refused(&e))?;
    let held_units = store::reserved_by(&mut *conn, &facts.row.attempt_id).await?;
    let own_claims = store::claims_of(&mut *conn, &facts.row.attempt_id).await?;
    let with = PricedWith { cart, ..before };
    let priced = price(state, conn, facts, &with, &held_units, &own_claims).await?;
    let remainder_cart = remainder_of(snapshot, &with.cart, &scope, &change.after)?;
    let remainder = match &remainder_cart {
        None => Vec::new(),
        Some(c) if c == &with.cart => shipments_of(state, c, &priced.quote, &priced.delivery)?,
        Some(c) => {
            let (quote, delivery) = price_cart(state, &with, c, &priced)?;
            shipments_of(state, c, &quote, &delivery)?
        }
    };
    let kept: Vec<(usize, PlannedShipment)> = facts
        .parts
        .iter()
        .enumerate()
        .filter(|(_, p)| !is_open(p))
        .map(|(i, p)| {
            let seq = usize::try_from(p.seq).unwrap_or(usize::MAX);
            order
                .fulfilment
                .shipments
                .get(seq)
                .cloned()
                .map(|s| (i, s))
                .ok_or_else(|| {
                    AppError::internal("a fulfilment order without its planned shipment")
                })
        })
        .collect::<Result<_, _>>()?;
    let all: Vec<PlannedShipment> = kept
        .iter()
        .map(|(_, s)| s.clone())
        .chain(remainder.iter().cloned())
        .collect();
    let wanted = StockDemand::of(&all);
    let short = priced.available.short(&wanted);
    if !short.is_empty() {
        return Err(out_of_stock(&short, &priced.available));
    }
    finish(facts, with, priced, kept, remainder, &wanted, &held_units)
}

/// The rest of [`plan`]: the money, the claims and the preview.
#[allow(clippy::too_many_arguments)] // the parts of one plan, each named where it is built
fn finish(
    facts: &Facts<'_>,
    with: PricedWith,
    priced: Priced,
    kept: Vec<(usize, PlannedShipment)>,
    remainder: Vec<PlannedShipment>,
    wanted: &[StockDemand],
    held_units: &[(String, String, i64)],
) -> Result<Planned, AppError> {
    let order = &facts.row.order;
    let currency = order.totals.total.currency();
    let minor = |m: Money| m.to_minor().unwrap_or(0);
    let difference = minor(priced.quote.total) - minor(order.totals.total);
    let payment = &order.payment;
    let settlement = Settlement::of(
        difference,
        minor(payment.capturable()),
        minor(payment.refundable()),
    )
    .map_err(|e| edit_refused(&e))?;
    let claims = priced
        .quote
        .applied
        .iter()
        .filter(|a| priced.limited.contains(&*a.promotion_id))
        .map(|a| {
            let amount = a
                .amount
                .to_minor()
                .ok_or_else(|| AppError::internal("discount"))?;
            Ok((a.promotion_id.to_string(), amount))
        })
        .collect::<Result<BTreeMap<_, _>, AppError>>()?;
    let money = |m: i64| Money::from_minor(m, currency);
    let (level, pickup_location) = match with.cart.delivery() {
        Some(DeliveryChoice::Level(level)) => (Some(*level), None),
        Some(DeliveryChoice::Pickup(id)) => (None, Some(id.clone())),
        None => (
            order.fulfilment.level,
            order.fulfilment.pickup_location.clone(),
        ),
    };
    let preview = OrderEditPreview {
        version: facts.version,
        quote: priced.quote.clone(),
        total_before: order.totals.total,
        total_after: priced.quote.total,
        difference: money(difference),
        authorize: money(settlement.authorize),
        release: money(settlement.release),
        refund: money(settlement.refund),
        stock: stock_changes(held_units, wanted),
    };
    Ok(Planned {
        with,
        quote: priced.quote,
        kept,
        remainder,
        level,
        pickup_location,
        claims,
        settlement,
        preview,
    })
}

/// The edited cart's quote and what it was priced against.
struct Priced {
    quote: Quote,
    delivery: DeliveryQuote,
    available: crate::service::stock::Available,
    /// The promotions with a use limit or a budget.
    limited: std::collections::BTreeSet<String>,
    context: omnicart_engine::QuoteContext,
}

/// Prices the edited cart by the re-pricing rule (see the module docs).
async fn price(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    facts: &Facts<'_>,
    with: &PricedWith,
    held_units: &[(String, String, i64)],
    own_claims: &BTreeMap<String, i64>,
) -> Result<Priced, AppError> {
    let snapshot = &state.catalogue.snapshot;
    let stock = LiveStock::read_freeing(&mut *conn, snapshot, &with.cart, held_units).await?;
    let mut rows = held::usage(&state.db).await?;
    for row in &mut rows {
        if let Some(amount) = own_claims.get(&row.promotion_id) {
            row.used -= 1;
            row.spent_minor -= amount;
        }
    }
    let limited = rows.iter().map(|r| r.promotion_id.clone()).collect();
    let profile = Profile {
        segments: with.segments.clone(),
        first_order: with.first_order,
        used_coupons: with.used_coupons.clone(),
    };
    let mut context = profile.quote_context(facts.row.order.placed_at);
    context.usage = usage_of(state, rows)?;
    context.stock = stock.levels;
    let destination =
        carts::destination_of(snapshot, &with.cart).ok_or_else(delivery_unavailable)?;
    let now = Timestamp::from_unix(now_unix());
    let (quote, delivery) = quote_with_delivery(snapshot, &with.cart, &context, &destination, now)
        .map_err(|e| AppError::domain(&e))?;
    Ok(Priced {
        quote,
        delivery,
        available: stock.available,
        limited,
        context,
    })
}

/// The remainder cart quoted in the edited cart's context, for its plan only.
fn price_cart(
    state: &AppState,
    with: &PricedWith,
    cart: &Cart,
    priced: &Priced,
) -> Result<(Quote, DeliveryQuote), AppError> {
    let snapshot = &state.catalogue.snapshot;
    let destination =
        carts::destination_of(snapshot, &with.cart).ok_or_else(delivery_unavailable)?;
    let now = Timestamp::from_unix(now_unix());
    quote_with_delivery(snapshot, cart, &priced.context, &destination, now)
        .map_err(|e| AppError::domain(&e))
}

/// The edited cart less what the started fulfilment orders keep; `None` when no goods
/// are left to plan.
fn remainder_of(
    snapshot: &omnicart_engine::Snapshot,
    cart: &Cart,
    scope: &EditScope,
    after: &BTreeMap<String, u32>,
) -> Result<Option<Cart>, AppError> {
    let remainder = scope.remainder(after);
    if remainder.is_empty() {
        return Ok(None);
    }
    let mut rest = cart.clone();
    for sku in scope.started.keys() {
        let sku = Sku::new(sku).map_err(AppError::internal)?;
        let op = match remainder.get(sku.as_str()) {
            None => CartOp::Remove { sku },
            Some(n) => CartOp::SetQuantity {
                sku,
                quantity: omnicart_engine::Quantity::new(i64::from(*n))
                    .map_err(AppError::internal)?,
            },
        };
        rest.apply(snapshot, &op).map_err(AppError::internal)?;
    }
    Ok(Some(rest))
}

/// The shipments of `cart`'s chosen delivery by `delivery` (the engine's plan).
fn shipments_of(
    state: &AppState,
    cart: &Cart,
    quote: &Quote,
    delivery: &DeliveryQuote,
) -> Result<Vec<PlannedShipment>, AppError> {
    let snapshot = &state.catalogue.snapshot;
    let goods = |sku: &Sku| {
        snapshot
            .variant(sku)
            .is_some_and(|(p, _)| p.kind == ProductKind::Goods)
    };
    let fulfilment = match cart.delivery() {
        Some(DeliveryChoice::Level(level)) => delivery
            .options
            .iter()
            .find(|o| o.level == *level)
            .map(Fulfilment::delivered),
        Some(DeliveryChoice::Pickup(id)) => delivery
            .pickup
            .iter()
            .find(|p| p.location == *id)
            .map(|p| Fulfilment::collected(p, quote, goods)),
        None => None,
    };
    if let Some(fulfilment) = fulfilment {
        return Ok(fulfilment.shipments);
    }
    // The choice the order has cannot serve the edited goods: short stock, if any line is
    // more than the network can promise now (its location empty: nowhere has enough).
    let lines: Vec<ShortLine> = delivery
        .lines
        .iter()
        .filter(|l| l.available < l.quantity)
        .map(|l| ShortLine {
            sku: l.sku.clone(),
            location: String::new(),
            requested: l.quantity,
            available: l.available,
            available_on: l.date,
        })
        .collect();
    if lines.is_empty() {
        return Err(delivery_unavailable());
    }
    let refusal = Refusal {
        lines,
        ..Refusal::default()
    };
    let message = "not enough stock for the edited order; nothing was changed";
    Err(AppError::new(StatusCode::CONFLICT, code::OUT_OF_STOCK, message).with_refusal(refusal))
}

fn is_open(row: &FulfilmentRow) -> bool {
    row.fulfilment.state() == FulfilmentState::Open
        && row
            .fulfilment
            .lines()
            .iter()
            .all(|l| l.rejected.is_none() && l.substitutes.is_none())
}

/// A fulfilment order as the edit rules see it (one with a rejected or substituted line
/// counts as started: its lines were sourced again or swapped).
fn part(row: &FulfilmentRow) -> Part {
    let state = if is_open(row) {
        FulfilmentState::Open
    } else if row.fulfilment.state() == FulfilmentState::Open {
        FulfilmentState::Rejected
    } else {
        row.fulfilment.state()
    };
    Part {
        state,
        units: row
            .fulfilment
            .lines()
            .iter()
            .map(|l| (l.sku.clone(), l.quantity))
            .collect(),
    }
}

/// The goods' units per SKU (services are not stocked).
fn goods_units(state: &AppState, cart: &Cart) -> BTreeMap<String, u32> {
    let snapshot = &state.catalogue.snapshot;
    cart.lines()
        .iter()
        .filter(|l| {
            snapshot
                .variant(&l.sku)
                .is_some_and(|(p, _)| p.kind == ProductKind::Goods)
        })
        .map(|l| (l.sku.as_str().to_owned(), l.quantity.get()))
        .collect()
}

/// Only the operations an edit can carry (see `omnicart_api::edits`).
fn check_ops(ops: &[CartOp]) -> Result<(), AppError> {
    if ops.is_empty() || ops.len() > MAX_OPS_PER_REQUEST {
        let message = format!("send 1 to {MAX_OPS_PER_REQUEST} operations");
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::INVALID_OPS_COUNT,
            message,
        ));
    }
    for (i, op) in ops.iter().enumerate() {
        let refused = match op {
            CartOp::ApplyCoupon { .. } | CartOp::RemoveCoupon { .. } => {
                Some("coupons are not edited after placement")
            }
            CartOp::SetAddress { .. } => Some("the address is not edited after placement"),
            CartOp::ChooseDelivery { choice: None } => Some("an order keeps a delivery choice"),
            _ => None,
        };
        if let Some(message) = refused {
            return Err(invalid_edit(message).with_op_index(i));
        }
    }
    Ok(())
}

/// Delivery stays delivery and pickup stays pickup (the address is the placement's).
fn check_delivery(before: &Cart, after: &Cart) -> Result<(), AppError> {
    let pickup = |c: &Cart| matches!(c.delivery(), Some(DeliveryChoice::Pickup(_)));
    if pickup(before) != pickup(after) {
        return Err(invalid_edit(
            "an edit cannot switch between delivery and pickup",
        ));
    }
    if after.is_empty() {
        return Err(invalid_edit(
            "an edit cannot take every line off: cancel the order instead",
        ));
    }
    Ok(())
}

fn invalid_edit(message: &str) -> AppError {
    AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code::INVALID_EDIT,
        message,
    )
}

fn edit_refused(e: &EditError) -> AppError {
    AppError::new(StatusCode::CONFLICT, e.code(), e.to_string())
}

fn delivery_unavailable() -> AppError {
    let message = "the order's delivery level or pickup store cannot serve the edited order";
    AppError::new(StatusCode::CONFLICT, code::DELIVERY_UNAVAILABLE, message)
}

fn out_of_stock(short: &[StockDemand], available: &crate::service::stock::Available) -> AppError {
    let lines = short
        .iter()
        .map(|d| ShortLine {
            sku: d.sku.clone(),
            location: d.location.clone(),
            requested: d.quantity,
            available: u32::try_from(available.of(&d.location, &d.sku).max(0)).unwrap_or(0),
            available_on: None,
        })
        .collect();
    let refusal = Refusal {
        lines,
        ..Refusal::default()
    };
    let message = "not enough stock for the edited order; nothing was changed";
    AppError::new(StatusCode::CONFLICT, code::OUT_OF_STOCK, message).with_refusal(refusal)
}

/// The records whose reservation moves, before and after.
fn stock_changes(held: &[(String, String, i64)], wanted: &[StockDemand]) -> Vec<StockChange> {
    let mut by_record: BTreeMap<(String, String), (u32, u32)> = BTreeMap::new();
    for (location, sku, n) in held {
        by_record
            .entry((location.clone(), sku.clone()))
            .or_default()
            .0 = u32::try_from(*n).unwrap_or(0);
    }
    for d in wanted {
        by_record
            .entry((d.location.clone(), d.sku.as_str().to_owned()))
            .or_default()
            .1 = d.quantity;
    }
    by_record
        .into_iter()
        .filter(|(_, (before, after))| before != after)
        .map(|((location, sku), (before, after))| StockChange {
            location,
            sku,
            before,
            after,
        })
        .collect()
}

/// The commit (see the module docs), its key claimed.
async fn committed(
    state: &AppState,
    editor: &Asker<'_>,
    order_id: &str,
    request: &OrderEditRequest,
    keyed: &Keyed<'_>,
) -> Result<Answer, AppError> {
    let mut tx = state.db.begin_write().await?;
    let mut parts = Vec::new();
    for row in fstore::of_order_tx(&mut tx, order_id).await? {
        if let Some(locked) = fstore::lock(&mut tx, &row.id).await? {
            parts.push(locked);
        }
    }
    let mut row = orders::lock_by_id(&mut tx, order_id)
        .await?
        .ok_or_else(|| AppError::not_found("order"))?;
    let (version, priced_with) = store::version_of(tx.conn(), order_id).await?;
    let facts = Facts {
        row: &row,
        version,
        priced_with: priced_with.as_deref(),
        parts: &parts,
        role: editor.role(),
    };
    let planned = plan(state, tx.conn(), &facts, request).await?;
    let wanted = {
        let all: Vec<PlannedShipment> = planned
            .kept
            .iter()
            .map(|(_, s)| s.clone())
            .chain(planned.remainder.iter().cloned())
            .collect();
        StockDemand::of(&all)
    };
    if !store::rereserve(&mut tx, &row.attempt_id, &wanted)
        .await?
        .is_empty()
    {
        let message = "not enough stock for the edited order; nothing was changed";
        return Err(AppError::new(
            StatusCode::CONFLICT,
            code::OUT_OF_STOCK,
            message,
        ));
    }
    let exhausted = store::reclaim(&mut tx, &row.attempt_id, &planned.claims).await?;
    if !exhausted.is_empty() {
        let refusal = Refusal {
            promotions: exhausted,
            ..Refusal::default()
        };
        let message = "an offer of the edited order has run out; nothing was changed";
        return Err(
            AppError::new(StatusCode::CONFLICT, code::PROMOTION_EXHAUSTED, message)
                .with_refusal(refusal),
        );
    }
    let at = Timestamp::from_unix(now_unix());
    let shipments = refulfil(&mut tx, &row, &mut parts, &planned, editor, at).await?;
    settle(
        state,
        &mut row,
        &planned.settlement,
        version + 1,
        editor,
        at,
    )
    .await?;
    apply_to_order(&mut row.order, &planned, shipments);
    finish_commit(tx, &row, version, planned, keyed).await
}

/// Writes the edited order, its version and pricing inputs, the outbox and the answer.
async fn finish_commit(
    mut tx: WriteTx,
    row: &OrderRow,
    version: i64,
    planned: Planned,
    keyed: &Keyed<'_>,
) -> Result<Answer, AppError> {
    orders::update(&mut tx, &row.id, &row.order).await?;
    if !store::bump_version(&mut tx, &row.id, version).await? {
        return Err(AppError::internal(
            "the order's version moved under its lock",
        ));
    }
    let json = serde_json::to_string(&planned.with).map_err(AppError::internal)?;
    store::set_priced_with(&mut tx, &row.id, &json).await?;
    let mut view = order_view(&row.order);
    view.version = version + 1;
    let reply = OrderEditReply {
        order: view,
        edit: planned.preview,
    };
    let body = serde_json::to_string(&reply).map_err(AppError::internal)?;
    let status = StatusCode::OK;
    idempotency::answer(&mut tx, keyed.scope, keyed.key, status.as_u16(), &body).await?;
    tx.commit().await?;
    Ok(Answer { status, body })
}

/// The order as edited: its lines and totals from the quote, its fulfilment from the plan.
fn apply_to_order(
    order: &mut omnicart_order::Order,
    planned: &Planned,
    shipments: Vec<PlannedShipment>,
) {
    let quote = &planned.quote;
    order.lines = quote.lines.clone();
    order.item_count = quote.item_count;
    order.totals = Totals::of(quote);
    order.coupons = quote
        .coupons
        .iter()
        .filter(|c| c.applied)
        .map(|c| c.code.clone())
        .collect();
    order.fulfilment = Fulfilment {
        level: planned.level,
        pickup_location: planned.pickup_location.clone(),
        shipments,
    };
}

/// Gives the open fulfilment orders the remainder's lines (a location new to the plan gets
/// a new one; one no longer in it is deleted) and numbers them again from 0, so shipment `i`
/// of the plan is the fulfilment order of `seq` `i`; the order's shipments in that order.
async fn refulfil(
    tx: &mut WriteTx,
    row: &OrderRow,
    parts: &mut [FulfilmentRow],
    planned: &Planned,
    editor: &Asker<'_>,
    at: Timestamp,
) -> Result<Vec<PlannedShipment>, AppError> {
    let kind = if planned.pickup_location.is_some() {
        FulfilmentKind::Pickup
    } else {
        FulfilmentKind::Ship
    };
    let mut placed: Vec<(i64, String, PlannedShipment)> = planned
        .kept
        .iter()
        .map(|(i, s)| (parts[*i].seq, parts[*i].id.clone(), s.clone()))
        .collect();
    let mut next_seq = parts.iter().map(|p| p.seq + 1).max().unwrap_or(0);
    let mut used = vec![false; parts.len()];
    let mut inserted = Vec::new();
    for shipment in &planned.remainder {
        let lines = || {
            shipment
                .lines
                .iter()
                .map(|l| (l.sku.as_str().to_owned(), l.quantity))
        };
        let reuse = (0..parts.len()).find(|&i| {
            !used[i]
                && is_open(&parts[i])
                && parts[i].fulfilment.location == shipment.location
                && parts[i].fulfilment.kind == kind
        });
        if let Some(i) = reuse {
            used[i] = true;
            parts[i].fulfilment.replace_lines(lines());
            fstore::update(tx, &parts[i], None).await?;
            placed.push((parts[i].seq, parts[i].id.clone(), shipment.clone()));
        } else {
            let request = Request::new(editor.actor(), at, "added by an edit");
            let f = FulfilmentOrder::open(kind, shipment.location.clone(), lines(), request);
            let id = random_id("ful");
            fstore::insert(tx, &id, &row.id, next_seq, &f).await?;
            placed.push((next_seq, id.clone(), shipment.clone()));
            inserted.push(id);
            next_seq += 1;
        }
    }
    for (i, part) in parts.iter().enumerate() {
        if !used[i] && is_open(part) {
            store::delete_fulfilment(tx, &part.id).await?;
        }
    }
    // A new fulfilment order is announced as placement announces one (an updated one by
    // its store update).
    for new in fstore::of_order_tx(tx, &row.id).await? {
        if inserted.contains(&new.id) {
            let view = crate::service::fulfilment::view(&new);
            crate::service::webhooks::fulfilment_event(tx, &row.id, &view).await?;
        }
    }
    placed.sort_by_key(|(seq, _, _)| *seq);
    let ids: Vec<String> = placed.iter().map(|(_, id, _)| id.clone()).collect();
    store::renumber(tx, &ids).await?;
    Ok(placed.into_iter().map(|(_, _, s)| s).collect())
}

/// Moves the difference through the provider and records it on the order's ledger, under
/// keys of the order's new version (see the module docs).
async fn settle(
    state: &AppState,
    row: &mut OrderRow,
    settlement: &Settlement,
    new_version: i64,
    editor: &Asker<'_>,
    at: Timestamp,
) -> Result<(), AppError> {
    if settlement.moves_nothing() {
        return Ok(());
    }
    let provider = state
        .payments
        .get(&row.order.provider)
        .cloned()
        .ok_or_else(|| AppError::internal("the order's provider is gone"))?;
    let currency = row.order.totals.total.currency();
    let base = format!("edit:{}:{new_version}", row.id);
    let request = || Request::new(editor.actor(), at, "order edited");
    let ledger = |e: omnicart_order::OrderError| AppError::internal(format!("edit ledger: {e}"));
    let attempt = row.attempt_id.clone();
    let payment = &mut row.order.payment;
    if settlement.authorize > 0 {
        let (amount, key) = (
            Money::from_minor(settlement.authorize, currency),
            base.clone() + ":more",
        );
        provider
            .authorize_more(&attempt, &key, amount)
            .await
            .map_err(refused_payment)?;
        payment.increment(amount, &key, request()).map_err(ledger)?;
    }
    if settlement.release > 0 {
        let (amount, key) = (
            Money::from_minor(settlement.release, currency),
            base.clone() + ":release",
        );
        provider
            .release(&attempt, &key, amount)
            .await
            .map_err(refused_payment)?;
        payment.release(amount, &key, request()).map_err(ledger)?;
    }
    if settlement.refund > 0 {
        let (amount, key) = (
            Money::from_minor(settlement.refund, currency),
            base + ":refund",
        );
        provider
            .refund(&attempt, &key, amount)
            .await
            .map_err(refused_payment)?;
        payment.refund(amount, &key, request()).map_err(ledger)?;
    }
    Ok(())
}

fn refused_payment(e: PaymentError) -> AppError {
    match e {
        PaymentError::Declined(reason) => {
            let message = format!("the payment provider refused the difference ({reason})");
            AppError::new(
                StatusCode::PAYMENT_REQUIRED,
                code::PAYMENT_DECLINED,
                message,
            )
            .with_refusal(Refusal {
                reason: Some(reason),
                ..Refusal::default()
            })
        }
        PaymentError::Failed(detail) => {
            tracing::warn!(%detail, "an edit's payment movement was refused");
            let message = "the payment provider refused the difference; nothing was changed";
            AppError::new(
                StatusCode::PAYMENT_REQUIRED,
                code::PAYMENT_DECLINED,
                message,
            )
            .with_refusal(Refusal {
                reason: Some("provider_refused".into()),
                ..Refusal::default()
            })
        }
        PaymentError::Timeout => AppError::new(
            StatusCode::GATEWAY_TIMEOUT,
            code::PAYMENT_TIMEOUT,
            "the payment provider did not answer; retry with the same key",
        ),
    }
}
