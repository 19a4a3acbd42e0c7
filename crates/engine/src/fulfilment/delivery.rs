//! The delivery calculator: options per service level for a cart and a destination, with
//! cost, dates, the sourcing plan and a reason for every service that cannot deliver; and
//! pickup in store (rules 3 to 8 of the [module docs](super)).

use serde::Serialize;

use super::availability::{LineAvailability, day_label, ready_label};
use super::calendar::Date;
use super::geo::Point;
use super::model::{CarrierKind, Level, Network, Service, StockAt, Svc};
use super::sourcing::{self, Costing, Item, Problem, Supply};
use super::{Destination, FulfilmentError, Place};
use crate::cart::{Cart, DeliveryChoice};
use crate::catalogue::{ProductKind, Snapshot};
use crate::money::{Currency, Money};
use crate::promotion::{Amount, delivery_discount};
use crate::quote::{Adjustment, DeliveryPromotion, Quote, QuoteContext, display_name, quote, round_for};
use crate::sku::Sku;
use crate::time::Timestamp;

/// Search nodes per service: exact on small carts, bounded on 50-line carts.
pub(crate) const SEARCH_BUDGET: u32 = 3_000;
/// Free slots listed per option.
const SLOTS_LISTED: usize = 6;
/// Pickup locations listed, nearest first.
const PICKUP_LISTED: usize = 10;

/// What the calculator needs besides the cart: where, when, and what the quote said.
#[derive(Clone, Debug)]
pub struct DeliveryRequest<'a> {
    pub destination: &'a Destination,
    pub now: Timestamp,
    /// The goods' value after discounts (`quote.total` before delivery): for `free_above`
    /// and value tiers.
    pub goods_value: Money,
    /// Delivery promotions the quote found (`quote.delivery_promotions`).
    pub promotions: &'a [DeliveryPromotion],
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeliveryQuote {
    /// The destination as resolved (a postcode becomes its centroid).
    pub destination: Point,
    pub postcode: Option<String>,
    /// Stock status of every goods line.
    pub lines: Vec<LineAvailability>,
    /// At most one option per service level, in level order.
    pub options: Vec<DeliveryOption>,
    /// Every service that cannot deliver this cart here, and why.
    pub unavailable: Vec<Unavailable>,
    /// Pickup locations that can have the whole cart ready, nearest first.
    pub pickup: Vec<PickupOption>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeliveryOption {
    pub level: Level,
    pub level_name: String,
    pub service_id: String,
    pub service_name: String,
    pub carrier_id: String,
    pub carrier_name: String,
    /// Before delivery promotions.
    pub charge: Money,
    pub adjustments: Vec<Adjustment>,
    /// What the shopper pays for delivery.
    pub total: Money,
    pub earliest: Timestamp,
    pub latest: Timestamp,
    /// "Tue 24 Nov", "Tue 24 Nov – Thu 26 Nov", "Today 18:00–22:00".
    pub label: String,
    /// True when some unit waits for incoming supply.
    pub backorder: bool,
    pub shipments: Vec<Shipment>,
    /// Free delivery slots to choose from (own fleet, scheduled delivery).
    pub slots: Vec<SlotOption>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Shipment {
    pub location: String,
    pub location_name: String,
    pub distance_m: u32,
    pub lines: Vec<ShipmentLine>,
    pub ships_on: Date,
    pub charge: Money,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShipmentLine {
    pub sku: Sku,
    pub quantity: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlotOption {
    pub start: Timestamp,
    pub end: Timestamp,
    /// "Tue 24 Nov 09:00–13:00".
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unavailable {
    pub service_id: String,
    pub service_name: String,
    pub carrier_name: String,
    pub level: Level,
    /// `suspended`, `too_large`, `out_of_area`, `no_stock`, `split_limit`, `no_date`,
    /// `nothing_to_ship`.
    pub code: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PickupOption {
    pub location: String,
    pub name: String,
    pub address: String,
    pub distance_m: u32,
    pub ready_by: Timestamp,
    /// "Today from 15:30".
    pub ready_label: String,
    /// Where the goods come from: `store` (on its shelves), `incoming` (a delivery to the
    /// store) or `transfer` (sent from `transfer_from`).
    pub source: String,
    pub transfer_from: Option<String>,
}

/// A goods line with what rating needs.
struct Goods<'a> {
    sku: &'a Sku,
    name: String,
    quantity: u32,
    grams: u32,
    dims: Option<[u32; 3]>,
}

/// Delivery options and pickup for a cart (see the module docs for every rule).
pub fn delivery_options(snapshot: &Snapshot, cart: &Cart, req: &DeliveryRequest) -> Result<DeliveryQuote, FulfilmentError> {
    let net = snapshot.network();
    let place = net.resolve(req.destination)?;
    let mut goods = Vec::new();
    for line in cart.lines() {
        let (product, variant) = snapshot.variant(&line.sku).ok_or_else(|| FulfilmentError::UnknownSku(line.sku.clone()))?;
        if product.kind == ProductKind::Goods {
            goods.push(Goods { sku: &line.sku, name: display_name(snapshot, &line.sku), quantity: line.quantity.get(), grams: variant.weight_grams, dims: variant.dimensions_cm });
        }
    }
    let local_now = net.data.time_zone.local(req.now);
    let lines = goods.iter().map(|g| net.line_status(g.sku, g.quantity)).collect();
    let distances: Vec<u32> = net.data.locations.iter().map(|l| place.point.distance_m(l.point)).collect();
    // Stock of each goods line per location, looked up once: the search reads it often.
    let mut at: Vec<Vec<Option<&StockAt>>> = vec![vec![None; distances.len()]; goods.len()];
    for (row, g) in at.iter_mut().zip(&goods) {
        for s in net.stock_of(g.sku) {
            row[s.loc] = Some(s);
        }
    }
    let ctx = Ctx { net, goods: &goods, at, place: &place, distances: &distances, now: local_now, req, currency: snapshot.currency() };
    // (level, score, latest day, option) of every service that can deliver.
    let mut options: Vec<(Level, i64, i64, DeliveryOption)> = Vec::new();
    let mut unavailable = Vec::new();
    for (c, s, svc) in &net.services {
        let service = &net.data.carriers[*c].services[*s];
        match ctx.plan_service(service, svc) {
            Ok((score, latest, option)) => options.push((service.level, score, latest, option)),
            Err((code, reason)) => unavailable.push(Unavailable {
                service_id: service.id.clone(),
                service_name: service.name.clone(),
                carrier_name: net.data.carriers[*c].name.clone(),
                level: service.level,
                code: code.into(),
                reason,
            }),
        }
    }
    let mut best: Vec<DeliveryOption> = Vec::new();
    for level in Level::ALL {
        // Lowest score, then earliest latest delivery; ties keep the catalogue's order.
        let chosen = options.iter().filter(|o| o.0 == level).min_by_key(|o| (o.1, o.2));
        best.extend(chosen.map(|o| o.3.clone()));
    }
    for option in &mut best {
        apply_promotions(snapshot, option, req.promotions);
    }
    let pickup = if goods.is_empty() { Vec::new() } else { ctx.pickup() };
    Ok(DeliveryQuote { destination: place.point, postcode: place.postcode.clone(), lines, options: best, unavailable, pickup })
}

/// The quote of a cart with its delivery: quotes the goods, computes the delivery options
/// for `destination` from that quote, and, when the cart's chosen level is offered (or a
/// pickup is chosen), quotes again with that charge, so delivery promotions and the total
/// include it. The page shows this; the server runs the same at order placement.
pub fn quote_with_delivery(
    snapshot: &Snapshot,
    cart: &Cart,
    context: &QuoteContext,
    destination: &Destination,
    now: Timestamp,
) -> Result<(Quote, DeliveryQuote), FulfilmentError> {
    let goods = quote(snapshot, cart, context)?;
    let request = DeliveryRequest { destination, now, goods_value: goods.total, promotions: &goods.delivery_promotions };
    let delivery = delivery_options(snapshot, cart, &request)?;
    let charge = match cart.delivery() {
        Some(DeliveryChoice::Level(level)) => delivery.options.iter().find(|o| o.level == *level).map(|o| o.charge),
        Some(DeliveryChoice::Pickup(id)) => delivery.pickup.iter().any(|p| p.location == *id).then(|| Money::zero(goods.currency)),
        None => None,
    };
    let Some(charge) = charge else { return Ok((goods, delivery)) };
    let context = QuoteContext { delivery_charge: Some(Amount(charge.amount())), ..context.clone() };
    Ok((quote(snapshot, cart, &context)?, delivery))
}

/// Delivery promotions reduce the charge in the quote's order, by the quote's own rule.
fn apply_promotions(snapshot: &Snapshot, option: &mut DeliveryOption, promotions: &[DeliveryPromotion]) {
    let round = round_for(snapshot, option.charge.currency());
    let mut left = option.charge.amount();
    for p in promotions {
        let off = delivery_discount(&p.discount, left, round);
        if !off.is_zero() {
            left -= off;
            let amount = Money::rounded(off, option.charge.currency(), round.strategy);
            option.adjustments.push(Adjustment { promotion_id: p.promotion_id.clone(), label: p.label.clone(), amount });
        }
    }
    option.total = Money::rounded(left, option.charge.currency(), round.strategy);
}

struct Ctx<'a> {
    net: &'a Network,
    goods: &'a [Goods<'a>],
    /// at[goods line][location]
    at: Vec<Vec<Option<&'a StockAt>>>,
    place: &'a Place,
    distances: &'a [u32],
    /// Local date and minute of `now`.
    now: (Date, u32),
    req: &'a DeliveryRequest<'a>,
    currency: Currency,
}

type Refusal = (&'static str, String);

/// When a shipment from a location leaves and arrives.
#[derive(Clone)]
struct Timing {
    ships_on: Date,
    earliest: (Date, u32),
    latest: (Date, u32),
    slots: Vec<(Date, u32, u32)>,
}

impl Ctx<'_> {
    /// The best plan of one service: (score, latest delivery, option), or why it cannot go.
    fn plan_service(&self, service: &Service, svc: &Svc) -> Result<(i64, i64, DeliveryOption), Refusal> {
        if self.goods.is_empty() {
            return Err(("nothing_to_ship", "Nothing in the cart is shipped.".into()));
        }
        if !service.available {
            return Err(("suspended", format!("{} is not running at the moment.", service.name)));
        }
        if let Some(g) = self.goods.iter().find(|g| too_large(service, g)) {
            return Err(("too_large", format!("{} is too large or heavy for {}.", g.name, service.name)));
        }
        // Candidate origins: allowed for the service, in a zone for this destination, holding
        // some of the goods.
        let holds = |l: usize| self.at.iter().any(|row| supply_of(row[l]).total() > 0);
        let cands: Vec<(usize, usize)> = (0..self.distances.len()).filter(|&l| svc.origin[l] && holds(l)).filter_map(|l| Some((l, self.zone(svc, l)?))).collect();
        if cands.is_empty() && (0..self.distances.len()).all(|l| !svc.origin[l] || self.zone(svc, l).is_none()) {
            return Err(("out_of_area", format!("{} does not deliver to this address.", service.name)));
        }
        let items: Vec<Item> = self.goods.iter().map(|g| Item { quantity: g.quantity, grams: charged_grams(service, g), bulky: is_bulky(svc, g) }).collect();
        let supply: Vec<Vec<Supply>> = self.at.iter().map(|row| cands.iter().map(|&(l, _)| supply_of(row[l])).collect()).collect();
        if let Some((g, _)) = self.goods.iter().zip(&supply).find(|(g, row)| row.iter().fold(0u32, |sum, s| sum.saturating_add(s.total())) < g.quantity) {
            return Err(("no_stock", format!("Not enough {} where {} collects.", g.name, service.name)));
        }
        let problem = Problem {
            items: &items,
            supply,
            candidates: cands.len(),
            max_shipments: self.net.data.sourcing.max_shipments as usize,
            split_penalty: self.net.split_penalty,
            delay_cost: self.net.delay_cost,
            today: self.now.0,
        };
        if sourcing::coverable(&problem) == Some(false) {
            let max = self.net.data.sourcing.max_shipments;
            return Err(("split_limit", format!("{} cannot bring this cart in {max} shipments or fewer from where it is in stock.", service.name)));
        }
        let calendar = self.net.calendar(svc.calendar);
        let mut first = self.now.0;
        while !calendar.works_on(first) {
            first = first.next();
        }
        let transit = if service.slots.is_empty() { service.transit_days[1] } else { service.transit_days[0] };
        let floor = calendar.add_working_days(first, transit).0;
        let mut rating = Rating { ctx: self, service, svc, cands: &cands, timings: vec![Vec::new(); cands.len()], floor };
        let plan = sourcing::search(&problem, &mut rating, SEARCH_BUDGET)
            .ok_or_else(|| ("no_date", format!("{} has no delivery date in the next {} days.", service.name, self.net.data.sourcing.horizon_days)))?;
        Ok((plan.score, plan.latest_day, rating.option(&problem, &plan)))
    }

    /// The rate zone for shipping from location `l`: postcode zones first, then distance.
    fn zone(&self, svc: &Svc, l: usize) -> Option<usize> {
        let by_postcode = self.place.postcode.as_ref().and_then(|pc| svc.zones.iter().position(|z| z.prefixes.iter().any(|p| pc.starts_with(p.as_str()))));
        by_postcode.or_else(|| svc.zones.iter().position(|z| z.max_m.is_some_and(|m| self.distances[l] <= m)))
    }

    /// When a shipment from `l` whose stock is there on `ready` leaves and arrives.
    fn timing(&self, service: &Service, svc: &Svc, l: usize, ready: Date) -> Option<Timing> {
        let from = if ready == self.now.0 { self.now } else { (ready, 0) };
        let ship = self.net.ready(l, from, Some((svc.calendar, service.pickup_cutoff.map(|t| t.0))))?;
        let cal = self.net.calendar(svc.calendar);
        let (first, last) = (cal.add_working_days(ship.0, service.transit_days[0]), cal.add_working_days(ship.0, service.transit_days[1]));
        let (open, close) = (service.window[0].0, service.window[1].0);
        if service.slots.is_empty() {
            let start = if first == ship.0 { open.max(ship.1) } else { open };
            if first == ship.0 && start >= close {
                return None;
            }
            return Some(Timing { ships_on: ship.0, earliest: (first, start), latest: (last, close), slots: Vec::new() });
        }
        let mut slots = Vec::new();
        let mut day = first;
        for _ in 0..self.net.data.sourcing.horizon_days {
            if cal.works_on(day) {
                for slot in &service.slots {
                    let booked = svc.booked.get(&(day, slot.start.0)).copied().unwrap_or(0);
                    let after_ready = day > ship.0 || slot.start.0 >= ship.1;
                    if booked < slot.capacity && after_ready && slots.len() < SLOTS_LISTED {
                        slots.push((day, slot.start.0, slot.end.0));
                    }
                }
            }
            if slots.len() >= SLOTS_LISTED {
                break;
            }
            day = day.next();
        }
        let &(d, s, e) = slots.first()?;
        Some(Timing { ships_on: ship.0, earliest: (d, s), latest: (d, e), slots })
    }

    fn pickup(&self) -> Vec<PickupOption> {
        let net = self.net;
        let mut stores: Vec<(u32, usize)> = (0..self.distances.len()).filter(|&l| net.data.locations[l].pickup).map(|l| (self.distances[l], l)).collect();
        stores.sort_unstable();
        // The day each shipping location could send a transfer, computed once, when needed.
        let sent = std::cell::OnceCell::new();
        stores.into_iter().filter_map(|(_, l)| self.pickup_at(l, &sent)).take(PICKUP_LISTED).collect()
    }

    /// When the whole cart can be collected at `store` (rule 8).
    fn pickup_at(&self, store: usize, sent: &std::cell::OnceCell<Vec<(usize, Date)>>) -> Option<PickupOption> {
        let net = self.net;
        let (mut from, mut source, mut transfer) = (self.now, "store", Vec::new());
        for (g, row) in self.goods.iter().zip(&self.at) {
            let supply = supply_of(row[store]);
            if supply.now >= g.quantity {
                continue;
            }
            if supply.total() >= g.quantity {
                let date = supply.ready(g.quantity, self.now.0);
                if date > from.0 {
                    (from, source) = ((date, 0), "incoming");
                }
                continue;
            }
            transfer.push((row, g.quantity - supply.now));
        }
        let mut transfer_from = None;
        if !transfer.is_empty() {
            let days = net.data.locations[store].transfer_days?;
            // The shipping location that can send every missing unit soonest (then nearest).
            let calendar = net.calendar(net.locs[store].calendar);
            // (location, day it could send) of every shipping location, once per request.
            let sent = sent.get_or_init(|| {
                let ships = net.data.locations.iter().enumerate().filter(|(_, loc)| loc.ships);
                ships.filter_map(|(l, _)| Some((l, net.ready(l, self.now, None)?.0))).collect()
            });
            let (arrives, l) = sent
                .iter()
                .filter(|&&(l, _)| l != store && transfer.iter().all(|(row, q)| row[l].is_some_and(|s| s.now >= *q)))
                .map(|&(l, day)| (calendar.add_working_days(day, days.max(1)), l))
                .min_by_key(|&(d, l)| (d, self.distances[l], l))?;
            if arrives > from.0 {
                (from, source) = ((arrives, 0), "transfer");
            }
            transfer_from = Some(net.data.locations[l].id.clone());
        }
        let ready = net.ready(store, from, None)?;
        let loc = &net.data.locations[store];
        Some(PickupOption {
            location: loc.id.clone(),
            name: loc.name.clone(),
            address: loc.address.clone(),
            distance_m: self.distances[store],
            ready_by: net.data.time_zone.instant(ready.0, ready.1),
            ready_label: ready_label(ready, self.now.0),
            source: source.into(),
            transfer_from,
        })
    }
}

fn supply_of(stock: Option<&StockAt>) -> Supply<'_> {
    stock.map_or(Supply::default(), |s| Supply { now: s.now, incoming: &s.incoming })
}

fn longest_side(g: &Goods) -> u32 {
    g.dims.map_or(0, |d| d.into_iter().max().unwrap_or(0))
}

fn too_large(service: &Service, g: &Goods) -> bool {
    service.max_item_grams.is_some_and(|m| g.grams > m) || service.max_length_cm.is_some_and(|m| longest_side(g) > m)
}

fn is_bulky(svc: &Svc, g: &Goods) -> bool {
    svc.bulky.is_some_and(|(length, grams, _)| longest_side(g) >= length || grams.is_some_and(|m| g.grams >= m))
}

/// The greater of the actual weight and the dimensional weight (volume / divisor, in kg).
fn charged_grams(service: &Service, g: &Goods) -> u64 {
    let dimensional = match (service.dim_divisor, g.dims) {
        (Some(divisor), Some([l, w, h])) if divisor > 0 => {
            u64::from(l).saturating_mul(u64::from(w)).saturating_mul(u64::from(h)).saturating_mul(1000).div_ceil(u64::from(divisor))
        }
        _ => 0,
    };
    u64::from(g.grams).max(dimensional)
}

/// The search's view of one service: charges and (cached) dates per candidate location.
struct Rating<'a> {
    ctx: &'a Ctx<'a>,
    service: &'a Service,
    svc: &'a Svc,
    /// (location, zone) per candidate.
    cands: &'a [(usize, usize)],
    timings: Vec<Vec<(Date, Option<Timing>)>>,
    /// No shipment arrives (at the latest) before this day: collected on the carrier's first
    /// working day from today, slowest transit (fastest for slot services).
    floor: i64,
}

impl Costing for Rating<'_> {
    fn shipment_cost(&self, c: usize, grams: u64, bulky_units: u32) -> Option<i64> {
        let (l, zone) = self.cands[c];
        let rates = &self.svc.zones[zone].rates;
        let tier = |g: u64| rates.iter().find(|(max, _)| max.is_none_or(|m| g <= u64::from(m))).map(|r| r.1);
        // Heavier than the top tier: full parcels at the top tier's rate and one for the rest.
        // (Tiers are at least 1 g; sums saturate rather than wrap on absurd inputs.)
        let rate = match rates.last()? {
            &(Some(top), price) if grams > u64::from(top) => {
                let (full, rest) = (grams / u64::from(top), grams % u64::from(top));
                let full = i64::try_from(full).unwrap_or(i64::MAX);
                price.saturating_mul(full).saturating_add(if rest > 0 { tier(rest)? } else { 0 })
            }
            _ => tier(grams)?,
        };
        let km = i64::from(self.ctx.distances[l].div_ceil(1000));
        let surcharge = self.svc.bulky.map_or(0, |(_, _, s)| s.saturating_mul(i64::from(bulky_units)));
        let mut charge = rate.saturating_add(self.svc.per_km.saturating_mul(km)).saturating_add(surcharge);
        let value = self.ctx.req.goods_value.to_minor().unwrap_or(i64::MAX);
        if let Some(&(_, cap)) = self.svc.value_tiers.iter().filter(|(min, _)| value >= *min).max_by_key(|(min, _)| *min) {
            charge = charge.min(cap);
        }
        if self.svc.free_above.is_some_and(|f| value >= f) {
            charge = 0;
        }
        Some(charge)
    }

    fn latest_day(&mut self, c: usize, ready: Date) -> Option<i64> {
        self.timing(c, ready).map(|t| t.latest.0.0)
    }

    fn earliest_latest_day(&self) -> i64 {
        self.floor
    }
}

impl Rating<'_> {
    /// The timing of a shipment from candidate `c` ready on `ready`, computed once: the search
    /// asks for the same few (candidate, day) pairs again and again.
    fn timing(&mut self, c: usize, ready: Date) -> Option<&Timing> {
        let at = match self.timings[c].iter().position(|(d, _)| *d == ready) {
            Some(at) => at,
            None => {
                let t = self.ctx.timing(self.service, self.svc, self.cands[c].0, ready);
                self.timings[c].push((ready, t));
                self.timings[c].len() - 1
            }
        };
        self.timings[c][at].1.as_ref()
    }

    /// The option for the chosen plan.
    fn option(&mut self, p: &Problem, plan: &sourcing::Plan) -> DeliveryOption {
        let (ctx, net, currency) = (self.ctx, self.ctx.net, self.ctx.currency);
        let zone = ctx.net.data.time_zone;
        let mut shipments = Vec::new();
        let (mut earliest, mut latest, mut slots, mut backorder) = ((Date(i64::MIN), 0), (Date(i64::MIN), 0), Vec::new(), false);
        let mut used: Vec<usize> = Vec::new();
        for a in &plan.alloc {
            if !used.contains(&a.1) {
                used.push(a.1);
            }
        }
        // Shipments in the network's order of locations.
        used.sort_by_key(|&c| self.cands[c].0);
        for c in used {
            let parts: Vec<_> = plan.alloc.iter().filter(|a| a.1 == c).collect();
            let ready = parts.iter().map(|&&(i, _, q)| p.supply[i][c].ready(q, p.today)).max().unwrap_or(p.today);
            backorder |= ready > p.today;
            let grams = parts.iter().fold(0u64, |sum, &&(i, _, q)| sum.saturating_add(p.items[i].grams.saturating_mul(u64::from(q))));
            let bulky = parts.iter().filter(|&&&(i, _, _)| p.items[i].bulky).map(|&&(_, _, q)| q).sum();
            let charge = self.shipment_cost(c, grams, bulky).unwrap_or(0);
            // The search only returns plans whose every shipment has a timing.
            let t = self.timing(c, ready).expect("a chosen plan's shipments have dates").clone();
            earliest = earliest.max(t.earliest);
            latest = latest.max(t.latest);
            if slots.is_empty() {
                slots = t.slots.clone();
            }
            let l = self.cands[c].0;
            shipments.push(Shipment {
                location: net.data.locations[l].id.clone(),
                location_name: net.data.locations[l].name.clone(),
                distance_m: ctx.distances[l],
                lines: parts.iter().map(|&&(i, _, q)| ShipmentLine { sku: ctx.goods[i].sku.clone(), quantity: q }).collect(),
                ships_on: t.ships_on,
                charge: Money::from_minor(charge, currency),
            });
        }
        let charge = Money::from_minor(plan.cost, currency);
        let label = if self.service.slots.is_empty() || shipments.len() > 1 { range_label(earliest, latest, ctx.now.0) } else { slot_label(earliest.0, earliest.1, latest.1, ctx.now.0) };
        let carrier = &net.data.carriers[self.svc.carrier];
        DeliveryOption {
            level: self.service.level,
            level_name: self.service.level.name().into(),
            service_id: self.service.id.clone(),
            service_name: self.service.name.clone(),
            carrier_id: carrier.id.clone(),
            carrier_name: carrier.name.clone(),
            charge,
            adjustments: Vec::new(),
            total: charge,
            earliest: zone.instant(earliest.0, earliest.1),
            latest: zone.instant(latest.0, latest.1),
            label,
            backorder,
            shipments,
            slots: if carrier.kind == CarrierKind::Fleet || self.service.level == Level::Scheduled {
                slots.iter().map(|&(d, s, e)| SlotOption { start: zone.instant(d, s), end: zone.instant(d, e), label: slot_label(d, s, e, ctx.now.0) }).collect()
            } else {
                Vec::new()
            },
        }
    }
}

fn hm(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn slot_label(day: Date, start: u32, end: u32, today: Date) -> String {
    format!("{} {}–{}", day_label(day, today), hm(start), hm(end))
}

fn range_label(earliest: (Date, u32), latest: (Date, u32), today: Date) -> String {
    if earliest.0 == latest.0 {
        day_label(earliest.0, today)
    } else {
        format!("{} – {}", day_label(earliest.0, today), day_label(latest.0, today))
    }
}
