//! The inventory feed, `PUT /api/inventory` (an ERP, WMS or point of sale, with the
//! integration key). **The rules:** each record names a location of the catalogue's network
//! and a goods SKU of the catalogue (else `unknown_location`, `unknown_sku`); its on-hand count
//! is 0 to `MAX_STOCK_UNITS`, its arrivals at most `MAX_INCOMING`, each a valid date and 1 to
//! `MAX_STOCK_UNITS` units, one (location, SKU) once per request and at most
//! `MAX_INVENTORY_RECORDS` records (else `invalid_stock`, naming the record as `op_index`).
//! A record replaces the on-hand count and the arrivals (sorted by date, arrivals of one
//! date added up); reservations and safety stock are the server's and stay, so on hand below
//! what is reserved leaves the record promising nothing until counts catch up. Absolute
//! values make the feed idempotent: the same feed again writes nothing. All records or none,
//! in one transaction, written in (location, SKU) order (the order placement locks rows in).

use std::collections::{BTreeMap, HashSet};

use axum::http::StatusCode;
use omnicart_api::supply::{MAX_INCOMING, MAX_INVENTORY_RECORDS, MAX_STOCK_UNITS};
use omnicart_api::{InventoryFeed, InventoryRecord, InventoryReply, code};
use omnicart_engine::fulfilment::{Date, Incoming};
use omnicart_engine::{ProductKind, Sku, Snapshot};

use crate::AppState;
use crate::error::AppError;
use crate::service::checkout::prepare;
use crate::store::supply::{self, FeedRecord};

/// Applies the feed; what it changed.
pub async fn apply(state: &AppState, feed: &InventoryFeed) -> Result<InventoryReply, AppError> {
    if feed.records.len() > MAX_INVENTORY_RECORDS {
        let message = format!("at most {MAX_INVENTORY_RECORDS} records per request");
        return Err(invalid(message));
    }
    let snapshot = &state.catalogue.snapshot;
    let mut seen = HashSet::new();
    let mut records = Vec::with_capacity(feed.records.len());
    for (i, record) in feed.records.iter().enumerate() {
        let checked = check(snapshot, record).map_err(|e| e.with_op_index(i))?;
        if !seen.insert((record.location.as_str(), record.sku.as_str())) {
            let message = format!("{} at {} is listed twice", record.sku, record.location);
            return Err(invalid(message).with_op_index(i));
        }
        records.push(checked);
    }
    records.sort_by(|a, b| (a.location, a.sku).cmp(&(b.location, b.sku)));
    // The catalogue's stock first (an empty table is seeded once, and would not be after).
    prepare(state).await?;
    let mut tx = state.db.begin_write().await?;
    let updated = supply::apply_feed(&mut tx, &records).await?;
    tx.commit().await?;
    let total = u32::try_from(records.len()).map_err(AppError::internal)?;
    Ok(InventoryReply {
        updated,
        unchanged: total - updated,
    })
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code::INVALID_STOCK,
        message,
    )
}

/// One record checked against the catalogue and the limits.
fn check<'r>(snapshot: &Snapshot, record: &'r InventoryRecord) -> Result<FeedRecord<'r>, AppError> {
    let network = snapshot.network().data();
    if !network.locations.iter().any(|l| l.id == record.location) {
        let message = format!("{:?} is not a location of the network", record.location);
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            // The engine's code for a location the network lacks.
            "unknown_location",
            message,
        ));
    }
    let goods = Sku::new(&record.sku).ok().and_then(|sku| {
        snapshot
            .variant(&sku)
            .map(|(p, _)| p.kind == ProductKind::Goods)
    });
    if goods != Some(true) {
        let message = format!("{:?} is not a stocked SKU of the catalogue", record.sku);
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_sku",
            message,
        ));
    }
    if !(0..=MAX_STOCK_UNITS).contains(&record.on_hand) {
        return Err(invalid(format!(
            "on_hand must be 0 to {MAX_STOCK_UNITS}, not {}",
            record.on_hand
        )));
    }
    if record.incoming.len() > MAX_INCOMING {
        return Err(invalid(format!(
            "at most {MAX_INCOMING} arrivals per record"
        )));
    }
    let mut by_date: BTreeMap<Date, u32> = BTreeMap::new();
    for arrival in &record.incoming {
        let date = Date::parse(&arrival.date)
            .ok_or_else(|| invalid(format!("{:?} is not a date (2026-12-04)", arrival.date)))?;
        if !(1..=MAX_STOCK_UNITS).contains(&arrival.quantity) {
            return Err(invalid(format!(
                "an arrival brings 1 to {MAX_STOCK_UNITS} units, not {}",
                arrival.quantity
            )));
        }
        let units = by_date.entry(date).or_default();
        *units = units.saturating_add(arrival.quantity as u32);
    }
    Ok(FeedRecord {
        location: &record.location,
        sku: &record.sku,
        on_hand: record.on_hand,
        incoming: by_date
            .into_iter()
            .map(|(date, quantity)| Incoming { date, quantity })
            .collect(),
    })
}
