//! The shopper's orders: `GET /api/orders` (theirs, newest first, by page), one order by its
//! number, and the shopper's cancel before fulfilment. An order opens to the customer who
//! placed it, or for a guest's order to the holder of its token; to anyone else it does not
//! exist (404), so numbers cannot be probed.
//!
//! **Cancel.** Money moves first here, because the order already holds it: the authorization
//! is voided (idempotent: the provider's void of the attempt's key), then one transaction
//! records the transition and the payment's void, releases the reserved stock and returns
//! the promotion uses, and writes `order.cancelled` to the outbox. A failure after the void
//! leaves the order placed with nothing held by the provider; cancelling again finishes it.

use axum::http::StatusCode;
use omnicart_api::checkout::MAX_ORDERS_PER_PAGE;
use omnicart_api::{
    Contact, OrderList, OrderSummary, OrderTotals, OrderView, PaymentView, ShipmentLineView,
    ShipmentView, TimelineEntry,
};
use omnicart_engine::Timestamp;
use omnicart_order::{Actor, Machine, Order, OrderError, OrderState, Request, Role};

use crate::AppState;
use crate::error::AppError;
use crate::ids::{now_unix, sha256_hex};
use crate::service::Caller;
use crate::store::checkout::{self as held, CANCELLED, ORDERED};
use crate::store::orders::{self, OrderRow};

/// `GET /api/orders?page=N`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    page: Option<u32>,
) -> Result<OrderList, AppError> {
    // Without a session there are no orders to list: 404 like every order endpoint, so
    // the orders API answers nobody but their owner.
    let Some(customer) = &caller.customer_id else {
        return Err(AppError::not_found("orders"));
    };
    let page = page.unwrap_or(1).max(1);
    let per_page = i64::from(MAX_ORDERS_PER_PAGE);
    let offset = i64::from(page - 1) * per_page;
    // One more than a page, to know whether another follows.
    let mut found = orders::of_customer(&state.db, customer, offset, per_page + 1).await?;
    let more = found.len() as i64 > per_page;
    found.truncate(MAX_ORDERS_PER_PAGE as usize);
    Ok(OrderList {
        orders: found.iter().map(summary).collect(),
        next_page: more.then_some(page + 1),
    })
}

/// `GET /api/orders/{number}`.
pub async fn read(
    state: &AppState,
    caller: &Caller,
    number: &str,
    token: Option<&str>,
) -> Result<OrderView, AppError> {
    let row = open(state, caller, number, token).await?;
    let mut view = order_view(&row.order);
    view.version = crate::service::edits::version(state, &row.id).await?;
    crate::service::fulfilment::progress(state, &row.id, &mut view).await?;
    view.returns = crate::service::returns::of_order(state, &row.id, &row.order).await?;
    view.substitutions = crate::service::substitutions::of_order(state, &row).await?;
    Ok(view)
}

/// `POST /api/orders/{number}/cancel`.
pub async fn cancel(
    state: &AppState,
    caller: &Caller,
    number: &str,
    token: Option<&str>,
) -> Result<OrderView, AppError> {
    let row = open(state, caller, number, token).await?;
    if !row.order.status.customer_may_cancel() {
        return Err(refused(&OrderError::InvalidTransition {
            from: row.order.status.state().name(),
            to: OrderState::Cancelled.name(),
        }));
    }
    let provider = state
        .payments
        .get(&row.order.provider)
        .ok_or_else(|| AppError::internal("the order's provider is gone"))?;
    provider
        .void(&row.attempt_id)
        .await
        .map_err(|e| AppError::internal(format!("void: {e:?}")))?;
    let mut tx = state.db.begin_write().await?;
    let mut row = orders::lock_by_number(&mut tx, &row.order.number.to_string())
        .await?
        .ok_or_else(|| AppError::not_found("order"))?;
    let actor = Actor::new(
        Role::Customer,
        caller.customer_id.clone().unwrap_or_else(|| "guest".into()),
    );
    let request = Request::new(
        actor,
        Timestamp::from_unix(now_unix()),
        "cancelled by the shopper",
    );
    row.order
        .cancel(request, &format!("void:{}", row.attempt_id))
        .map_err(|e| refused(&e))?;
    held::release(&mut tx, &row.attempt_id, ORDERED, CANCELLED).await?;
    orders::update(&mut tx, &row.id, &row.order).await?;
    tx.commit().await?;
    Ok(order_view(&row.order))
}

fn refused(e: &OrderError) -> AppError {
    use omnicart_engine::ErrorCode;
    AppError::new(StatusCode::CONFLICT, e.code(), e.to_string())
}

/// Who asks about an order on the routes both its shopper and staff use (edits,
/// appointments): the shopper by their session or a guest order's token, or a call-centre
/// agent or field-service system by its integration key (named).
pub enum Asker<'a> {
    Shopper {
        caller: &'a Caller,
        token: Option<&'a str>,
    },
    Agent {
        name: &'a str,
    },
}

impl<'a> Asker<'a> {
    /// The agent when the request carried a known integration key, else the shopper.
    pub fn new(agent: Option<&'a str>, caller: &'a Caller, token: Option<&'a str>) -> Self {
        match agent {
            Some(name) => Asker::Agent { name },
            None => Asker::Shopper { caller, token },
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Asker::Shopper { .. } => Role::Customer,
            Asker::Agent { .. } => Role::Staff,
        }
    }

    /// Who the order's records name.
    pub fn actor(&self) -> Actor {
        match self {
            Asker::Shopper { caller, .. } => Actor::new(
                Role::Customer,
                caller.customer_id.clone().unwrap_or_else(|| "guest".into()),
            ),
            Asker::Agent { name } => Actor::new(Role::Staff, *name),
        }
    }
}

/// The order if `asker` may open it: any order for an agent, the shopper's own otherwise;
/// "not found" for anything else.
pub(crate) async fn open_for(
    state: &AppState,
    asker: &Asker<'_>,
    number: &str,
) -> Result<OrderRow, AppError> {
    match asker {
        Asker::Shopper { caller, token } => open(state, caller, number, *token).await,
        Asker::Agent { .. } => {
            let not_found = || AppError::not_found("order");
            let number = omnicart_order::OrderNumber::parse(number).map_err(|_| not_found())?;
            orders::by_number(&state.db, &number.to_string())
                .await?
                .ok_or_else(not_found)
        }
    }
}

/// The order if the caller may open it; "not found" otherwise.
pub(crate) async fn open(
    state: &AppState,
    caller: &Caller,
    number: &str,
    token: Option<&str>,
) -> Result<OrderRow, AppError> {
    let not_found = || AppError::not_found("order");
    let number = omnicart_order::OrderNumber::parse(number).map_err(|_| not_found())?;
    let row = orders::by_number(&state.db, &number.to_string())
        .await?
        .ok_or_else(not_found)?;
    let mine = row.customer_id.is_some() && row.customer_id == caller.customer_id;
    let guest = match (&row.guest_token_hash, token) {
        (Some(hash), Some(token)) => *hash == sha256_hex(token.as_bytes()),
        _ => false,
    };
    if mine || guest {
        Ok(row)
    } else {
        Err(not_found())
    }
}

fn summary(order: &Order) -> OrderSummary {
    OrderSummary {
        number: order.number.to_string(),
        state: order.status.state().name().to_owned(),
        placed_at: order.placed_at,
        item_count: order.item_count,
        total: order.totals.total,
    }
}

fn label(state: OrderState) -> &'static str {
    match state {
        OrderState::Placed => "Order placed",
        OrderState::Confirmed => "Confirmed",
        OrderState::InFulfilment => "Being prepared",
        OrderState::PartiallyShipped => "Partly on its way",
        OrderState::Shipped => "On its way",
        OrderState::ReadyForPickup => "Ready for pickup",
        OrderState::Delivered => "Delivered",
        OrderState::Collected => "Collected",
        OrderState::Completed => "Completed",
        OrderState::Cancelled => "Cancelled",
        OrderState::OnHold => "On hold",
    }
}

/// An order as its shopper sees it.
pub fn order_view(order: &Order) -> OrderView {
    let timeline = order
        .status
        .history()
        .iter()
        .map(|r| TimelineEntry {
            state: r.to.name().to_owned(),
            at: r.at,
            label: label(r.to).to_owned(),
        })
        .collect();
    let shipments = order
        .fulfilment
        .shipments
        .iter()
        .map(|s| ShipmentView {
            location: s.location.clone(),
            location_name: s.location_name.clone(),
            lines: s
                .lines
                .iter()
                .map(|l| ShipmentLineView {
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                })
                .collect(),
            ships_on: s.ships_on.clone(),
            earliest: s.earliest,
            latest: s.latest,
            label: s.label.clone(),
            progress: None,
        })
        .collect();
    let t = &order.totals;
    OrderView {
        number: order.number.to_string(),
        version: 0,
        state: order.status.state().name().to_owned(),
        placed_at: order.placed_at,
        timeline,
        lines: order.lines.clone(),
        delivery_level: order.fulfilment.level,
        pickup_location: order.fulfilment.pickup_location.clone(),
        shipments,
        contact: order.contact.clone(),
        shipping_address: order.shipping_address.clone(),
        totals: OrderTotals {
            subtotal: t.subtotal,
            discount_total: t.discount_total,
            delivery: t.delivery,
            tax_total: t.tax_total,
            total: t.total,
            prices_include_tax: t.prices_include_tax,
        },
        payment: PaymentView {
            provider: order.provider.clone(),
            state: order.payment.state().name().to_owned(),
            authorized: order.payment.authorized(),
            captured: order.payment.captured(),
            refunded: order.payment.refunded(),
        },
        returns: Vec::new(),
        substitutions: Vec::new(),
    }
}

/// The contact as the order keeps it: email and name without surrounding spaces.
pub fn trimmed_contact(c: &Contact) -> Contact {
    Contact {
        email: c.email.trim().to_owned(),
        name: c.name.trim().to_owned(),
        phone: c.phone.clone(),
    }
}
