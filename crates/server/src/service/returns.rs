//! Returns and refunds. The rules of what may be returned and what it refunds are the module
//! docs of `omnicart_order::returns`; this is how they run.
//!
//! - [`request`]: the shopper (the caller rules of `GET /api/orders/{number}`: another
//!   customer's order is 404) returns units, under the order's lock, so two requests of one
//!   order never claim the same units; the units that reached the shopper are counted from
//!   the order's fulfilment orders (`delivered`, `collected`). Mailed to the shopper.
//! - [`receive`]: a location receives it (integration key) with a disposition per line; the
//!   restocked units go back on hand at that location in the same transaction (available at
//!   once, to the snapshot and to placement). A return received already moves nothing.
//!   Then [`refund`].
//! - [`refund`]: to the original payment, through the provider, under `refund:{return id}`,
//!   with the return's and the order's rows locked (so two refunds of one return run one
//!   after the other and the second finds it refunded); then recorded on the order's payment
//!   ledger under the same key, which refuses more than was captured. A refusal by the
//!   provider leaves the return `refund_failed` and the payment as it was; the retry
//!   (`POST /api/returns/{id}/refund`, or receiving again) runs the same step with the same
//!   key, so the provider refunds once. Refunded and refused refunds are mailed.
//!
//! Every step writes its `return.<state>` event to the outbox in its own transaction (the
//! refund's change of the payment writes the order's `order.updated` too).

use std::collections::{BTreeMap, HashMap};

use axum::http::StatusCode;
use omnicart_api::{
    ReceiveRequest, ReturnEvent, ReturnLineView, ReturnRate, ReturnRates, ReturnRequest,
    ReturnView, code,
};
use omnicart_engine::{ErrorCode, Timestamp};
use omnicart_order::{
    Actor, Asked, Disposition, FulfilmentState, LineFacts, Machine, Order, Request, Return,
    ReturnError, ReturnState, Role,
};

use crate::AppState;
use crate::error::AppError;
use crate::ids::random_id;
use crate::service::{Caller, webhooks};
use crate::store::WriteTx;
use crate::store::fulfilment as fulfilment_store;
use crate::store::mail::{self, Mail};
use crate::store::orders::{self, OrderRow};
use crate::store::returns::{self as store, ReturnRow};

/// `POST /api/orders/{number}/returns`.
pub async fn request(
    state: &AppState,
    caller: &Caller,
    number: &str,
    token: Option<&str>,
    body: ReturnRequest,
    at: Timestamp,
) -> Result<ReturnView, AppError> {
    let found = crate::service::orders::open(state, caller, number, token).await?;
    let mut tx = state.db.begin_write().await?;
    let order = orders::lock_by_id(&mut tx, &found.id)
        .await?
        .ok_or_else(|| AppError::not_found("order"))?;
    let earlier = store::of_order_tx(&mut tx, &order.id).await?;
    let fulfilled = fulfilled_units(&mut tx, &order).await?;
    let returned = returned_units(&order.order, &earlier);
    let facts: Vec<LineFacts<'_>> = order
        .order
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| LineFacts {
            line,
            fulfilled: fulfilled[i],
            returned: returned[i],
            goods: ships(&order.order, line),
        })
        .collect();
    let asked: Vec<Asked> = body
        .lines
        .into_iter()
        .map(|l| Asked {
            line: l.line as usize,
            quantity: l.quantity,
            reason: l.reason,
        })
        .collect();
    let actor = Actor::new(
        Role::Customer,
        caller.customer_id.clone().unwrap_or_else(|| "guest".into()),
    );
    let request = Request::new(actor, at, "asked by the shopper");
    let ret = Return::request(&facts, order.order.totals.delivery, &asked, request)
        .map_err(|e| refused(&e))?;
    let row = ReturnRow {
        id: random_id("ret"),
        order_id: order.id.clone(),
        customer_id: order.customer_id.clone(),
        ret,
    };
    store::insert(
        &mut tx,
        &row.id,
        &row.order_id,
        row.customer_id.as_deref(),
        &row.ret,
    )
    .await?;
    mail::insert(&mut tx, &order.id, &return_mail(&order.order, &row)).await?;
    let answer = view(&order.order, &row);
    webhooks::return_event(&mut tx, &order.id, &answer).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Units of each order line (by index) that reached the shopper: the goods of the order's
/// delivered and collected fulfilment orders, given to the lines of their SKU in line order.
async fn fulfilled_units(tx: &mut WriteTx, order: &OrderRow) -> Result<Vec<u32>, AppError> {
    let rows = fulfilment_store::of_order_tx(tx, &order.id).await?;
    let mut by_sku: HashMap<String, u32> = HashMap::new();
    for row in rows.iter().filter(|r| {
        matches!(
            r.fulfilment.state(),
            FulfilmentState::Delivered | FulfilmentState::Collected
        )
    }) {
        for line in row
            .fulfilment
            .lines()
            .iter()
            .filter(|l| l.rejected.is_none())
        {
            *by_sku.entry(line.sku.clone()).or_default() += line.quantity;
        }
    }
    Ok(order
        .order
        .lines
        .iter()
        .map(|line| {
            if line.attached_to.is_some() {
                return 0;
            }
            let left = by_sku.entry(line.sku.as_str().to_owned()).or_default();
            let mine = (*left).min(line.quantity.get());
            *left -= mine;
            mine
        })
        .collect())
}

/// Units of each order line that earlier returns claim.
fn returned_units(order: &Order, earlier: &[ReturnRow]) -> Vec<u32> {
    let mut returned = vec![0; order.lines.len()];
    for line in earlier.iter().flat_map(|r| r.ret.lines()) {
        if let Some(n) = returned.get_mut(line.line) {
            *n += line.quantity;
        }
    }
    returned
}

/// Whether the line is goods the order ships (in its delivery plan).
fn ships(order: &Order, line: &omnicart_engine::QuoteLine) -> bool {
    order
        .fulfilment
        .shipments
        .iter()
        .flat_map(|s| &s.lines)
        .any(|l| l.sku == line.sku)
}

/// `POST /api/returns/{id}/receive` for integration `by`.
pub async fn receive(
    state: &AppState,
    by: &str,
    id: &str,
    body: ReceiveRequest,
    at: Timestamp,
) -> Result<ReturnView, AppError> {
    let known = state
        .catalogue
        .snapshot
        .network()
        .data()
        .locations
        .iter()
        .any(|l| l.id == body.location);
    if !known {
        let message = format!("{:?} is not a location of the network", body.location);
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::UNKNOWN_LOCATION,
            message,
        ));
    }
    let mut dispositions = Vec::with_capacity(body.lines.len());
    for line in &body.lines {
        let d = Disposition::parse(&line.disposition).ok_or_else(|| {
            let message = format!(
                "{:?} is not a disposition (restock, damaged)",
                line.disposition
            );
            AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code::INVALID_RETURN,
                message,
            )
        })?;
        dispositions.push((line.line as usize, d));
    }
    let mut tx = state.db.begin_write().await?;
    let mut row = store::lock(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("return"))?;
    let request = Request::new(Actor::new(Role::Staff, by), at, "received");
    let moved = row
        .ret
        .receive(&body.location, &dispositions, request)
        .map_err(|e| refused(&e))?;
    if moved {
        let order = orders::lock_by_id(&mut tx, &row.order_id)
            .await?
            .ok_or_else(|| AppError::internal("a return without its order"))?;
        webhooks::return_event(&mut tx, &row.order_id, &view(&order.order, &row)).await?;
        for line in row
            .ret
            .lines()
            .iter()
            .filter(|l| store::restocks(l.disposition))
        {
            store::restock(&mut tx, &body.location, line.sku.as_str(), line.quantity).await?;
        }
        store::update(&mut tx, &row, true).await?;
    }
    tx.commit().await?;
    refund(state, by, id, at).await
}

/// `POST /api/returns/{id}/refund`: see the module docs.
pub async fn refund(
    state: &AppState,
    by: &str,
    id: &str,
    at: Timestamp,
) -> Result<ReturnView, AppError> {
    let mut tx = state.db.begin_write().await?;
    let mut row = store::lock(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("return"))?;
    let mut order = orders::lock_by_id(&mut tx, &row.order_id)
        .await?
        .ok_or_else(|| AppError::internal("a return without its order"))?;
    match row.ret.state() {
        ReturnState::Refunded => return Ok(view(&order.order, &row)),
        ReturnState::Requested => {
            return Err(refused(&ReturnError::Order(
                omnicart_order::OrderError::InvalidTransition {
                    from: ReturnState::Requested.name(),
                    to: ReturnState::Refunded.name(),
                },
            )));
        }
        ReturnState::Received | ReturnState::RefundFailed => {}
    }
    let request = || Request::new(Actor::new(Role::Staff, by), at, "refund");
    let amount = row.ret.total();
    let key = format!("refund:{}", row.id);
    let paid = amount.to_minor() == Some(0) || {
        let provider = state
            .payments
            .get(&order.order.provider)
            .ok_or_else(|| AppError::internal("the order's provider is gone"))?;
        match provider.refund(&order.attempt_id, &key, amount).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(return_id = %row.id, error = ?e, "the provider refused a refund");
                false
            }
        }
    };
    if paid {
        if amount.to_minor() != Some(0) {
            order
                .order
                .payment
                .refund(amount, &key, request())
                .map_err(|e| AppError::internal(format!("refund ledger: {e}")))?;
            orders::update(&mut tx, &order.id, &order.order).await?;
        }
        row.ret.refunded(request()).map_err(|e| refused(&e))?;
    } else {
        row.ret.refund_failed(request()).map_err(|e| refused(&e))?;
    }
    store::update(&mut tx, &row, false).await?;
    mail::insert(&mut tx, &order.id, &return_mail(&order.order, &row)).await?;
    let answer = view(&order.order, &row);
    webhooks::return_event(&mut tx, &order.id, &answer).await?;
    tx.commit().await?;
    Ok(answer)
}

fn refused(e: &ReturnError) -> AppError {
    let status = match e {
        ReturnError::NotReturnable { .. } | ReturnError::Order(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    AppError::new(status, e.code(), e.to_string())
}

/// What the shopper is told at each step.
fn return_mail(order: &Order, row: &ReturnRow) -> Mail {
    let number = order.number.to_string();
    let total = row.ret.total();
    let (subject, says) = match row.ret.state() {
        ReturnState::Requested => (
            format!("Your return for order {number}"),
            format!("we have your return; {total} will be refunded once it arrives."),
        ),
        ReturnState::Received => (
            format!("Your return for order {number} arrived"),
            format!("your return arrived; {total} is being refunded."),
        ),
        ReturnState::RefundFailed => (
            format!("Your refund for order {number} is delayed"),
            format!("your bank did not take the refund of {total} yet; we are trying again."),
        ),
        ReturnState::Refunded => (
            format!("Your refund for order {number}"),
            format!("{total} was refunded to your original payment."),
        ),
    };
    Mail {
        recipient: order.contact.email.clone(),
        subject,
        text: format!("Hello {},\n\n{says}\n", order.contact.name),
        html: format!("<p>{}</p>", crate::service::mail::escape(&says)),
    }
}

/// The wire form of a return.
pub fn view(order: &Order, row: &ReturnRow) -> ReturnView {
    let r = &row.ret;
    ReturnView {
        id: row.id.clone(),
        order_number: order.number.to_string(),
        state: r.state().name().to_owned(),
        lines: r
            .lines()
            .iter()
            .map(|l| ReturnLineView {
                line: u32::try_from(l.line).unwrap_or(u32::MAX),
                sku: l.sku.clone(),
                quantity: l.quantity,
                reason: l.reason.clone(),
                refund: l.refund,
                tax: l.tax,
                service: l.service,
                disposition: l.disposition.map(|d| d.name().to_owned()),
            })
            .collect(),
        delivery: r.delivery(),
        total: r.total(),
        location: r.location().map(str::to_owned),
        timeline: r
            .history()
            .iter()
            .map(|h| ReturnEvent {
                state: h.to.name().to_owned(),
                at: h.at,
            })
            .collect(),
    }
}

/// The order's returns for its view.
pub async fn of_order(
    state: &AppState,
    order_id: &str,
    order: &Order,
) -> Result<Vec<ReturnView>, AppError> {
    let rows = store::of_order(&state.db, order_id).await?;
    Ok(rows.iter().map(|r| view(order, r)).collect())
}

/// Most orders read for the units sold: the rates are a staff report over the recent book.
const RATE_ORDERS: i64 = 100_000;

/// `GET /api/return-rates`: received units over sold units, per SKU and per customer.
pub async fn rates(state: &AppState) -> Result<ReturnRates, AppError> {
    let mut by_sku: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_customer: BTreeMap<String, u64> = BTreeMap::new();
    for order in store::sold_orders(&state.db, RATE_ORDERS).await? {
        for line in order.lines.iter().filter(|l| l.attached_to.is_none()) {
            let units = u64::from(line.quantity.get());
            *by_sku.entry(line.sku.as_str().to_owned()).or_default() += units;
            if let Some(customer) = &order.customer_id {
                *by_customer.entry(customer.clone()).or_default() += units;
            }
        }
    }
    let (returned_sku, returned_customer) = store::returned_units(&state.db).await?;
    Ok(ReturnRates {
        products: rate_list(&by_sku, &returned_sku),
        customers: rate_list(&by_customer, &returned_customer),
    })
}

fn rate_list(sold: &BTreeMap<String, u64>, returned: &[(String, i64)]) -> Vec<ReturnRate> {
    let returned: HashMap<&str, u64> = returned
        .iter()
        .map(|(k, n)| (k.as_str(), u64::try_from(*n).unwrap_or(0)))
        .collect();
    let mut rates: Vec<ReturnRate> = sold
        .iter()
        .map(|(key, &sold)| {
            let back = returned.get(key.as_str()).copied().unwrap_or(0);
            // Four places, rounded down, in integers: 10_000 × returned ÷ sold.
            let basis = u128::from(back) * 10_000 / u128::from(sold.max(1));
            ReturnRate {
                key: key.clone(),
                sold,
                returned: back,
                rate: format!("{}.{:04}", basis / 10_000, basis % 10_000),
            }
        })
        .collect();
    rates.sort_by(|a, b| {
        (u128::from(b.returned) * u128::from(a.sold.max(1)))
            .cmp(&(u128::from(a.returned) * u128::from(b.sold.max(1))))
            .then_with(|| a.key.cmp(&b.key))
    });
    rates
}
