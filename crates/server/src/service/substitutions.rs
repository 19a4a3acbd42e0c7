//! Substitutions: a picker proposes another SKU for a line it cannot fill, the order's shopper
//! accepts or declines. **The rules:**
//!
//! 1. A substitute is proposed for a line not rejected, all its units, while lines may still be
//!    rejected (open, picking, packed), for a goods SKU of the catalogue other than the line's;
//!    one proposal per line waits at a time (`substitution_decided` otherwise). The shopper is
//!    mailed.
//! 2. **Price:** the substitute is charged at the lower of the ordered units' price (their
//!    share of the order line's total, net after discounts plus tax, floored) and its own
//!    (the catalogue's price of those units, tax included, without promotions), so the shopper
//!    never pays more than was authorized and is never asked for more. An accepted substitute
//!    that costs less leaves the difference uncaptured: the order's last parcel captures the
//!    authorization less it and releases the rest, as for a cancelled line.
//! 3. Only the order's shopper decides (the caller rules of `GET /api/orders/{number}`;
//!    anyone else gets 404). Accepted: the substitute's units are reserved at the line's
//!    location and the ordered units given back there, in one transaction under the stock rows'
//!    locks (`substitute_unavailable` if the location can no longer promise them; declining is
//!    still possible); the line ships the substitute and remembers the SKU ordered. Declined:
//!    the line is rejected (`short_pick`) and sourced again elsewhere or cancelled uncharged,
//!    by the re-sourcing rules (`crate::service::resourcing`). The same answer again changes
//!    nothing; the other answer after one is `substitution_decided`.

use axum::http::StatusCode;
use omnicart_api::{SubstitutionProposal, SubstitutionView, code};
use omnicart_engine::{Cart, CartOp, Money, ProductKind, Quantity, QuoteContext, Sku, Timestamp};
use omnicart_order::{Actor, FulfilmentState, Machine, OrderState, RejectReason, Request, Role};

use crate::AppState;
use crate::error::AppError;
use crate::ids::random_id;
use crate::service::Caller;
use crate::service::fulfilment::refused;
use crate::service::resourcing::{self, Rejection, share};
use crate::store::WriteTx;
use crate::store::fulfilment::{self as fstore, FulfilmentRow};
use crate::store::mail::{self, Mail};
use crate::store::orders::{self, OrderRow};
use crate::store::supply::{self, SubstitutionRow};

const PROPOSED: &str = "proposed";
const ACCEPTED: &str = "accepted";
const DECLINED: &str = "declined";

/// `POST /api/fulfilment-orders/{id}/substitutions` (rule 1).
pub async fn propose(
    state: &AppState,
    id: &str,
    proposal: &SubstitutionProposal,
    at: Timestamp,
) -> Result<SubstitutionView, AppError> {
    let mut tx = state.db.begin_write().await?;
    let (row, order) = locked(&mut tx, id).await?;
    let index = proposal.line as usize;
    let line = row
        .fulfilment
        .lines()
        .get(index)
        .filter(|l| l.rejected.is_none())
        .ok_or_else(|| refused(&omnicart_order::FulfilmentError::UnknownLine(index)))?;
    if !row.fulfilment.state().may_reject() {
        let e = omnicart_order::FulfilmentError::RejectTooLate(row.fulfilment.state().name());
        return Err(refused(&e));
    }
    if proposal.sku == line.sku {
        let message = "a substitute is another SKU than the line's";
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_sku",
            message,
        ));
    }
    let charged = price_of(state, &proposal.sku, line.quantity, at)?;
    let original = share(&order.order, line.ordered_sku(), line.quantity);
    let s = SubstitutionRow {
        id: random_id("sub_"),
        order_id: order.id.clone(),
        fulfilment_id: row.id.clone(),
        line_index: i64::from(proposal.line),
        sku: line.sku.clone(),
        substitute_sku: proposal.sku.clone(),
        quantity: line.quantity.into(),
        original_minor: original,
        charged_minor: charged.min(original),
        state: PROPOSED.into(),
    };
    if !supply::insert_substitution(&mut tx, &s).await? {
        return Err(decided(
            "this line has a substitute waiting for the shopper",
        ));
    }
    let view = view_of(&s, &order);
    mail::insert(&mut tx, &order.id, &proposal_mail(&order, &view)).await?;
    tx.commit().await?;
    Ok(view)
}

/// The fulfilment order `id` and its order, locked; a cancelled order's do not move.
async fn locked(tx: &mut WriteTx, id: &str) -> Result<(FulfilmentRow, OrderRow), AppError> {
    let row = fstore::lock(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("fulfilment order"))?;
    let order = orders::lock_by_id(tx, &row.order_id)
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
    Ok((row, order))
}

fn decided(message: &str) -> AppError {
    AppError::new(StatusCode::CONFLICT, code::SUBSTITUTION_DECIDED, message)
}

/// The catalogue's price of `units` of `sku` (tax included, no promotions), in minor units;
/// `unknown_sku` unless it is a goods SKU of the catalogue.
fn price_of(state: &AppState, sku: &str, units: u32, at: Timestamp) -> Result<i64, AppError> {
    let snapshot = &state.catalogue.snapshot;
    let unknown = || {
        let message = format!("{sku:?} is not a goods SKU of the catalogue");
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_sku", message)
    };
    let sku = Sku::new(sku).map_err(|_| unknown())?;
    if snapshot.variant(&sku).map(|(p, _)| p.kind) != Some(ProductKind::Goods) {
        return Err(unknown());
    }
    let quantity = Quantity::new(units.into()).map_err(|e| AppError::domain(&e))?;
    let mut cart = Cart::new();
    cart.apply(snapshot, &CartOp::Add { sku, quantity })
        .map_err(|e| AppError::domain(&e))?;
    let context = QuoteContext {
        now: Some(at),
        ..QuoteContext::default()
    };
    let quote =
        omnicart_engine::quote(snapshot, &cart, &context).map_err(|e| AppError::domain(&e))?;
    quote
        .lines
        .first()
        .and_then(|l| l.total.to_minor())
        .ok_or_else(|| AppError::internal("a one-line quote without its line"))
}

/// The order's substitutions, oldest first, for its page.
pub async fn of_order(
    state: &AppState,
    order: &OrderRow,
) -> Result<Vec<SubstitutionView>, AppError> {
    let rows = supply::substitutions_of(&state.db, &order.id).await?;
    Ok(rows.iter().map(|s| view_of(s, order)).collect())
}

fn view_of(s: &SubstitutionRow, order: &OrderRow) -> SubstitutionView {
    let currency = order.order.totals.total.currency();
    SubstitutionView {
        id: s.id.clone(),
        fulfilment_order_id: s.fulfilment_id.clone(),
        sku: s.sku.clone(),
        substitute_sku: s.substitute_sku.clone(),
        quantity: u32::try_from(s.quantity).unwrap_or(0),
        charged: Money::from_minor(s.charged_minor, currency)
            .amount()
            .to_string(),
        original: Money::from_minor(s.original_minor, currency)
            .amount()
            .to_string(),
        state: s.state.clone(),
    }
}

fn proposal_mail(order: &OrderRow, view: &SubstitutionView) -> Mail {
    let number = order.order.number.to_string();
    let text = format!(
        "Hello {},\n\nwe cannot find {} x {} for order {number}. We can send {} instead, for {} \
         (you pay no more than for what you ordered). Accept or decline on your order's page.\n",
        order.order.contact.name, view.quantity, view.sku, view.substitute_sku, view.charged
    );
    Mail {
        recipient: order.order.contact.email.clone(),
        subject: format!("Order {number}: a substitute for {}", view.sku),
        html: format!("<p>{}</p>", text.replace('&', "&amp;").replace('<', "&lt;")),
        text,
    }
}

/// What the shopper decides about the substitution `id` of order `number`.
pub struct Decision<'a> {
    pub number: &'a str,
    pub token: Option<&'a str>,
    pub id: &'a str,
    pub accept: bool,
}

/// `POST /api/orders/{number}/substitutions/{id}` (rule 3).
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    decision: Decision<'_>,
    at: Timestamp,
) -> Result<SubstitutionView, AppError> {
    let mine = crate::service::orders::open(state, caller, decision.number, decision.token).await?;
    let mut tx = state.db.begin_write().await?;
    let mut s = supply::lock_substitution(&mut tx, decision.id)
        .await?
        .filter(|s| s.order_id == mine.id)
        .ok_or_else(|| AppError::not_found("substitution"))?;
    let wanted = if decision.accept { ACCEPTED } else { DECLINED };
    if s.state == wanted {
        return Ok(view_of(&s, &mine));
    }
    if s.state != PROPOSED {
        return Err(decided(
            "this substitution was answered the other way already",
        ));
    }
    let (mut row, mut order) = locked(&mut tx, &s.fulfilment_id).await?;
    let index = usize::try_from(s.line_index).map_err(AppError::internal)?;
    if decision.accept {
        accept(&mut tx, &mut row, &order, &s, index).await?;
    } else {
        // The location's rejection, taken by the system on the shopper's answer.
        let actor = Actor::new(Role::System, "substitute-declined");
        let rejection = Rejection {
            indices: &[index],
            reason: RejectReason::ShortPick,
            request: Request::new(actor, at, "substitute declined"),
        };
        resourcing::reject_in(state, &mut tx, &mut row, &mut order, rejection, at).await?;
    }
    supply::decide_substitution(&mut tx, &s.id, wanted).await?;
    tx.commit().await?;
    s.state = wanted.into();
    Ok(view_of(&s, &order))
}

/// Rule 3, accepted: the substitute's units reserved and the ordered ones given back at the
/// location, under the stock rows' locks; the line ships the substitute.
async fn accept(
    tx: &mut WriteTx,
    row: &mut FulfilmentRow,
    order: &OrderRow,
    s: &SubstitutionRow,
    index: usize,
) -> Result<(), AppError> {
    if row.fulfilment.state() == FulfilmentState::Rejected {
        let e = omnicart_order::FulfilmentError::UnknownLine(index);
        return Err(refused(&e));
    }
    let location = row.fulfilment.location.clone();
    let mut skus = [s.sku.as_str(), s.substitute_sku.as_str()];
    skus.sort_unstable();
    supply::lock_stock(tx, &skus).await?;
    let attempt = &order.attempt_id;
    if !supply::reserve_units(tx, attempt, &location, &s.substitute_sku, s.quantity).await? {
        let message = "the location can no longer promise the substitute; decline it instead";
        return Err(AppError::new(
            StatusCode::CONFLICT,
            code::SUBSTITUTE_UNAVAILABLE,
            message,
        ));
    }
    if !supply::release_units(tx, attempt, &location, &s.sku, s.quantity).await? {
        return Err(AppError::internal(
            "a substituted line its order did not hold",
        ));
    }
    row.fulfilment
        .substitute(index, &s.substitute_sku)
        .map_err(|e| refused(&e))?;
    fstore::update(tx, row, None).await?;
    Ok(())
}
