//! The fulfilment network as the snapshot carries it (serde wire types), and its validated,
//! indexed form [`Network`] that availability and the delivery calculator read.
//!
//! Money in the network (rates, surcharges, thresholds) is written as decimal strings and held
//! in minor units (`i64` cents) once validated: rating a shipment is integer arithmetic.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::calendar::{Calendar, Date, LocalTime, TimeOfDay, TimeZone, Weekdays};
use super::geo::Point;
use crate::catalogue::SnapshotError;
use crate::hash::HashMap;
use crate::money::{Currency, Money};
use crate::promotion::Amount;
use crate::sku::Sku;

/// Most locations, carrier services and postcode centroids one network may hold.
pub const MAX_LOCATIONS: usize = 5_000;
pub const MAX_SERVICES: usize = 200;
pub const MAX_POSTCODES: usize = 100_000;

/// `snapshot.network`: locations, stock, carriers, calendars and the postcode table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkData {
    #[serde(default)]
    pub time_zone: TimeZone,
    #[serde(default)]
    pub calendars: Vec<Calendar>,
    #[serde(default)]
    pub locations: Vec<LocationData>,
    #[serde(default)]
    pub stock: Vec<StockRecord>,
    #[serde(default)]
    pub carriers: Vec<Carrier>,
    /// Postcode → centroid, for shoppers who type a postcode instead of sharing a location.
    #[serde(default)]
    pub postcodes: BTreeMap<String, Point>,
    #[serde(default)]
    pub sourcing: Sourcing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Warehouse,
    Store,
    DarkStore,
}

/// A warehouse, store or dark store as the snapshot describes it (validated into a
/// `Location`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationData {
    pub id: String,
    pub name: String,
    pub kind: LocationKind,
    pub point: Point,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub postcode: String,
    /// The calendar of days this location works (picks, packs, opens to shoppers).
    pub calendar: String,
    /// Opening (working) hours per weekday; a weekday not listed is closed.
    pub hours: Vec<Hours>,
    /// Minutes to pick and pack an order once it is placed (or stock has arrived).
    #[serde(default)]
    pub handling_minutes: u32,
    /// Orders placed after this local time are picked the next working day (default: closing).
    #[serde(default)]
    pub cutoff: Option<TimeOfDay>,
    /// Orders this location can pick per day, and how many are already booked per date.
    #[serde(default)]
    pub daily_capacity: Option<u32>,
    #[serde(default)]
    pub booked: BTreeMap<Date, u32>,
    /// Whether parcels leave from here (warehouses; stores that ship from store).
    #[serde(default)]
    pub ships: bool,
    /// Whether shoppers collect orders here.
    #[serde(default)]
    pub pickup: bool,
    /// For pickup points: working days for stock sent from a warehouse to arrive.
    #[serde(default)]
    pub transfer_days: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    pub days: Weekdays,
    pub open: TimeOfDay,
    pub close: TimeOfDay,
}

/// Stock of one SKU at one location.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockRecord {
    pub sku: Sku,
    pub location: String,
    pub on_hand: u32,
    /// Held for orders placed but not yet shipped.
    #[serde(default)]
    pub reserved: u32,
    /// Never promised: kept for damage, display and counting errors.
    #[serde(default)]
    pub safety: u32,
    /// Purchase orders and transfers on their way.
    #[serde(default)]
    pub incoming: Vec<Incoming>,
}

/// Units arriving at a location on a date. Ordered by date, then quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incoming {
    pub date: Date,
    pub quantity: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarrierKind {
    /// The retailer's own vans: a radius around their depots, booked in time slots.
    Fleet,
    Courier,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Carrier {
    pub id: String,
    pub name: String,
    pub kind: CarrierKind,
    /// Days the carrier collects and delivers.
    pub calendar: String,
    pub services: Vec<ServiceData>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Standard,
    Express,
    SameDay,
    Scheduled,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Standard,
        Level::Express,
        Level::SameDay,
        Level::Scheduled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Level::Standard => "Standard",
            Level::Express => "Express",
            Level::SameDay => "Same day",
            Level::Scheduled => "Scheduled",
        }
    }
}

/// A carrier's service as the snapshot describes it (validated into a `Service`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceData {
    pub id: String,
    pub name: String,
    pub level: Level,
    /// Working days in transit after collection, fastest and slowest: `[1, 2]`.
    #[serde(default)]
    pub transit_days: [u32; 2],
    /// The latest local time the carrier collects a parcel that is ready (default: none).
    #[serde(default)]
    pub pickup_cutoff: Option<TimeOfDay>,
    /// The local delivery window on the delivery day: `["08:00", "20:00"]`.
    pub window: [TimeOfDay; 2],
    /// Rate zones, by distance from the shipping location or by the destination's postcode.
    pub zones: Vec<ZoneData>,
    /// Added per started kilometre from the shipping location (own fleet).
    #[serde(default)]
    pub per_km: Option<Amount>,
    /// Dimensional weight divisor in cm³ per kg (5000 is usual): a parcel is charged on the
    /// greater of its weight and its volume / divisor.
    #[serde(default)]
    pub dim_divisor: Option<u32>,
    /// The heaviest item / longest side this service carries.
    #[serde(default)]
    pub max_item_grams: Option<u32>,
    #[serde(default)]
    pub max_length_cm: Option<u32>,
    /// A surcharge per bulky item (a 75-inch TV).
    #[serde(default)]
    pub bulky: Option<Bulky>,
    /// The charge is zero when the goods are worth at least this.
    #[serde(default)]
    pub free_above: Option<Amount>,
    /// Cart-value tiers: from `min_value` up, the charge per shipment is at most `price`.
    #[serde(default)]
    pub value_tiers: Vec<ValueTier>,
    /// Locations this service collects from; empty: every location that ships.
    #[serde(default)]
    pub origins: Vec<String>,
    /// Booked delivery slots (own fleet, scheduled delivery): capacity per slot and day.
    #[serde(default)]
    pub slots: Vec<Slot>,
    #[serde(default)]
    pub booked: Vec<Booking>,
    /// False while the service is suspended (vans off the road, a strike).
    #[serde(default = "yes")]
    pub available: bool,
}

fn yes() -> bool {
    true
}

/// A rate zone of a service as the snapshot describes it (validated into a `Zone`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneData {
    pub id: String,
    /// A distance band: up to this many kilometres from the shipping location.
    #[serde(default)]
    pub max_km: Option<u32>,
    /// Or postcode prefixes of the destination.
    #[serde(default)]
    pub postcodes: Vec<String>,
    /// Weight tiers, lightest first; the last may have no limit.
    pub rates: Vec<Rate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    #[serde(default)]
    pub max_grams: Option<u32>,
    pub price: Amount,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bulky {
    /// Items whose longest side is at least this…
    pub min_length_cm: u32,
    /// …or that weigh at least this.
    #[serde(default)]
    pub min_grams: Option<u32>,
    pub surcharge: Amount,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueTier {
    pub min_value: Amount,
    pub price: Amount,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
    pub capacity: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Booking {
    pub date: Date,
    pub start: TimeOfDay,
    pub count: u32,
}

/// How plans are compared (see the delivery module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sourcing {
    /// What one more shipment costs the retailer beyond its rate (handling, packaging, CO2).
    #[serde(default = "zero")]
    pub split_penalty: Amount,
    /// What a day of waiting is worth to the shopper, to weigh a faster split.
    #[serde(default = "zero")]
    pub delay_cost_per_day: Amount,
    #[serde(default = "three")]
    pub max_shipments: u32,
    /// At most this many units available in total is "low stock".
    #[serde(default = "three")]
    pub low_stock: u32,
    /// How many days ahead dates are searched.
    #[serde(default = "horizon")]
    pub horizon_days: u32,
}

fn zero() -> Amount {
    Amount(rust_decimal::Decimal::ZERO)
}
fn three() -> u32 {
    3
}
fn horizon() -> u32 {
    60
}

impl Default for Sourcing {
    fn default() -> Sourcing {
        Sourcing {
            split_penalty: zero(),
            delay_cost_per_day: zero(),
            max_shipments: three(),
            low_stock: three(),
            horizon_days: horizon(),
        }
    }
}

// ---- the validated network -------------------------------------------------------------

/// A location as the calculator reads it.
#[derive(Clone, Debug)]
pub(crate) struct Location {
    pub calendar: usize,
    /// Opening hours per weekday, Monday first.
    pub hours: [Option<OpenHours>; 7],
    pub cutoff: Option<u32>,
    pub handling: u32,
    pub capacity: Option<u32>,
}

/// When a location opens and closes on a weekday, in local minutes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OpenHours {
    pub open: u32,
    pub close: u32,
}

/// A carrier collecting a shipment: its calendar, and the minute it collects by.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Collection {
    pub calendar: usize,
    pub cutoff: Option<u32>,
}

/// Stock of a SKU at a location: available now, then incoming tranches by date.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StockAt {
    pub location: usize,
    pub record: usize,
    pub now: u32,
    /// By date, none empty.
    pub incoming: Vec<Incoming>,
}

/// A carrier's service as the calculator reads it: money in minor units, zones and origins
/// resolved to indices.
#[derive(Clone, Debug)]
pub(crate) struct Service {
    pub carrier: usize,
    pub calendar: usize,
    pub zones: Vec<Zone>,
    pub per_km: i64,
    pub bulky: Option<BulkyRule>,
    pub free_above: Option<i64>,
    pub value_tiers: Vec<ValuePrice>,
    /// Per location: may this service collect there?
    pub origin: Vec<bool>,
    pub booked: HashMap<(Date, u32), u32>,
}

/// A validated service and where the network data lists it: `data.carriers[carrier]
/// .services[index]`.
#[derive(Clone, Debug)]
pub(crate) struct ServiceAt {
    pub carrier: usize,
    pub index: usize,
    pub service: Service,
}

/// When an item is bulky for a service, and what it adds per bulky unit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BulkyRule {
    /// Bulky from this longest side on.
    pub min_length_cm: u32,
    /// Or from this weight on.
    pub min_grams: Option<u32>,
    /// Per bulky unit, in minor units.
    pub surcharge: i64,
}

/// A weight tier's price, in minor units, up to `max_grams` (the last tier may have no limit).
#[derive(Clone, Copy, Debug)]
pub(crate) struct WeightRate {
    pub max_grams: Option<u32>,
    pub price: i64,
}

/// The price a service charges from a cart value on, both in minor units.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ValuePrice {
    pub min_value: i64,
    pub price: i64,
}

/// A rate zone as the calculator reads it: by distance (`max_m`) or by postcode prefix.
#[derive(Clone, Debug)]
pub(crate) struct Zone {
    pub max_m: Option<u32>,
    pub prefixes: Vec<String>,
    /// Ascending by weight.
    pub rates: Vec<WeightRate>,
}

/// The validated network. Built when the snapshot loads; read-only after.
#[derive(Clone, Debug, Default)]
pub struct Network {
    pub(crate) data: NetworkData,
    pub(crate) locations: Vec<Location>,
    pub(crate) stock: HashMap<Sku, Vec<StockAt>>,
    pub(crate) services: Vec<ServiceAt>,
    pub(crate) location_index: HashMap<String, usize>,
    pub(crate) split_penalty: i64,
    pub(crate) delay_cost: i64,
}

fn invalid(field: String, problem: impl Into<String>) -> SnapshotError {
    SnapshotError::Invalid {
        field,
        problem: problem.into(),
    }
}

fn minor(a: &Amount, currency: Currency, field: impl Fn() -> String) -> Result<i64, SnapshotError> {
    Money::new(a.0, currency)
        .ok()
        .and_then(Money::to_minor)
        .ok_or_else(|| invalid(field(), format!("{} is not an amount of {currency}", a.0)))
}

impl Network {
    pub fn data(&self) -> &NetworkData {
        &self.data
    }

    pub fn is_empty(&self) -> bool {
        self.data.locations.is_empty()
    }

    pub(crate) fn build(
        mut data: NetworkData,
        currency: Currency,
        knows: impl Fn(&Sku) -> bool,
    ) -> Result<Network, SnapshotError> {
        if data.locations.len() > MAX_LOCATIONS || data.postcodes.len() > MAX_POSTCODES {
            return Err(invalid(
                "network".into(),
                format!("at most {MAX_LOCATIONS} locations and {MAX_POSTCODES} postcodes"),
            ));
        }
        let calendars = check_calendars(&mut data)?;
        let location_index = index(
            data.locations.iter().map(|l| l.id.as_str()),
            "network.locations",
        )?;
        let locations = build_locations(&data, &calendars)?;
        let stock = build_stock(&mut data, &location_index, knows)?;
        let services = build_services(&data, &calendars, currency, &location_index)?;
        let split_penalty = minor(&data.sourcing.split_penalty, currency, || {
            "network.sourcing.split_penalty".into()
        })?;
        let delay_cost = minor(&data.sourcing.delay_cost_per_day, currency, || {
            "network.sourcing.delay_cost_per_day".into()
        })?;
        if !(1..=8).contains(&data.sourcing.max_shipments)
            || !(1..=366).contains(&data.sourcing.horizon_days)
        {
            return Err(invalid(
                "network.sourcing".into(),
                "max_shipments is 1 to 8 and horizon_days 1 to 366",
            ));
        }
        Ok(Network {
            data,
            locations,
            stock,
            services,
            location_index,
            split_penalty,
            delay_cost,
        })
    }
}

/// The calendars by id, each with a working weekday and its holidays sorted.
fn check_calendars(data: &mut NetworkData) -> Result<HashMap<String, usize>, SnapshotError> {
    let calendars = index(
        data.calendars.iter().map(|c| c.id.as_str()),
        "network.calendars",
    )?;
    for (i, c) in data.calendars.iter_mut().enumerate() {
        if (0..7).all(|d| c.closed.contains(d)) {
            return Err(invalid(
                format!("network.calendars[{i}].closed"),
                "a calendar needs at least one working weekday",
            ));
        }
        c.holidays.sort();
    }
    Ok(calendars)
}

/// The index of calendar `id`, or an error naming `field`.
fn calendar_of(
    calendars: &HashMap<String, usize>,
    id: &str,
    field: String,
) -> Result<usize, SnapshotError> {
    calendars
        .get(id)
        .copied()
        .ok_or_else(|| invalid(field, format!("unknown calendar {id:?}")))
}

/// The locations as the calculator reads them, in the snapshot's order.
fn build_locations(
    data: &NetworkData,
    calendars: &HashMap<String, usize>,
) -> Result<Vec<Location>, SnapshotError> {
    let mut locations = Vec::with_capacity(data.locations.len());
    for (i, l) in data.locations.iter().enumerate() {
        let here = format!("network.locations[{i}] ({})", l.id);
        let mut hours = [None; 7];
        for h in &l.hours {
            if h.open >= h.close {
                return Err(invalid(
                    format!("{here}.hours"),
                    "a location opens before it closes",
                ));
            }
            (0..7u8).filter(|d| h.days.contains(*d)).for_each(|d| {
                hours[d as usize] = Some(OpenHours {
                    open: h.open.0,
                    close: h.close.0,
                })
            });
        }
        if l.handling_minutes > 7 * 24 * 60 {
            return Err(invalid(
                format!("{here}.handling_minutes"),
                "at most a week",
            ));
        }
        let calendar = calendar_of(calendars, &l.calendar, format!("{here}.calendar"))?;
        locations.push(Location {
            calendar,
            hours,
            cutoff: l.cutoff.map(|t| t.0),
            handling: l.handling_minutes,
            capacity: l.daily_capacity,
        });
    }
    Ok(locations)
}

/// Every carrier's services, validated, with the carrier and service they come from; ids
/// unique across carriers.
fn build_services(
    data: &NetworkData,
    calendars: &HashMap<String, usize>,
    currency: Currency,
    location_index: &HashMap<String, usize>,
) -> Result<Vec<ServiceAt>, SnapshotError> {
    let mut services = Vec::new();
    for (c, carrier) in data.carriers.iter().enumerate() {
        let calendar = calendar_of(
            calendars,
            &carrier.calendar,
            format!("network.carriers[{c}].calendar"),
        )?;
        for (s, service) in carrier.services.iter().enumerate() {
            let here = format!(
                "network.carriers[{c}] ({}).services[{s}] ({})",
                carrier.id, service.id
            );
            services.push(ServiceAt {
                carrier: c,
                index: s,
                service: build_service(
                    service,
                    c,
                    calendar,
                    &here,
                    currency,
                    &data.locations,
                    location_index,
                )?,
            });
        }
    }
    if services.len() > MAX_SERVICES {
        return Err(invalid(
            "network.carriers".into(),
            format!("at most {MAX_SERVICES} services"),
        ));
    }
    let mut ids = crate::hash::HashSet::default();
    if let Some(ServiceAt { carrier, index, .. }) = services
        .iter()
        .find(|s| !ids.insert(data.carriers[s.carrier].services[s.index].id.as_str()))
    {
        return Err(invalid(
            format!("network.carriers[{carrier}].services[{index}].id"),
            "duplicate service id",
        ));
    }
    Ok(services)
}

fn index<'a>(
    ids: impl Iterator<Item = &'a str>,
    field: &str,
) -> Result<HashMap<String, usize>, SnapshotError> {
    let mut out = HashMap::default();
    for (i, id) in ids.enumerate() {
        if id.is_empty() || id.len() > 64 {
            return Err(invalid(
                format!("{field}[{i}].id"),
                "must be 1 to 64 characters",
            ));
        }
        if out.insert(id.to_owned(), i).is_some() {
            return Err(invalid(
                format!("{field}[{i}].id"),
                format!("duplicate id {id:?}"),
            ));
        }
    }
    Ok(out)
}

fn build_stock(
    data: &mut NetworkData,
    location_index: &HashMap<String, usize>,
    knows: impl Fn(&Sku) -> bool,
) -> Result<HashMap<Sku, Vec<StockAt>>, SnapshotError> {
    let mut stock: HashMap<Sku, Vec<StockAt>> = HashMap::default();
    for (i, r) in data.stock.iter_mut().enumerate() {
        let here = format!("network.stock[{i}] ({} at {})", r.sku, r.location);
        if !knows(&r.sku) {
            return Err(invalid(here, "unknown SKU"));
        }
        let location = *location_index
            .get(&r.location)
            .ok_or_else(|| invalid(format!("{here}.location"), "unknown location"))?;
        let at = stock_at(r, location, i, &here)?;
        push_stock(&mut stock, &r.sku, at, &here)?;
    }
    Ok(stock)
}

/// One record as the calculator reads it (its incoming supply sorted by date); `here` names
/// it in errors.
fn stock_at(
    r: &mut StockRecord,
    location: usize,
    record: usize,
    here: &str,
) -> Result<StockAt, SnapshotError> {
    if r.on_hand > 1_000_000_000
        || r.incoming
            .iter()
            .any(|incoming| incoming.quantity > 1_000_000_000)
    {
        return Err(invalid(here.to_owned(), "quantities are at most 10^9"));
    }
    r.incoming.sort_by_key(|incoming| incoming.date);
    // Available to promise now: on hand less reservations and safety stock, never negative.
    let now = r
        .on_hand
        .saturating_sub(r.reserved)
        .saturating_sub(r.safety);
    Ok(StockAt {
        location,
        record,
        now,
        incoming: r
            .incoming
            .iter()
            .filter(|incoming| incoming.quantity > 0)
            .copied()
            .collect(),
    })
}

/// Adds a SKU's record at a location, refusing a second record there.
fn push_stock(
    stock: &mut HashMap<Sku, Vec<StockAt>>,
    sku: &Sku,
    at: StockAt,
    here: &str,
) -> Result<(), SnapshotError> {
    let entry = stock.entry(sku.clone()).or_default();
    if entry.iter().any(|s| s.location == at.location) {
        return Err(invalid(
            here.to_owned(),
            "stock of a SKU is listed twice at one location",
        ));
    }
    entry.push(at);
    Ok(())
}

/// Stock counted outside the snapshot (the server's database, where checkouts reserve
/// units): for every SKU it lists, availability, sourcing and pickup read its records
/// instead of the snapshot's; every other SKU keeps the snapshot's. A SKU listed without
/// records has no stock anywhere. It enters a quote through [`crate::QuoteContext::stock`],
/// as promotions' remaining uses enter through `usage`, so the engine still reads nothing
/// itself.
///
/// Shared, not copied, when a context is cloned (`None`: it lists nothing); and a page that
/// never fills one links almost none of its code.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StockLevels(Option<std::sync::Arc<Levels>>);

#[derive(Debug, PartialEq)]
struct Levels {
    /// SKU → its stock; each `StockAt::record` indexes `records`.
    by_sku: HashMap<Sku, Vec<StockAt>>,
    records: Vec<StockRecord>,
}

impl StockLevels {
    /// `records` as the whole stock of every SKU in `skus` and of every SKU a record names.
    /// Records at a location the network does not have are left out (nothing is planned from
    /// there); the quantity limits and one record per SKU and location are the snapshot's.
    pub fn new(
        network: &Network,
        skus: impl IntoIterator<Item = Sku>,
        records: Vec<StockRecord>,
    ) -> Result<StockLevels, SnapshotError> {
        let mut by_sku: HashMap<Sku, Vec<StockAt>> = HashMap::default();
        for sku in skus {
            by_sku.entry(sku).or_default();
        }
        let mut kept = Vec::with_capacity(records.len());
        for mut r in records {
            let Some(&location) = network.location_index.get(&r.location) else {
                continue;
            };
            let here = format!("stock ({} at {})", r.sku, r.location);
            let at = stock_at(&mut r, location, kept.len(), &here)?;
            push_stock(&mut by_sku, &r.sku, at, &here)?;
            kept.push(r);
        }
        let levels = Levels {
            by_sku,
            records: kept,
        };
        Ok(StockLevels(Some(std::sync::Arc::new(levels))))
    }

    /// Whether these levels list `sku` (and so replace the snapshot's stock of it).
    pub fn lists(&self, sku: &Sku) -> bool {
        self.0.as_ref().is_some_and(|l| l.by_sku.contains_key(sku))
    }

    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|l| l.by_sku.is_empty())
    }

    /// The records kept, in the order given.
    pub fn records(&self) -> &[StockRecord] {
        self.0.as_ref().map_or(&[], |l| &l.records)
    }
}

impl Network {
    /// The stock of `sku` (and the records its `StockAt::record`s index): `live`'s when it
    /// lists the SKU, else the snapshot's.
    pub(crate) fn stock_in<'a>(
        &'a self,
        sku: &Sku,
        live: Option<&'a StockLevels>,
    ) -> (&'a [StockAt], &'a [StockRecord]) {
        let live = live.and_then(|l| l.0.as_deref());
        match live.and_then(|l| l.by_sku.get(sku).map(|s| (s, &l.records))) {
            Some((stock, records)) => (stock, records),
            None => (self.stock_of(sku), &self.data.stock),
        }
    }
}

fn build_service(
    s: &ServiceData,
    carrier: usize,
    calendar: usize,
    here: &str,
    currency: Currency,
    locations: &[LocationData],
    location_index: &HashMap<String, usize>,
) -> Result<Service, SnapshotError> {
    let money = |a: &Amount, f: &str| minor(a, currency, || format!("{here}.{f}"));
    if s.transit_days[0] > s.transit_days[1] || s.transit_days[1] > 60 {
        return Err(invalid(
            format!("{here}.transit_days"),
            "[fastest, slowest] with fastest ≤ slowest ≤ 60",
        ));
    }
    if s.window[0] >= s.window[1] {
        return Err(invalid(
            format!("{here}.window"),
            "the window starts before it ends",
        ));
    }
    if s.zones.is_empty() {
        return Err(invalid(
            format!("{here}.zones"),
            "a service needs at least one zone",
        ));
    }
    let zones = s
        .zones
        .iter()
        .enumerate()
        .map(|(z, zone)| build_zone(zone, &format!("{here}.zones[{z}]"), currency))
        .collect::<Result<Vec<Zone>, SnapshotError>>()?;
    let origin = origins(s, here, locations, location_index)?;
    let mut value_tiers = Vec::new();
    for (t, tier) in s.value_tiers.iter().enumerate() {
        value_tiers.push(ValuePrice {
            min_value: money(&tier.min_value, &format!("value_tiers[{t}].min_value"))?,
            price: money(&tier.price, &format!("value_tiers[{t}].price"))?,
        });
    }
    let bulky = match &s.bulky {
        Some(b) => Some(BulkyRule {
            min_length_cm: b.min_length_cm,
            min_grams: b.min_grams,
            surcharge: money(&b.surcharge, "bulky.surcharge")?,
        }),
        None => None,
    };
    let mut booked = HashMap::default();
    for b in &s.booked {
        let count = booked.entry((b.date, b.start.0)).or_insert(0u32);
        *count = count.saturating_add(b.count);
    }
    if s.slots.iter().any(|slot| slot.start >= slot.end) {
        return Err(invalid(
            format!("{here}.slots"),
            "a slot starts before it ends",
        ));
    }
    Ok(Service {
        carrier,
        calendar,
        zones,
        per_km: s
            .per_km
            .as_ref()
            .map(|a| money(a, "per_km"))
            .transpose()?
            .unwrap_or(0),
        bulky,
        free_above: s
            .free_above
            .as_ref()
            .map(|a| money(a, "free_above"))
            .transpose()?,
        value_tiers,
        origin,
        booked,
    })
}

/// One zone of a service, with its weight tiers checked; `here` names it in errors.
fn build_zone(zone: &ZoneData, here: &str, currency: Currency) -> Result<Zone, SnapshotError> {
    let mut rates: Vec<WeightRate> = Vec::new();
    for (r, rate) in zone.rates.iter().enumerate() {
        let price = minor(&rate.price, currency, || format!("{here}.rates[{r}].price"))?;
        if rate.max_grams == Some(0) {
            return Err(invalid(
                format!("{here}.rates[{r}].max_grams"),
                "a weight tier holds at least 1 g",
            ));
        }
        // Heavier never costs less: the sourcing search relies on it to prune.
        let ordered = rates.last().is_none_or(|last| {
            last.max_grams
                .is_some_and(|g| rate.max_grams.is_none_or(|m| m > g))
                && last.price <= price
        });
        if !ordered {
            return Err(invalid(
                format!("{here}.rates[{r}]"),
                "tiers go from light to heavy, prices never falling, only the last without a limit",
            ));
        }
        rates.push(WeightRate {
            max_grams: rate.max_grams,
            price,
        });
    }
    if rates.is_empty() || zone.max_km.is_some() != zone.postcodes.is_empty() {
        return Err(invalid(
            here.to_owned(),
            "a zone has rates and either max_km or postcodes",
        ));
    }
    Ok(Zone {
        max_m: zone.max_km.map(|k| k.saturating_mul(1000)),
        prefixes: zone.postcodes.clone(),
        rates,
    })
}

/// Per location: whether the service collects there (every shipping location when the service
/// names none).
fn origins(
    s: &ServiceData,
    here: &str,
    locations: &[LocationData],
    location_index: &HashMap<String, usize>,
) -> Result<Vec<bool>, SnapshotError> {
    if s.origins.is_empty() {
        Ok(locations.iter().map(|l| l.ships).collect())
    } else {
        let mut v = vec![false; locations.len()];
        for o in &s.origins {
            let i = *location_index.get(o).ok_or_else(|| {
                invalid(format!("{here}.origins"), format!("unknown location {o:?}"))
            })?;
            v[i] = true;
        }
        Ok(v)
    }
}

impl Network {
    pub(crate) fn calendar(&self, i: usize) -> &Calendar {
        &self.data.calendars[i]
    }

    /// When an order whose stock is at location `location` from local time `from` on is
    /// picked and ready (rules 3 and 8 of the module docs): the first day the location works,
    /// is open, has capacity and (for a shipment) the carrier works, starting no later than
    /// the location's cut-off and ready by closing and by the carrier's pickup cut-off.
    pub(crate) fn ready(
        &self,
        location: usize,
        from: LocalTime,
        carrier: Option<Collection>,
    ) -> Option<LocalTime> {
        let (l, data) = (&self.locations[location], &self.data.locations[location]);
        let calendar = self.calendar(l.calendar);
        let mut day = from.date;
        for _ in 0..self.data.sourcing.horizon_days {
            let open = l.hours[day.weekday() as usize].filter(|_| calendar.works_on(day));
            let carrier_works = carrier.is_none_or(|c| self.calendar(c.calendar).works_on(day));
            let full = l
                .capacity
                .is_some_and(|cap| data.booked.get(&day).copied().unwrap_or(0) >= cap);
            if let (Some(OpenHours { open, close }), true, false) = (open, carrier_works, full) {
                let start = if day == from.date {
                    open.max(from.minute)
                } else {
                    open
                };
                let done = start + l.handling;
                let cutoff = l.cutoff.unwrap_or(close).min(close);
                if start <= cutoff
                    && done <= close
                    && carrier.is_none_or(|c| c.cutoff.is_none_or(|by| done <= by))
                {
                    return Some(LocalTime {
                        date: day,
                        minute: done,
                    });
                }
            }
            day = day.next();
        }
        None
    }
}
