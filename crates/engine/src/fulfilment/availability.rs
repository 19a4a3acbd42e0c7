//! Available to promise per SKU and location, line statuses, and "find in store" (rule 1 and
//! rule 8 of the [module docs](super)).

use serde::Serialize;

use super::calendar::{Date, LocalTime};
use super::model::{Incoming, LocationKind, Network, StockAt, StockLevels};
use super::{Destination, FulfilmentError};
use crate::catalogue::Snapshot;
use crate::sku::Sku;
use crate::sort::nearest_first;
use crate::time::{Digits, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StockStatus {
    InStock,
    LowStock,
    Backorder,
    Unavailable,
}

/// `engine.availability(sku)`: the network's stock of one SKU.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Availability {
    pub sku: Sku,
    /// Units promisable now, in all locations.
    pub available: u32,
    /// The status of one unit.
    pub status: StockStatus,
    /// When none is available now: the first date incoming supply can be promised.
    pub backorder_date: Option<Date>,
    /// Incoming supply in the network, by date.
    pub incoming: Vec<Incoming>,
    /// Locations holding or expecting stock, in network order.
    pub locations: Vec<LocationStock>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LocationStock {
    pub location: String,
    pub name: String,
    pub kind: LocationKind,
    pub available: u32,
    pub on_hand: u32,
    pub reserved: u32,
    pub safety: u32,
    pub incoming: Vec<Incoming>,
}

/// The status of a cart line's quantity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LineAvailability {
    pub sku: Sku,
    pub quantity: u32,
    pub status: StockStatus,
    /// Units promisable now in the network.
    pub available: u32,
    /// For a backorder: the date the quantity can be promised.
    pub date: Option<Date>,
}

/// A store that has a SKU, for "check in store".
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoreStock {
    pub location: String,
    pub name: String,
    pub address: String,
    pub distance_m: u32,
    pub available: u32,
    pub status: StockStatus,
    /// When one unit can be collected.
    pub ready_by: Timestamp,
    /// "Today from 15:30", "Tue 24 Nov from 10:00".
    pub ready_label: String,
}

/// Most stores "find in store" lists.
pub const MAX_STORES_LISTED: usize = 10;

impl Network {
    /// Whether the network can promise `quantity` of `sku` now, all locations together
    /// (`live`'s stock where it lists the SKU). A catalogue without a network stocks
    /// nothing and promises everything (its carts are not delivered by the calculator).
    pub(crate) fn can_promise(&self, sku: &Sku, quantity: u32, live: Option<&StockLevels>) -> bool {
        if self.is_empty() {
            return true;
        }
        let (stock, _) = self.stock_in(sku, live);
        stock.iter().fold(0u32, |sum, s| sum.saturating_add(s.now)) >= quantity
    }

    pub(crate) fn stock_of(&self, sku: &Sku) -> &[StockAt] {
        self.stock.get(sku).map(Vec::as_slice).unwrap_or_default()
    }

    /// In stock, or low stock when at most `sourcing.low_stock` units are available.
    fn in_stock(&self, available: u32) -> StockStatus {
        if available <= self.data.sourcing.low_stock {
            StockStatus::LowStock
        } else {
            StockStatus::InStock
        }
    }

    /// The status of `quantity` units (rule 1), by `live` stock where it lists the SKU.
    pub(crate) fn line_status(
        &self,
        sku: &Sku,
        quantity: u32,
        live: Option<&StockLevels>,
    ) -> LineAvailability {
        let (stock, _) = self.stock_in(sku, live);
        let available = stock.iter().fold(0u32, |sum, s| sum.saturating_add(s.now));
        let (status, date) = if available >= quantity {
            (self.in_stock(available), None)
        } else {
            match backorder_date(stock, quantity - available) {
                Some(date) => (StockStatus::Backorder, Some(date)),
                None => (StockStatus::Unavailable, None),
            }
        };
        LineAvailability {
            sku: sku.clone(),
            quantity,
            status,
            available,
            date,
        }
    }
}

/// The date by which incoming supply across the network adds up to `missing` units.
fn backorder_date(stock: &[StockAt], missing: u32) -> Option<Date> {
    let mut incoming: Vec<Incoming> = stock
        .iter()
        .flat_map(|s| s.incoming.iter().copied())
        .collect();
    incoming.sort();
    let mut have = 0u32;
    incoming
        .into_iter()
        .find_map(|Incoming { date, quantity }| {
            have = have.saturating_add(quantity);
            (have >= missing).then_some(date)
        })
}

/// `engine.availability(sku)`.
pub fn availability(snapshot: &Snapshot, sku: &Sku) -> Result<Availability, FulfilmentError> {
    availability_in(snapshot, sku, None)
}

/// [`availability`] by stock counted outside the snapshot, where `live` lists the SKU.
pub fn availability_with(
    snapshot: &Snapshot,
    live: &StockLevels,
    sku: &Sku,
) -> Result<Availability, FulfilmentError> {
    availability_in(snapshot, sku, Some(live))
}

fn availability_in(
    snapshot: &Snapshot,
    sku: &Sku,
    live: Option<&StockLevels>,
) -> Result<Availability, FulfilmentError> {
    snapshot
        .variant(sku)
        .ok_or_else(|| FulfilmentError::UnknownSku(sku.clone()))?;
    let network = snapshot.network();
    let line = network.line_status(sku, 1, live);
    let (stock, records) = network.stock_in(sku, live);
    let mut incoming: Vec<Incoming> = Vec::new();
    let mut dated: Vec<Incoming> = stock
        .iter()
        .flat_map(|s| s.incoming.iter().copied())
        .collect();
    dated.sort();
    for Incoming { date, quantity } in dated {
        match incoming.last_mut() {
            Some(last) if last.date == date => {
                last.quantity = last.quantity.saturating_add(quantity)
            }
            _ => incoming.push(Incoming { date, quantity }),
        }
    }
    let mut locations: Vec<LocationStock> = stock
        .iter()
        .map(|s| {
            let (l, r) = (&network.data.locations[s.location], &records[s.record]);
            LocationStock {
                location: l.id.clone(),
                name: l.name.clone(),
                kind: l.kind,
                available: s.now,
                on_hand: r.on_hand,
                reserved: r.reserved,
                safety: r.safety,
                incoming: r.incoming.clone(),
            }
        })
        .collect();
    locations.sort_by_key(|l| network.location_index[&l.location]);
    Ok(Availability {
        sku: sku.clone(),
        available: line.available,
        status: line.status,
        backorder_date: line.date,
        incoming,
        locations,
    })
}

/// `engine.findInStore(sku, destination, now)`: pickup locations that have the SKU now,
/// nearest first, at most [`MAX_STORES_LISTED`].
pub fn find_in_store(
    snapshot: &Snapshot,
    sku: &Sku,
    destination: &Destination,
    now: Timestamp,
) -> Result<Vec<StoreStock>, FulfilmentError> {
    snapshot
        .variant(sku)
        .ok_or_else(|| FulfilmentError::UnknownSku(sku.clone()))?;
    let network = snapshot.network();
    let place = network.resolve(destination)?;
    let today = network.data.time_zone.local(now);
    // Nearest first; ready times only for the stores listed.
    let stock = network.stock_of(sku);
    let stores: Vec<(u32, usize)> = stock
        .iter()
        .filter(|s| s.now > 0 && network.data.locations[s.location].pickup)
        .map(|s| {
            (
                place
                    .point
                    .distance_m(network.data.locations[s.location].point),
                s.location,
            )
        })
        .collect();
    let mut found: Vec<StoreStock> = Vec::new();
    for (distance_m, location) in nearest_first(stores) {
        if found.len() == MAX_STORES_LISTED {
            break;
        }
        let Some(s) = stock.iter().find(|s| s.location == location) else {
            continue;
        };
        let l = &network.data.locations[s.location];
        let Some(ready) = network.ready(s.location, today, None) else {
            continue;
        };
        found.push(StoreStock {
            location: l.id.clone(),
            name: l.name.clone(),
            address: l.address.clone(),
            distance_m,
            available: s.now,
            status: network.in_stock(s.now),
            ready_by: network.data.time_zone.instant_of(ready),
            ready_label: ready_label(ready, today.date),
        });
    }
    Ok(found)
}

/// "Today from 15:30", "Tomorrow from 10:00", "Tue 24 Nov from 10:00".
pub(crate) fn ready_label(LocalTime { date, minute }: LocalTime, today: Date) -> String {
    let mut out = String::with_capacity(24);
    push_day(&mut out, date, today);
    out.push_str(" from ");
    push_hm(&mut out, minute);
    out
}

/// Appends "Today", "Tomorrow" or "Tue 24 Nov".
pub(crate) fn push_day(out: &mut String, date: Date, today: Date) {
    match date.0 - today.0 {
        0 => out.push_str("Today"),
        1 => out.push_str("Tomorrow"),
        _ => date.push_label(out),
    }
}

/// Appends a minute of the day as "09:30".
pub(crate) fn push_hm(out: &mut String, minute: u32) {
    let mut text = Digits::<8>::new();
    text.number(i64::from(minute / 60), 2);
    text.push(b':');
    text.number(i64::from(minute % 60), 2);
    out.push_str(text.as_str());
}
