//! Routing after placement: a location rejects lines of its fulfilment order (short pick,
//! damage), and each is sourced again. **These are the rules:**
//!
//! 1. A line may be rejected only before anything leaves the location (open, picking, packed:
//!    `FulfilmentOrder::reject_lines`); rejecting a line already rejected changes nothing.
//! 2. A rejected line is sourced again by the engine's sourcing (`delivery_options`, the same
//!    search as placement) for the order's delivery level and address, with the order's live
//!    stock and without every location that rejected that SKU for this order
//!    (`DeliveryRequest::exclude`). The stock rows of the SKU are locked first, in (location,
//!    SKU) order as placement locks them, and read under the lock.
//! 3. In the same transaction the reservation moves: the units are given back at the
//!    rejecting location and reserved at the new ones (the placement's conditional update), so
//!    the order holds each unit once. The units join the location's fulfilment order if one
//!    is still `open` there, else a new fulfilment order opens (the order's plan gains its
//!    shipment, with the new dates). The order's promise is the latest delivery of its
//!    shipments still going; the shopper is mailed it.
//! 4. A line nowhere can fill now (nowhere holds it on hand, or only incoming supply could:
//!    backorders are not taken after placement), and every line of a pickup order (collected
//!    in one store), is **cancelled**: its units are given back and its amount (its share of
//!    the order line's total, net after discounts plus tax, floored) is recorded
//!    (`line_cancellations`) and never captured: the order's last parcel captures the
//!    authorization less the cancelled amounts, and the rest of the authorization is released.
//!    Nothing of it was captured before (rule 1: it never shipped), so nothing is refunded.
//!    When no fulfilment order is left going, the order is cancelled and its authorization
//!    voided. The shopper is mailed what was cancelled.

use axum::http::StatusCode;
use omnicart_api::{CancelledLine, RejectionReply, RejectionRequest, ResourcedLine, code};
use omnicart_engine::fulfilment::{DeliveryOption, DeliveryRequest};
use omnicart_engine::{
    Cart, CartOp, Destination, Money, Quantity, QuoteContext, Sku, Timestamp, delivery_options,
    quote,
};
use omnicart_order::{
    Actor, FulfilmentKind, FulfilmentOrder, FulfilmentState, Order, OrderState, PlannedLine,
    PlannedShipment, RejectReason, Request, Role,
};

use crate::AppState;
use crate::error::AppError;
use crate::ids::random_id;
use crate::service::fulfilment::{follow, refused, view};
use crate::service::mail::escape;
use crate::service::stock::LiveStock;
use crate::store::WriteTx;
use crate::store::checkout::{self as held, CANCELLED, ORDERED};
use crate::store::fulfilment::{self as fstore, FulfilmentRow};
use crate::store::mail::{self, Mail};
use crate::store::orders::{self, OrderRow};
use crate::store::supply::{self, Cancellation};

/// `POST /api/fulfilment-orders/{id}/rejections` for integration `by`, at `at`.
pub async fn reject(
    state: &AppState,
    by: &str,
    id: &str,
    request: RejectionRequest,
    at: Timestamp,
) -> Result<RejectionReply, AppError> {
    let reason = parse_reason(&request.reason)?;
    if request.lines.is_empty() {
        let message = "name at least one line to reject";
        return Err(unprocessable(code::UNKNOWN_LINE, message));
    }
    let indices: Vec<usize> = request.lines.iter().map(|&i| i as usize).collect();
    let mut tx = state.db.begin_write().await?;
    let mut row = fstore::lock(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("fulfilment order"))?;
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
    let rejection = Rejection {
        indices: &indices,
        reason,
        request: Request::new(Actor::new(Role::Staff, by), at, &request.reason),
    };
    let outcome = reject_in(state, &mut tx, &mut row, &mut order, rejection, at).await?;
    let latest_delivery = promise(
        &order.order,
        &fstore::of_order_tx(&mut tx, &order.id).await?,
    );
    tx.commit().await?;
    Ok(RejectionReply {
        fulfilment_order: view(&row),
        resourced: outcome.resourced,
        cancelled: outcome.cancelled,
        latest_delivery,
    })
}

/// Lines of a locked fulfilment order to reject, why, and who asks.
pub(crate) struct Rejection<'a> {
    pub indices: &'a [usize],
    pub reason: RejectReason,
    pub request: Request,
}

/// Rules 1–4 for `row` and its `order`, both locked in `tx` (the caller commits; the order
/// is stored here when anything moved). Where the lines went.
pub(crate) async fn reject_in(
    state: &AppState,
    tx: &mut WriteTx,
    row: &mut FulfilmentRow,
    order: &mut OrderRow,
    rejection: Rejection<'_>,
    at: Timestamp,
) -> Result<Outcome, AppError> {
    let fresh = row
        .fulfilment
        .reject_lines(rejection.indices, rejection.reason, rejection.request)
        .map_err(|e| refused(&e))?;
    let mut outcome = Outcome::default();
    if fresh.is_empty() {
        return Ok(outcome);
    }
    fstore::update(tx, row, None).await?;
    let lines: Vec<(String, String, u32)> = fresh
        .iter()
        .map(|&i| &row.fulfilment.lines()[i])
        .map(|l| (l.sku.clone(), l.ordered_sku().to_owned(), l.quantity))
        .collect();
    for (sku, ordered, quantity) in lines {
        let line = Rejected {
            from: row,
            sku: &sku,
            ordered: &ordered,
            quantity,
            at,
        };
        reroute(state, tx, order, &line, &mut outcome).await?;
    }
    settle(state, tx, order, row, &mut outcome, at).await?;
    orders::update(tx, &order.id, &order.order).await?;
    Ok(outcome)
}

/// Where the rejected lines went.
#[derive(Default)]
pub(crate) struct Outcome {
    pub resourced: Vec<ResourcedLine>,
    pub cancelled: Vec<CancelledLine>,
}

/// One rejected line: its units of `sku` (standing in for `ordered`, the SKU bought) at the
/// location of `from`.
struct Rejected<'a> {
    from: &'a FulfilmentRow,
    sku: &'a str,
    ordered: &'a str,
    quantity: u32,
    at: Timestamp,
}

fn parse_reason(name: &str) -> Result<RejectReason, AppError> {
    match name {
        "short_pick" => Ok(RejectReason::ShortPick),
        "damage" => Ok(RejectReason::Damage),
        _ => Err(unprocessable(
            code::UNKNOWN_REASON,
            &format!("{name:?} is not a rejection reason (short_pick, damage)"),
        )),
    }
}

fn unprocessable(code: &'static str, message: &str) -> AppError {
    AppError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// Rules 2–4 for one line: sourced again and moved, or cancelled.
async fn reroute(
    state: &AppState,
    tx: &mut WriteTx,
    order: &mut OrderRow,
    line: &Rejected<'_>,
    outcome: &mut Outcome,
) -> Result<(), AppError> {
    let siblings = fstore::of_order_tx(tx, &order.id).await?;
    let exclude: Vec<String> = siblings
        .iter()
        .filter(|s| {
            s.fulfilment
                .lines()
                .iter()
                .any(|l| l.sku == line.sku && l.rejected.is_some())
        })
        .map(|s| s.fulfilment.location.clone())
        .collect();
    supply::lock_stock(tx, &[line.sku]).await?;
    match source(state, tx, &order.order, line, &exclude).await? {
        Some(option) => move_to(tx, order, &siblings, line, &option, outcome).await,
        None => cancel_line(tx, order, line, outcome).await,
    }
}

/// The engine's best option at the order's level for the line alone, without `exclude`, on
/// the live stock read under the lock; `None` when there is none it can reserve now.
async fn source(
    state: &AppState,
    tx: &mut WriteTx,
    order: &Order,
    line: &Rejected<'_>,
    exclude: &[String],
) -> Result<Option<DeliveryOption>, AppError> {
    let (Some(level), Some(address)) = (order.fulfilment.level, &order.shipping_address) else {
        return Ok(None);
    };
    let snapshot = &state.catalogue.snapshot;
    let (Ok(sku), Ok(quantity)) = (Sku::new(line.sku), Quantity::new(line.quantity.into())) else {
        return Ok(None);
    };
    let mut cart = Cart::new();
    if cart
        .apply(snapshot, &CartOp::Add { sku, quantity })
        .is_err()
    {
        // The product left the catalogue: nothing can source it.
        return Ok(None);
    }
    let live = LiveStock::read(tx.conn(), snapshot, &cart).await?;
    let context = QuoteContext {
        now: Some(line.at),
        ..QuoteContext::default()
    };
    let goods = quote(snapshot, &cart, &context).map_err(|e| AppError::domain(&e))?;
    let destination = Destination::postcode(&address.postcode);
    let request = DeliveryRequest {
        destination: &destination,
        now: line.at,
        goods_value: goods.total,
        promotions: &[],
        stock: Some(&live.levels),
        gifts: &[],
        exclude,
    };
    let Ok(delivery) = delivery_options(snapshot, &cart, &request) else {
        return Ok(None);
    };
    Ok(delivery
        .options
        .into_iter()
        .find(|o| o.level == level && !o.backorder))
}

/// Rule 3: the units given back at the rejecting location and reserved where `option` ships
/// them, joining an open fulfilment order there or opening one.
async fn move_to(
    tx: &mut WriteTx,
    order: &mut OrderRow,
    siblings: &[FulfilmentRow],
    line: &Rejected<'_>,
    option: &DeliveryOption,
    outcome: &mut Outcome,
) -> Result<(), AppError> {
    let attempt = order.attempt_id.clone();
    let from = &line.from.fulfilment.location;
    if !supply::release_units(tx, &attempt, from, line.sku, line.quantity.into()).await? {
        return Err(AppError::internal("a rejected line its order did not hold"));
    }
    shrink_planned(&mut order.order, line.from.seq, line.sku, line.quantity);
    for shipment in &option.shipments {
        let units: u32 = shipment
            .lines
            .iter()
            .filter(|l| l.sku.as_str() == line.sku)
            .map(|l| l.quantity)
            .sum();
        if units == 0 {
            continue;
        }
        let at = &shipment.location;
        if !supply::reserve_units(tx, &attempt, at, line.sku, units.into()).await? {
            return Err(AppError::internal("locked stock changed under re-sourcing"));
        }
        let planned = PlannedShipment {
            location: shipment.location.clone(),
            location_name: shipment.location_name.clone(),
            lines: vec![PlannedLine {
                sku: Sku::new(line.sku).map_err(AppError::internal)?,
                quantity: units,
            }],
            ships_on: shipment.ships_on.to_string(),
            earliest: option.earliest,
            latest: option.latest,
            label: option.label.clone(),
        };
        let id = place_units(tx, order, siblings, planned, line.at).await?;
        outcome.resourced.push(ResourcedLine {
            sku: line.sku.to_owned(),
            quantity: units,
            location: shipment.location.clone(),
            fulfilment_order_id: id,
        });
    }
    Ok(())
}

/// The planned shipment's units join the open fulfilment order at its location, or a new one
/// (whose `seq` is its shipment's index in the order's plan). The fulfilment order's id.
async fn place_units(
    tx: &mut WriteTx,
    order: &mut OrderRow,
    siblings: &[FulfilmentRow],
    planned: PlannedShipment,
    at: Timestamp,
) -> Result<String, AppError> {
    let line = &planned.lines[0];
    let open = siblings.iter().find(|s| {
        s.fulfilment.location == planned.location
            && s.fulfilment.kind == FulfilmentKind::Ship
            && s.fulfilment.state() == FulfilmentState::Open
    });
    if let Some(open) = open {
        // Locked before it changes, as every change of a fulfilment order is.
        let mut joined = fstore::lock(tx, &open.id)
            .await?
            .ok_or_else(|| AppError::internal("a fulfilment order vanished"))?;
        joined
            .fulfilment
            .join(line.sku.as_str(), line.quantity)
            .map_err(AppError::internal)?;
        fstore::update(tx, &joined, None).await?;
        let shipments = &mut order.order.fulfilment.shipments;
        if let Some(s) = usize::try_from(open.seq)
            .ok()
            .and_then(|i| shipments.get_mut(i))
        {
            add_planned(s, line);
            s.latest = s.latest.max(planned.latest);
            s.earliest = s.earliest.max(planned.earliest);
        }
        return Ok(joined.id);
    }
    let request = Request::new(Actor::new(Role::System, "re-sourcing"), at, "re-sourced");
    let lines = [(line.sku.as_str().to_owned(), line.quantity)];
    let f = FulfilmentOrder::open(
        FulfilmentKind::Ship,
        planned.location.clone(),
        lines,
        request,
    );
    let shipments = &mut order.order.fulfilment.shipments;
    let seq = i64::try_from(shipments.len()).map_err(AppError::internal)?;
    let id = random_id("ful");
    fstore::insert(tx, &id, &order.id, seq, &f).await?;
    shipments.push(planned);
    // Other systems hear of the new fulfilment order as of placement's.
    let opened = fstore::lock(tx, &id)
        .await?
        .ok_or_else(|| AppError::internal("a fulfilment order just made"))?;
    crate::service::webhooks::fulfilment_event(tx, &order.id, &view(&opened)).await?;
    Ok(id)
}

fn add_planned(shipment: &mut PlannedShipment, line: &PlannedLine) {
    match shipment.lines.iter_mut().find(|l| l.sku == line.sku) {
        Some(l) => l.quantity += line.quantity,
        None => shipment.lines.push(line.clone()),
    }
}

/// Takes the rejected units off the plan's shipment `seq` (its fulfilment order keeps the
/// rejected line, with its reason).
fn shrink_planned(order: &mut Order, seq: i64, sku: &str, quantity: u32) {
    let shipments = &mut order.fulfilment.shipments;
    let Some(shipment) = usize::try_from(seq).ok().and_then(|i| shipments.get_mut(i)) else {
        return;
    };
    if let Some(l) = shipment.lines.iter_mut().find(|l| l.sku.as_str() == sku) {
        l.quantity = l.quantity.saturating_sub(quantity);
    }
    shipment.lines.retain(|l| l.quantity > 0);
}

/// Rule 4: the units given back, their amount recorded as never to be captured.
async fn cancel_line(
    tx: &mut WriteTx,
    order: &mut OrderRow,
    line: &Rejected<'_>,
    outcome: &mut Outcome,
) -> Result<(), AppError> {
    let attempt = order.attempt_id.clone();
    let from = &line.from.fulfilment.location;
    if !supply::release_units(tx, &attempt, from, line.sku, line.quantity.into()).await? {
        return Err(AppError::internal("a rejected line its order did not hold"));
    }
    shrink_planned(&mut order.order, line.from.seq, line.sku, line.quantity);
    let amount_minor = share(&order.order, line.ordered, line.quantity);
    let cancellation = Cancellation {
        order_id: &order.id,
        fulfilment_id: &line.from.id,
        sku: line.sku,
        quantity: line.quantity.into(),
        amount_minor,
    };
    supply::insert_cancellation(tx, &cancellation).await?;
    let currency = order.order.totals.total.currency();
    outcome.cancelled.push(CancelledLine {
        sku: line.sku.to_owned(),
        quantity: line.quantity,
        amount: Money::from_minor(amount_minor, currency)
            .amount()
            .to_string(),
    });
    Ok(())
}

/// `units` of the order's goods line of `sku`: its share of the line's total (net after
/// discounts, plus tax), floored, in minor units; the rule parcels capture by.
pub fn share(order: &Order, sku: &str, units: u32) -> i64 {
    order
        .lines
        .iter()
        .find(|o| o.sku.as_str() == sku && o.attached_to.is_none())
        .map(|o| {
            let total = i128::from(o.total.to_minor().unwrap_or(0));
            let of = i128::from(o.quantity.get().max(1));
            (total * i128::from(units) / of) as i64
        })
        .unwrap_or(0)
}

/// After every line moved or was cancelled: the order follows its fulfilment orders, or is
/// cancelled and voided when none is left going; the shopper is mailed.
async fn settle(
    state: &AppState,
    tx: &mut WriteTx,
    order: &mut OrderRow,
    row: &FulfilmentRow,
    outcome: &mut Outcome,
    at: Timestamp,
) -> Result<(), AppError> {
    let rows = fstore::of_order_tx(tx, &order.id).await?;
    let going = rows.iter().any(|r| live(r.fulfilment.state()));
    if going {
        let others: Vec<&FulfilmentRow> = rows.iter().filter(|r| r.id != row.id).collect();
        follow(row, &mut order.order, &others, at)?;
    } else if order.order.payment.captured().to_minor() == Some(0) {
        let provider = state
            .payments
            .get(&order.order.provider)
            .ok_or_else(|| AppError::internal("the order's provider is gone"))?;
        provider
            .void(&order.attempt_id)
            .await
            .map_err(|e| AppError::internal(format!("void: {e:?}")))?;
        let request = Request::new(Actor::new(Role::System, "re-sourcing"), at, "nothing left");
        order
            .order
            .cancel(request, &format!("void:{}", order.attempt_id))
            .map_err(|e| AppError::internal(format!("cancel: {e}")))?;
        // The caller's `orders::update` writes `order.cancelled` for the webhooks.
        held::release(tx, &order.attempt_id, ORDERED, CANCELLED).await?;
    }
    let mail = notice(&order.order, outcome, promised_label(&order.order, &rows));
    mail::insert(tx, &order.id, &mail).await?;
    Ok(())
}

fn live(state: FulfilmentState) -> bool {
    !matches!(state, FulfilmentState::Rejected | FulfilmentState::Expired)
}

/// The planned shipments whose fulfilment orders are still going and ship something
/// (shipment `seq` is fulfilment order `seq`).
fn going<'o>(order: &'o Order, rows: &[FulfilmentRow]) -> Vec<&'o PlannedShipment> {
    rows.iter()
        .filter(|r| live(r.fulfilment.state()))
        .filter_map(|r| usize::try_from(r.seq).ok())
        .filter_map(|i| order.fulfilment.shipments.get(i))
        .filter(|s| !s.lines.is_empty())
        .collect()
}

/// The order's promise: the latest delivery of the shipments still going.
fn promise(order: &Order, rows: &[FulfilmentRow]) -> Option<Timestamp> {
    going(order, rows).iter().map(|s| s.latest).max()
}

/// The promise as the shopper reads it: the window label of the shipment arriving last
/// ("Tue 24 Nov – Thu 26 Nov").
fn promised_label(order: &Order, rows: &[FulfilmentRow]) -> Option<String> {
    going(order, rows)
        .into_iter()
        .max_by_key(|s| s.latest)
        .map(|s| s.label.clone())
}

/// The shopper's mail: the new promise, and what was cancelled and not charged.
fn notice(order: &Order, outcome: &Outcome, latest: Option<String>) -> Mail {
    let number = order.number.to_string();
    let mut text = format!("Hello {},\n\n", order.contact.name);
    for r in &outcome.resourced {
        text.push_str(&format!(
            "{} x {} now comes from another of our locations.\n",
            r.quantity, r.sku
        ));
    }
    for c in &outcome.cancelled {
        text.push_str(&format!(
            "{} x {} could not be found anywhere and was cancelled; you are not charged {} for it.\n",
            c.quantity, c.sku, c.amount
        ));
    }
    match latest {
        Some(window) => text.push_str(&format!("\nYour order now arrives: {window}.\n")),
        None => text.push_str("\nNothing is left to send: the order is cancelled.\n"),
    }
    let html = format!("<pre>{}</pre>", escape(&text));
    Mail {
        recipient: order.contact.email.clone(),
        subject: format!("Order {number}: a change to your delivery"),
        text,
        html,
    }
}
