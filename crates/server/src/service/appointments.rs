//! Installation appointments (issue 17). The rules of a visit are `omnicart_order::appointment`'s
//! module docs; here is who may ask and what is kept under concurrency.
//!
//! - **Who.** The order's shopper (as for `GET /api/orders/{number}`) or an integration: a
//!   call-centre agent, the field-service system ([`Asker`]). Anyone else finds no order (404).
//! - **When.** A visit is booked from the day after the order's goods arrive (the latest
//!   promised arrival of its shipments) for [`BOOKABLE_DAYS`] days, Monday to Saturday, in
//!   one of `omnicart_order::SLOTS`, in the area of the shipping address.
//! - **No double booking.** Each booking takes an installer's (installer, day, slot) row;
//!   its primary key refuses a second one, also a concurrent one in another process, so of
//!   twenty shoppers racing for the last free installer one gets it and the others
//!   `slot_taken`. A move takes the new row before it frees the old one, in one transaction.
//! - **Events and mail.** Each change writes `appointment.<booked|rescheduled|cancelled|
//!   completed|failed|repeat_booked>` to the outbox (the field-service and HR systems' work,
//!   and for the ERP the visit's charge: zero for a repeat) and mails the shopper when a visit
//!   is booked or moved, in the change's transaction.

use axum::http::StatusCode;
use omnicart_api::{
    AppointmentEntry, AppointmentList, AppointmentView, BookRequest, ComplaintRequest,
    InstallerFeed, InstallerReply, RescheduleRequest, SlotList, SlotView, code,
};
use omnicart_engine::fulfilment::Date;
use omnicart_engine::{ErrorCode, Timestamp};
use omnicart_order::{
    Appointment, AppointmentState, Machine, OrderError, Request, SLOTS, Visit, area_of,
};

use crate::AppState;
use crate::error::AppError;
use crate::ids::{now_unix, random_id};
use crate::service::orders::{Asker, open_for};
use crate::store::appointments::{self as store, Installer};
use crate::store::mail::{self, Mail};
use crate::store::orders::{self, OrderRow};
use crate::store::outbox::{self, NewEvent};
use crate::store::{StoreError, WriteTx};

/// Days ahead a visit can be booked, from the first bookable day.
pub const BOOKABLE_DAYS: i64 = 21;

/// The request of a change `asker` makes, for the appointment's record.
fn change_by(asker: &Asker<'_>, reason: &str) -> Request {
    Request::new(asker.actor(), Timestamp::from_unix(now_unix()), reason)
}

fn unprocessable(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

fn conflict(e: &OrderError) -> AppError {
    AppError::new(StatusCode::CONFLICT, e.code(), e.to_string())
}

/// The installers' area of the order's shipping address.
fn area(row: &OrderRow) -> Result<String, AppError> {
    row.order
        .shipping_address
        .as_ref()
        .and_then(|a| area_of(&a.postcode))
        .ok_or_else(|| {
            unprocessable(
                code::NO_INSTALLATION_ADDRESS,
                "an installation needs the order's shipping address (a pickup order has none)",
            )
        })
}

/// The first day a visit can be: the day after the latest promised arrival of the goods
/// (and never before tomorrow).
fn first_day(row: &OrderRow) -> Date {
    let today = Timestamp::from_unix(now_unix());
    let latest = row
        .order
        .fulfilment
        .shipments
        .iter()
        .map(|s| s.latest)
        .max()
        .map_or(today, |l| l.max(today));
    let day = Date::parse(&latest.to_string()[..10]).expect("a timestamp's date");
    day.next()
}

/// The bookable days, Monday to Saturday.
fn bookable(row: &OrderRow) -> Vec<Date> {
    let mut day = first_day(row);
    let mut days = Vec::new();
    for _ in 0..BOOKABLE_DAYS {
        if day.weekday() != 6 {
            days.push(day);
        }
        day = day.next();
    }
    days
}

/// Checks `day` and `slot` are bookable for the order.
fn check_visit(row: &OrderRow, day: &str, slot: &str) -> Result<(), AppError> {
    let bookable = Date::parse(day).is_some_and(|d| bookable(row).contains(&d));
    if !bookable || !SLOTS.contains(&slot) {
        let first = String::from(first_day(row));
        return Err(unprocessable(
            code::INVALID_SLOT,
            format!(
                "{day} {slot} is not a visit slot: a day from {first} for {BOOKABLE_DAYS} days \
                 (not Sundays), in {}",
                SLOTS.join(", ")
            ),
        ));
    }
    Ok(())
}

/// `GET /api/orders/{number}/appointment-slots`.
pub async fn slots(state: &AppState, who: &Asker<'_>, number: &str) -> Result<SlotList, AppError> {
    let row = open_for(state, who, number).await?;
    let area = area(&row)?;
    let days = bookable(&row);
    let mut conn = state.db.pool().acquire().await?;
    let installers = store::installers_in(&mut conn, &area, false).await?.len() as u32;
    drop(conn);
    let (from, to) = (
        String::from(days[0]),
        String::from(*days.last().expect("a bookable day")),
    );
    let booked = store::booked_in(&state.db, &area, &from, &to).await?;
    let mut slots = Vec::new();
    for day in days {
        let day = String::from(day);
        for slot in SLOTS {
            let taken = booked
                .iter()
                .filter(|(_, d, s)| *d == day && s == slot)
                .count() as u32;
            let free = installers.saturating_sub(taken);
            if free > 0 {
                slots.push(SlotView {
                    day: day.clone(),
                    slot: slot.to_owned(),
                    free,
                });
            }
        }
    }
    Ok(SlotList { area, slots })
}

/// Takes the first of `installers` free at `day`, `slot` for `appointment`.
async fn take_one(
    tx: &mut WriteTx,
    installers: &[Installer],
    day: &str,
    slot: &str,
    appointment: &str,
) -> Result<Installer, AppError> {
    for installer in installers {
        if store::take(tx, &installer.id, day, slot, appointment).await? {
            return Ok(installer.clone());
        }
    }
    Err(AppError::new(
        StatusCode::CONFLICT,
        code::SLOT_TAKEN,
        format!("no installer is free on {day} at {slot} any more: choose another slot"),
    ))
}

/// `POST /api/orders/{number}/appointments`.
pub async fn book(
    state: &AppState,
    who: &Asker<'_>,
    number: &str,
    request: &BookRequest,
) -> Result<AppointmentView, AppError> {
    let row = open_for(state, who, number).await?;
    let line = row
        .order
        .lines
        .get(request.line)
        .filter(|l| l.attached_to.is_some())
        .ok_or_else(|| {
            unprocessable(
                code::NOT_A_SERVICE_LINE,
                format!(
                    "line {} of the order is not a service to book",
                    request.line
                ),
            )
        })?;
    let area = area(&row)?;
    check_visit(&row, &request.day, &request.slot)?;
    if row.order.status.state().name() == "cancelled" {
        return Err(conflict(&OrderError::InvalidTransition {
            from: "cancelled",
            to: "booked",
        }));
    }
    let mut tx = state.db.begin_write().await?;
    orders::lock_by_id(&mut tx, &row.id).await?;
    let existing = store::of_order(tx.conn(), &row.id).await?;
    if existing
        .iter()
        .any(|a| a.line == request.line && a.state() != AppointmentState::Cancelled)
    {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            code::ALREADY_BOOKED,
            "this service already has a visit: move it instead",
        ));
    }
    let id = random_id("apt_");
    let installers = store::installers_in(tx.conn(), &area, false).await?;
    let installer = take_one(&mut tx, &installers, &request.day, &request.slot, &id).await?;
    let visit = Visit {
        day: request.day.clone(),
        slot: request.slot.clone(),
        installer: installer.id.clone(),
    };
    let appointment = Appointment::book(
        id,
        line.sku.to_string(),
        request.line,
        area,
        visit,
        line.total,
        change_by(who, "booked"),
    );
    store::insert(&mut tx, &row.id, &appointment).await?;
    changed(
        &mut tx,
        &row,
        &appointment,
        "appointment.booked",
        &installer.name,
    )
    .await?;
    tx.commit().await?;
    Ok(view(&row, &appointment, &installer.name))
}

/// Writes the appointment's event and, for a booking or a move, the shopper's mail.
async fn changed(
    tx: &mut WriteTx,
    row: &OrderRow,
    a: &Appointment,
    kind: &str,
    installer: &str,
) -> Result<(), StoreError> {
    let number = row.order.number.to_string();
    let data = view(row, a, installer);
    let event = NewEvent {
        kind,
        order_id: &row.id,
        order_number: &number,
        data: &data,
    };
    outbox::append(tx, &event).await?;
    let moved = match kind {
        "appointment.booked" | "appointment.repeat_booked" => "booked",
        "appointment.rescheduled" => "moved",
        _ => return Ok(()),
    };
    let when = format!("{} {}", a.visit.day, a.visit.slot);
    let mail = Mail {
        recipient: row.order.contact.email.clone(),
        subject: format!("Installation visit {moved}: {when}"),
        text: format!(
            "Hello {},\n\nyour installation visit for order {number} is {moved}: {when}, with \
             {installer}.\n",
            row.order.contact.name
        ),
        html: format!(
            "<p>Your installation visit for order {number} is {moved}: <strong>{when}</strong>, \
             with {}.</p>",
            installer.replace('<', "&lt;")
        ),
    };
    mail::insert(tx, &row.id, &mail).await
}

/// The appointment `id` of the order `who` opens, locked; 404 if it is not of that order.
async fn locked(tx: &mut WriteTx, row: &OrderRow, id: &str) -> Result<Appointment, AppError> {
    match store::lock(tx, id).await? {
        Some((order_id, a)) if order_id == row.id => Ok(a),
        _ => Err(AppError::not_found("appointment")),
    }
}

/// `POST …/appointments/{id}/reschedule`.
pub async fn reschedule(
    state: &AppState,
    who: &Asker<'_>,
    number: &str,
    id: &str,
    request: &RescheduleRequest,
) -> Result<AppointmentView, AppError> {
    let row = open_for(state, who, number).await?;
    check_visit(&row, &request.day, &request.slot)?;
    let mut tx = state.db.begin_write().await?;
    let mut a = locked(&mut tx, &row, id).await?;
    if a.state() != AppointmentState::Booked {
        return Err(conflict(&OrderError::InvalidTransition {
            from: a.state().name(),
            to: "rescheduled",
        }));
    }
    if a.visit.day == request.day && a.visit.slot == request.slot {
        let name = store::installer_name(&state.db, &a.visit.installer).await?;
        return Ok(view(&row, &a, &name));
    }
    let installers = store::installers_in(tx.conn(), &a.area, a.experienced).await?;
    // The old slot is freed only once the new one is held.
    let before = a.visit.clone();
    let temp = format!("{id}:moving");
    let installer = take_one(&mut tx, &installers, &request.day, &request.slot, &temp).await?;
    sqlx::query("DELETE FROM installer_bookings WHERE appointment_id = $1 AND installer_id = $2 AND day = $3 AND slot = $4")
        .bind(id)
        .bind(&before.installer)
        .bind(&before.day)
        .bind(&before.slot)
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE installer_bookings SET appointment_id = $1 WHERE appointment_id = $2")
        .bind(id)
        .bind(&temp)
        .execute(tx.conn())
        .await?;
    let visit = Visit {
        day: request.day.clone(),
        slot: request.slot.clone(),
        installer: installer.id.clone(),
    };
    let reason = format!("moved from {} {}", before.day, before.slot);
    a.reschedule(visit, change_by(who, &reason))
        .map_err(|e| conflict(&e))?;
    store::update(&mut tx, &a).await?;
    changed(
        &mut tx,
        &row,
        &a,
        "appointment.rescheduled",
        &installer.name,
    )
    .await?;
    tx.commit().await?;
    Ok(view(&row, &a, &installer.name))
}

/// Moves the appointment to `to` (a cancel frees its installer), as `who`.
async fn transition(
    state: &AppState,
    who: &Asker<'_>,
    row: &OrderRow,
    id: &str,
    to: AppointmentState,
    reason: &str,
) -> Result<AppointmentView, AppError> {
    let mut tx = state.db.begin_write().await?;
    let mut a = locked(&mut tx, row, id).await?;
    let name = store::installer_name(&state.db, &a.visit.installer).await?;
    if !a
        .transition(to, change_by(who, reason))
        .map_err(|e| conflict(&e))?
    {
        return Ok(view(row, &a, &name));
    }
    if to == AppointmentState::Cancelled {
        store::release(&mut tx, id).await?;
    }
    store::update(&mut tx, &a).await?;
    let kind = format!("appointment.{}", to.name());
    changed(&mut tx, row, &a, &kind, &name).await?;
    tx.commit().await?;
    Ok(view(row, &a, &name))
}

/// `POST …/appointments/{id}/cancel`.
pub async fn cancel(
    state: &AppState,
    who: &Asker<'_>,
    number: &str,
    id: &str,
) -> Result<AppointmentView, AppError> {
    let row = open_for(state, who, number).await?;
    transition(
        state,
        who,
        &row,
        id,
        AppointmentState::Cancelled,
        "cancelled",
    )
    .await
}

/// `POST /api/appointments/{id}/transitions`: the installer's report (an integration).
pub async fn report(
    state: &AppState,
    agent: &str,
    id: &str,
    to: &str,
    reason: Option<&str>,
) -> Result<AppointmentView, AppError> {
    let to = AppointmentState::parse(to).ok_or_else(|| {
        unprocessable(
            code::UNKNOWN_STATE,
            format!("{to:?} is not an appointment's state (completed, failed, cancelled)"),
        )
    })?;
    let order_id: Option<(String,)> =
        sqlx::query_as("SELECT order_id FROM appointments WHERE id = $1")
            .bind(id)
            .fetch_optional(state.db.pool())
            .await?;
    let Some((order_id,)) = order_id else {
        return Err(AppError::not_found("appointment"));
    };
    let number = orders::number_of(&state.db, &order_id).await?;
    let who = Asker::Agent { name: agent };
    let row = open_for(state, &who, &number).await?;
    let reason = reason.unwrap_or("reported by the installer");
    transition(state, &who, &row, id, to, reason).await
}

/// `POST …/appointments/{id}/complaint`: records it and books the free repeat visit.
pub async fn complaint(
    state: &AppState,
    who: &Asker<'_>,
    number: &str,
    id: &str,
    request: &ComplaintRequest,
) -> Result<AppointmentView, AppError> {
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(unprocessable(
            code::INVALID_REQUEST,
            "say what went wrong, in 1 to 1000 characters",
        ));
    }
    let row = open_for(state, who, number).await?;
    check_visit(&row, &request.day, &request.slot)?;
    let mut tx = state.db.begin_write().await?;
    let mut first = locked(&mut tx, &row, id).await?;
    first.may_repeat().map_err(|e| conflict(&e))?;
    let repeat_id = random_id("apt_");
    let installers = store::installers_in(tx.conn(), &first.area, true).await?;
    let installer = take_one(
        &mut tx,
        &installers,
        &request.day,
        &request.slot,
        &repeat_id,
    )
    .await?;
    let visit = Visit {
        day: request.day.clone(),
        slot: request.slot.clone(),
        installer: installer.id.clone(),
    };
    let repeat = first
        .repeat(repeat_id, reason, visit, change_by(who, reason))
        .map_err(|e| conflict(&e))?;
    store::update(&mut tx, &first).await?;
    store::insert(&mut tx, &row.id, &repeat).await?;
    changed(
        &mut tx,
        &row,
        &repeat,
        "appointment.repeat_booked",
        &installer.name,
    )
    .await?;
    tx.commit().await?;
    Ok(view(&row, &repeat, &installer.name))
}

/// `GET /api/orders/{number}/appointments`.
pub async fn list(
    state: &AppState,
    who: &Asker<'_>,
    number: &str,
) -> Result<AppointmentList, AppError> {
    let row = open_for(state, who, number).await?;
    let mut conn = state.db.pool().acquire().await?;
    let all = store::of_order(&mut conn, &row.id).await?;
    drop(conn);
    let mut appointments = Vec::with_capacity(all.len());
    for a in &all {
        let name = store::installer_name(&state.db, &a.visit.installer).await?;
        appointments.push(view(&row, a, &name));
    }
    Ok(AppointmentList { appointments })
}

/// The most installers one feed may carry.
pub const MAX_INSTALLERS: usize = 10_000;

/// Every installer record checked (ids 1 to 64 characters and unique, names 1 to 200, areas
/// as [`area_of`] reads a postcode's first two characters, at most [`MAX_INSTALLERS`]): the
/// feed's records and the file's alike.
fn check_installers(installers: &[Installer]) -> Result<(), AppError> {
    let invalid = |m: String| unprocessable(code::INVALID_INSTALLER, m);
    if installers.len() > MAX_INSTALLERS {
        return Err(invalid(format!(
            "at most {MAX_INSTALLERS} installers per feed"
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (n, i) in installers.iter().enumerate() {
        let at = format!("installer {n} ({:?})", i.id);
        if i.id.is_empty() || i.id.chars().count() > 64 || !seen.insert(i.id.as_str()) {
            return Err(invalid(format!(
                "{at}: the id must be 1 to 64 characters and unique"
            )));
        }
        if i.name.trim().is_empty() || i.name.chars().count() > 200 {
            return Err(invalid(format!(
                "{at}: the name must be 1 to 200 characters"
            )));
        }
        if area_of(&i.area).as_deref() != Some(i.area.as_str()) {
            return Err(invalid(format!(
                "{at}: the area is a postcode's first two characters, digits or capitals"
            )));
        }
    }
    Ok(())
}

/// The installers feed (`PUT /api/installers`): every record checked first
/// ([`check_installers`]), then the list replaced in one transaction. An installer the feed
/// leaves out who still has visits booked refuses the whole feed (`installer_has_visits`, the
/// bookings listed): the visits are moved or cancelled first, never silently lost.
/// Afterwards the file (`OMNICART_INSTALLERS`) is no longer read: it only fills an empty
/// table.
pub async fn replace_installers(
    state: &AppState,
    feed: &InstallerFeed,
) -> Result<InstallerReply, AppError> {
    check_installers(&feed.installers)?;
    store::replace_installers(&state.db, &feed.installers)
        .await?
        .map_err(|booked| {
            let visits: Vec<String> = booked
                .iter()
                .map(|(who, day, slot)| format!("{who} {day} {slot}"))
                .collect();
            AppError::new(
                StatusCode::CONFLICT,
                code::INSTALLER_HAS_VISITS,
                format!(
                    "the feed leaves out installers with visits booked: {}",
                    visits.join(", ")
                ),
            )
        })
}

/// Installers from a JSON file (a list of `{id, name, area, experienced}`), added to the
/// database at first start.
pub async fn load_installers(state: &AppState, path: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let installers: Vec<Installer> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    check_installers(&installers).map_err(|e| format!("{}: {}", path.display(), e.message))?;
    store::seed_installers(&state.db, &installers)
        .await
        .map_err(|e| e.to_string())
}

/// The wire form.
pub fn view(row: &OrderRow, a: &Appointment, installer: &str) -> AppointmentView {
    AppointmentView {
        id: a.id.clone(),
        order_number: row.order.number.to_string(),
        service_sku: a.service_sku.clone(),
        line: a.line,
        area: a.area.clone(),
        day: a.visit.day.clone(),
        slot: a.visit.slot.clone(),
        installer: installer.to_owned(),
        state: a.state().name().to_owned(),
        charge: a.charge,
        repeat_of: a.repeat_of.clone(),
        complaint: a.complaint.as_ref().map(|c| c.reason.clone()),
        repeat: a.complaint.as_ref().map(|c| c.repeat.clone()),
        history: a
            .history()
            .iter()
            .map(|r| AppointmentEntry {
                state: r.to.name().to_owned(),
                at: r.at,
                reason: r.reason.clone(),
            })
            .collect(),
    }
}
