//! Fulfilment orders (issue 16): [`open_for`] makes one per location of the order's sourcing
//! plan at placement, in the placement's transaction (a pickup order too, kind `pickup`);
//! [`apply`] is what a staff tool or a WMS asks of one: pick, pack, ship (with carrier and
//! tracking number), deliver, ready for pickup. Each is checked by the pure machine
//! (`omnicart_order::fulfilment`), written with its timeline in one transaction under the
//! fulfilment order's lock, and a replay (the state it is already in) moves nothing.
//!
//! Shipping a parcel (or collecting a pickup) captures it, once: the row's `captured_minor`
//! is set in the transaction that ships it, and the provider is called while that row is
//! locked, so two concurrent ship requests capture once; the provider call carries the
//! movement key `capture:{fulfilment id}`, so a retry after a failed commit captures nothing
//! twice at the provider either. The written rule: a parcel captures its lines' share of their
//! totals (net after discounts, plus tax: `line.total × units ÷ line.quantity`, in minor
//! units), the first parcel to ship adds the delivery charge, and the last parcel to ship
//! captures what is left of the authorization, so the captures sum exactly to the order's
//! total (rounding and attached services land on the last parcel). Lines cancelled after
//! placement (`crate::service::resourcing`, rule 4) are the exception: the last parcel leaves
//! their recorded amounts uncaptured and releases them (`void:cancelled:{attempt}`), so the
//! captures sum to the total less what was cancelled.

use axum::http::StatusCode;
use omnicart_api::{
    FulfilmentLineView, FulfilmentOrderList, FulfilmentOrderView, TransitionRequest, code,
};
use omnicart_engine::{ErrorCode, Money, Timestamp};
use omnicart_order::{
    Actor, Applied, FulfilmentError, FulfilmentKind, FulfilmentOrder, FulfilmentState, Machine,
    Order, OrderState, Parcel, Request, Role, parcel_capture,
};

use crate::AppState;
use crate::error::AppError;
use crate::ids::random_id;
use crate::service::{messages, pickup};
use crate::store::WriteTx;
use crate::store::fulfilment::{self as store, FulfilmentRow};
use crate::store::orders::{self, OrderRow};
use crate::store::supply;

/// Makes the order's fulfilment orders, one per planned shipment, in `tx`.
pub async fn open_for(
    tx: &mut WriteTx,
    order_id: &str,
    order: &Order,
    at: Timestamp,
) -> Result<(), AppError> {
    let kind = if order.fulfilment.pickup_location.is_some() {
        FulfilmentKind::Pickup
    } else {
        FulfilmentKind::Ship
    };
    for (seq, shipment) in order.fulfilment.shipments.iter().enumerate() {
        let lines = shipment
            .lines
            .iter()
            .map(|l| (l.sku.as_str().to_owned(), l.quantity));
        let request = Request::new(Actor::new(Role::System, "placement"), at, "placed");
        let f = FulfilmentOrder::open(kind, shipment.location.clone(), lines, request);
        let seq = i64::try_from(seq).map_err(AppError::internal)?;
        store::insert(tx, &random_id("ful"), order_id, seq, &f).await?;
    }
    Ok(())
}

/// What an integration asks of a fulfilment order.
#[derive(Clone, Debug)]
pub enum Action {
    To(FulfilmentState),
    Ship(Parcel),
    /// The shopper collects in store with this pickup code.
    Collect(String),
}

/// Applies `action` to the fulfilment order `id` for integration `by`, at `at`.
pub async fn apply(
    state: &AppState,
    by: &str,
    id: &str,
    action: Action,
    at: Timestamp,
) -> Result<(FulfilmentRow, Applied), AppError> {
    let key = pickup::key(state).await?;
    let mut tx = state.db.begin_write().await?;
    let mut row = store::lock(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("fulfilment order"))?;
    // The order is locked once here: the capture and the order's own state change it below.
    let mut order = orders::lock_by_id(&mut tx, &row.order_id)
        .await?
        .ok_or_else(|| AppError::internal("a fulfilment order without its order"))?;
    if order.order.status.state() == OrderState::Cancelled {
        let message = "the order was cancelled: its fulfilment orders do not move";
        return Err(AppError::new(
            StatusCode::CONFLICT,
            code::INVALID_TRANSITION,
            message,
        ));
    }
    let request = Request::new(Actor::new(Role::Staff, by), at, "");
    let applied = match action {
        // Collecting always carries a code (`Action::Collect`); a bare move would skip it.
        Action::To(FulfilmentState::Collected) => Err(FulfilmentError::WrongPickupCode),
        Action::To(to) => row.fulfilment.transition(to, request),
        Action::Ship(parcel) => row.fulfilment.ship(parcel, request),
        Action::Collect(code) => {
            let matches = pickup::code_matches(&row, &code);
            match row.fulfilment.collect(matches, request) {
                Err(FulfilmentError::WrongPickupCode) => {
                    // The wrong code counts even though the request is refused.
                    store::update(&mut tx, &row, None).await?;
                    tx.commit().await?;
                    return Err(refused(&FulfilmentError::WrongPickupCode));
                }
                other => other,
            }
        }
    }
    .map_err(|e| refused(&e))?;
    let mut code_hash = None;
    if applied == Applied::Moved {
        let siblings = store::of_order_tx(&mut tx, &row.order_id).await?;
        let siblings: Vec<&FulfilmentRow> = siblings.iter().filter(|s| s.id != row.id).collect();
        let mut changed = false;
        match row.fulfilment.state() {
            // A parcel is captured when it ships, a pickup when the shopper collects it.
            FulfilmentState::Shipped | FulfilmentState::Collected => {
                let cancelled = supply::cancelled_minor(&mut tx, &row.order_id).await?;
                changed |= capture(state, &mut row, &siblings, &mut order, cancelled, at).await?
            }
            FulfilmentState::ReadyForPickup => {
                code_hash = Some(pickup::issue(&mut tx, &row, &key).await?);
            }
            _ => {}
        }
        store::update(&mut tx, &row, code_hash.as_deref()).await?;
        messages::on_fulfilment(&mut tx, &order.id, &order.order, &row.fulfilment).await?;
        changed |= follow(&row, &mut order.order, &siblings, at)?;
        if changed {
            orders::update(&mut tx, &order.id, &order.order).await?;
            if matches!(
                order.order.status.state(),
                OrderState::Delivered | OrderState::Collected
            ) {
                messages::invite(&mut tx, &state.public_url, &order.id, &order.order).await?;
            }
        }
    }
    tx.commit().await?;
    Ok((row, applied))
}

/// Moves the order of `row` (just moved) along with its fulfilment orders
/// (`OrderState::following`): in fulfilment, partially shipped, shipped, delivered,
/// ready for pickup, collected; recorded as the system's steps. Whether it moved.
pub(crate) fn follow(
    row: &FulfilmentRow,
    order: &mut Order,
    siblings: &[&FulfilmentRow],
    at: Timestamp,
) -> Result<bool, AppError> {
    let parts: Vec<FulfilmentState> = std::iter::once(row)
        .chain(siblings.iter().copied())
        .map(|r| r.fulfilment.state())
        .collect();
    let Some(target) = OrderState::following(&parts) else {
        return Ok(false);
    };
    let request = Request::new(Actor::new(Role::System, "fulfilment"), at, "");
    order
        .status
        .follow(target, request)
        .map_err(|e| AppError::internal(format!("order following its fulfilment: {e}")))
}

/// Captures the parcel of `row` (just shipped) by the module's rule and records it on the
/// order's payment ledger, under `capture:{fulfilment id}` (the caller stores the order).
/// Whether the ledger changed. The last parcel leaves `cancelled_minor` (the order's lines
/// cancelled by re-sourcing) uncaptured and releases it (`crate::service::resourcing`).
async fn capture(
    state: &AppState,
    row: &mut FulfilmentRow,
    siblings: &[&FulfilmentRow],
    order: &mut OrderRow,
    cancelled_minor: i64,
    at: Timestamp,
) -> Result<bool, AppError> {
    if row.captured_minor.is_some() {
        return Ok(false);
    }
    let currency = order.order.totals.total.currency();
    let last = siblings
        .iter()
        .filter(|s| {
            !matches!(
                s.fulfilment.state(),
                FulfilmentState::Rejected | FulfilmentState::Expired
            )
        })
        .all(|s| s.captured_minor.is_some());
    let payment = &order.order.payment;
    let amount = if last {
        (payment.capturable().to_minor().unwrap_or(0) - cancelled_minor).max(0)
    } else {
        let first = payment.captured().to_minor() == Some(0);
        let delivery = order.order.totals.delivery.to_minor().unwrap_or(0);
        let lines = lines_share(&order.order, &row.fulfilment);
        parcel_capture(lines, delivery, first).min(payment.capturable().to_minor().unwrap_or(0))
    };
    row.captured_minor = Some(amount);
    let provider = state
        .payments
        .get(&order.order.provider)
        .ok_or_else(|| AppError::internal("the order's provider is gone"))?;
    if amount == 0 {
        return release_cancelled(provider.as_ref(), order, last && cancelled_minor > 0, at).await;
    }
    let money = Money::from_minor(amount, currency);
    provider
        .capture(&order.attempt_id, &format!("capture:{}", row.id), money)
        .await
        .map_err(|e| AppError::internal(format!("capture: {e:?}")))?;
    let request = Request::new(Actor::new(Role::System, "fulfilment"), at, "parcel shipped");
    order
        .order
        .payment
        .capture(money, &format!("capture:{}", row.id), request)
        .map_err(|e| AppError::internal(format!("capture ledger: {e}")))?;
    release_cancelled(provider.as_ref(), order, last && cancelled_minor > 0, at).await?;
    Ok(true)
}

/// After the last parcel's capture, when lines were cancelled: the rest of the authorization
/// (what they would have cost) is released, recorded once as `void:cancelled:{attempt}`.
/// Whether the ledger changed.
async fn release_cancelled(
    provider: &dyn crate::payment::PaymentProvider,
    order: &mut OrderRow,
    any: bool,
    at: Timestamp,
) -> Result<bool, AppError> {
    if !any || order.order.payment.capturable().to_minor().unwrap_or(0) == 0 {
        return Ok(false);
    }
    provider
        .void(&order.attempt_id)
        .await
        .map_err(|e| AppError::internal(format!("void: {e:?}")))?;
    let request = Request::new(
        Actor::new(Role::System, "fulfilment"),
        at,
        "lines cancelled",
    );
    order
        .order
        .payment
        .void(&format!("void:cancelled:{}", order.attempt_id), request)
        .map_err(|e| AppError::internal(format!("void ledger: {e}")))?;
    Ok(true)
}

/// The parcel's lines' share of their order lines' totals, in minor units (floored).
fn lines_share(order: &Order, f: &FulfilmentOrder) -> i64 {
    f.lines()
        .iter()
        .filter(|l| l.rejected.is_none())
        .map(|l| {
            order
                .lines
                .iter()
                .find(|o| o.sku.as_str() == l.ordered_sku() && o.attached_to.is_none())
                .map(|o| {
                    let total = i128::from(o.total.to_minor().unwrap_or(0));
                    let of = i128::from(o.quantity.get().max(1));
                    (total * i128::from(l.quantity) / of) as i64
                })
                .unwrap_or(0)
        })
        .sum()
}

pub(crate) fn refused(e: &FulfilmentError) -> AppError {
    let status = match e {
        FulfilmentError::ParcelMissing | FulfilmentError::UnknownLine(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        _ => StatusCode::CONFLICT,
    };
    AppError::new(status, e.code(), e.to_string())
}

/// Most fulfilment orders in one list.
const LIST_LIMIT: i64 = 200;

/// `GET /api/fulfilment-orders`: narrowed by location, state and order number (any if
/// absent), oldest first.
pub async fn list(
    state: &AppState,
    filter: store::Filter<'_>,
) -> Result<FulfilmentOrderList, AppError> {
    if let Some(name) = filter.state {
        parse_state(name)?;
    }
    let rows = store::list(&state.db, filter, LIST_LIMIT).await?;
    Ok(FulfilmentOrderList {
        fulfilment_orders: rows.iter().map(view).collect(),
    })
}

fn parse_state(name: &str) -> Result<FulfilmentState, AppError> {
    FulfilmentState::parse(name).ok_or_else(|| {
        let message = format!("{name:?} is not a fulfilment order's state");
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::UNKNOWN_STATE,
            message,
        )
    })
}

/// The [`Action`] a [`TransitionRequest`] asks for.
pub fn action(request: TransitionRequest) -> Result<Action, AppError> {
    let to = parse_state(&request.to)?;
    if to == FulfilmentState::Collected {
        return Ok(Action::Collect(request.pickup_code.unwrap_or_default()));
    }
    if to != FulfilmentState::Shipped {
        return Ok(Action::To(to));
    }
    match (request.carrier, request.tracking_number) {
        (Some(carrier), Some(tracking_number)) => Ok(Action::Ship(Parcel {
            carrier,
            tracking_number,
            label: request.label.unwrap_or_default(),
        })),
        _ => Err(refused(&FulfilmentError::ParcelMissing)),
    }
}

/// The wire form of a stored fulfilment order.
pub fn view(row: &FulfilmentRow) -> FulfilmentOrderView {
    let f = &row.fulfilment;
    FulfilmentOrderView {
        id: row.id.clone(),
        order_number: row.order_number.clone(),
        location: f.location.clone(),
        kind: match f.kind {
            FulfilmentKind::Ship => "ship",
            FulfilmentKind::Pickup => "pickup",
        }
        .to_owned(),
        state: f.state().name().to_owned(),
        lines: f
            .lines()
            .iter()
            .map(|l| FulfilmentLineView {
                sku: l.sku.clone(),
                quantity: l.quantity,
                rejected: l.rejected.map(|r| {
                    match r {
                        omnicart_order::RejectReason::ShortPick => "short_pick",
                        omnicart_order::RejectReason::Damage => "damage",
                    }
                    .to_owned()
                }),
            })
            .collect(),
        carrier: f.parcel().map(|p| p.carrier.clone()),
        tracking_number: f.parcel().map(|p| p.tracking_number.clone()),
    }
}

/// Fills each shipment of the order's view with its fulfilment order's progress (shipment
/// `i` is the fulfilment order of `seq` `i`, as [`open_for`] made them), a ready pickup's
/// code included (`pickup::shown_code`): the view is its shopper's only.
pub async fn progress(
    state: &AppState,
    order_id: &str,
    view: &mut omnicart_api::OrderView,
) -> Result<(), AppError> {
    let rows = store::of_order(&state.db, order_id).await?;
    let key = pickup::key(state).await?;
    for (shipment, row) in view.shipments.iter_mut().zip(&rows) {
        let events = store::events(&state.db, &row.id).await?;
        let f = &row.fulfilment;
        shipment.progress = Some(omnicart_api::ShipmentProgress {
            state: f.state().name().to_owned(),
            timeline: events
                .into_iter()
                .map(|e| omnicart_api::ShipmentEvent {
                    state: e.to_state,
                    at: Timestamp::from_unix(e.at),
                })
                .collect(),
            carrier: f.parcel().map(|p| p.carrier.clone()),
            tracking_number: f.parcel().map(|p| p.tracking_number.clone()),
            pickup_code: pickup::shown_code(&key, row),
        });
    }
    Ok(())
}
