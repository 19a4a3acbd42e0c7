//! The delivery calculator: options per service level for a cart and a destination, with
//! cost, dates, the sourcing plan and a reason for every service that cannot deliver; and
//! pickup in store (rules 3 to 8 of the [module docs](super)).

use serde::Serialize;

use super::availability::{LineAvailability, push_day, push_hm, ready_label};
use super::calendar::{Date, LocalTime};
use super::geo::Point;
use super::model::{
    CarrierKind, Collection, Level, Network, Service, ServiceData, StockAt, StockLevels, WeightRate,
};
use super::sourcing::{self, Costing, Item, Problem, Rows, Supply};
use super::{Destination, FulfilmentError, Place};
use crate::cart::{Cart, DeliveryChoice};
use crate::catalogue::{ProductKind, Snapshot};
use crate::context::QuoteContext;
use crate::exact::{mul_sat_i64, mul_sat_u64};
use crate::money::{Currency, Money};
use crate::pricing::round_for;
use crate::promotion::{Amount, delivery_discount};
use crate::quote::{Adjustment, DeliveryPromotion, Quote, quote};
use crate::sku::Sku;
use crate::sort::nearest_first;
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
    /// Stock counted outside the snapshot, for the SKUs it lists (the server's, at
    /// placement); `None`: the snapshot's stock.
    pub stock: Option<&'a StockLevels>,
    /// Units the quote gives away (its `gift` lines): shipped, and so sourced and stocked,
    /// with the cart's goods (a gift of a SKU the cart holds adds to that line's units).
    pub gifts: &'a [(Sku, u32)],
    /// Locations never to ship from (ids), whatever they hold: a location that rejected a
    /// line after placement, when the line is sourced again (rule 6).
    pub exclude: &'a [String],
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
    pub level_name: &'static str,
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
    pub source: &'static str,
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
pub fn delivery_options(
    snapshot: &Snapshot,
    cart: &Cart,
    request: &DeliveryRequest,
) -> Result<DeliveryQuote, FulfilmentError> {
    let network = snapshot.network();
    let place = network.resolve(request.destination)?;
    let goods = goods_of(snapshot, cart, request.gifts)?;
    let lines = goods
        .iter()
        .map(|g| network.line_status(g.sku, g.quantity, request.stock))
        .collect();
    let distances: Vec<u32> = network
        .data
        .locations
        .iter()
        .map(|l| place.point.distance_m(l.point))
        .collect();
    let calculation = Calculation::new(
        network,
        &goods,
        &place,
        &distances,
        request,
        snapshot.currency(),
    );
    // The best plan of every service that can deliver; written out only for the shopper's
    // options (the best per level).
    let mut options: Vec<Planned> = Vec::new();
    let mut unavailable = Vec::new();
    for at in &network.services {
        let carrier = &network.data.carriers[at.carrier];
        let service_data = &carrier.services[at.index];
        match calculation.plan_service(service_data, &at.service) {
            Ok(planned) => options.push(planned),
            Err(Refusal { code, message }) => unavailable.push(Unavailable {
                service_id: service_data.id.clone(),
                service_name: service_data.name.clone(),
                carrier_name: carrier.name.clone(),
                level: service_data.level,
                code: code.into(),
                reason: message,
            }),
        }
    }
    let mut best = calculation.best_per_level(options);
    for option in &mut best {
        apply_promotions(snapshot, option, request.promotions);
    }
    let pickup = if goods.is_empty() {
        Vec::new()
    } else {
        calculation.pickup()
    };
    Ok(DeliveryQuote {
        destination: place.point,
        postcode: place.postcode.clone(),
        lines,
        options: best,
        unavailable,
        pickup,
    })
}

/// The cart's goods lines (services are not shipped) and the quote's gifts, with what rating
/// needs.
fn goods_of<'a>(
    snapshot: &Snapshot,
    cart: &'a Cart,
    gifts: &'a [(Sku, u32)],
) -> Result<Vec<Goods<'a>>, FulfilmentError> {
    let mut goods: Vec<Goods<'a>> = Vec::new();
    let lines = cart.lines().iter().map(|l| (&l.sku, l.quantity.get()));
    for (sku, quantity) in lines.chain(gifts.iter().map(|(sku, q)| (sku, *q))) {
        if let Some(same) = goods.iter_mut().find(|g| g.sku == sku) {
            same.quantity = same.quantity.saturating_add(quantity);
            continue;
        }
        let (product, variant) = snapshot
            .variant(sku)
            .ok_or_else(|| FulfilmentError::UnknownSku(sku.clone()))?;
        if product.kind == ProductKind::Goods {
            goods.push(Goods {
                sku,
                name: snapshot.display_name(sku),
                quantity,
                grams: variant.weight_grams,
                dims: variant.dimensions_cm,
            });
        }
    }
    Ok(goods)
}

/// The units a quote gives away, per SKU.
fn gifts_of(quote: &Quote) -> Vec<(Sku, u32)> {
    quote
        .lines
        .iter()
        .filter(|l| l.gift)
        .map(|l| (l.sku.clone(), l.quantity.get()))
        .collect()
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
    let stock = (!context.stock.is_empty()).then_some(&context.stock);
    let plan = |gifts: &[(Sku, u32)]| {
        let request = DeliveryRequest {
            destination,
            now,
            goods_value: goods.total,
            promotions: &goods.delivery_promotions,
            stock,
            gifts,
            exclude: &[],
        };
        delivery_options(snapshot, cart, &request)
    };
    let gifts = gifts_of(&goods);
    let delivery = plan(&gifts)?;
    let Some(priced) = with_charge(snapshot, cart, context, &delivery, goods.currency)? else {
        return Ok((goods, delivery));
    };
    // The delivery charge can change which offers win, and with them the gifts: then the
    // plan is made again for those gifts, so every unit the final quote gives away is sourced
    // (and, at placement, reserved). A second change is not chased.
    let final_gifts = gifts_of(&priced);
    if final_gifts == gifts {
        return Ok((priced, delivery));
    }
    let delivery = plan(&final_gifts)?;
    match with_charge(snapshot, cart, context, &delivery, goods.currency)? {
        Some(priced) => Ok((priced, delivery)),
        None => Ok((goods, delivery)),
    }
}

/// The cart quoted again with the charge of its chosen delivery, when `delivery` offers it.
fn with_charge(
    snapshot: &Snapshot,
    cart: &Cart,
    context: &QuoteContext,
    delivery: &DeliveryQuote,
    currency: Currency,
) -> Result<Option<Quote>, FulfilmentError> {
    let charge = match cart.delivery() {
        Some(DeliveryChoice::Level(level)) => delivery
            .options
            .iter()
            .find(|o| o.level == *level)
            .map(|o| o.charge),
        Some(DeliveryChoice::Pickup(id)) => delivery
            .pickup
            .iter()
            .any(|p| p.location == *id)
            .then(|| Money::zero(currency)),
        None => None,
    };
    let Some(charge) = charge else {
        return Ok(None);
    };
    let context = QuoteContext {
        delivery_charge: Some(Amount(charge.amount())),
        ..context.clone()
    };
    Ok(Some(quote(snapshot, cart, &context)?))
}

/// Delivery promotions reduce the charge in the quote's order, by the quote's own rule.
fn apply_promotions(
    snapshot: &Snapshot,
    option: &mut DeliveryOption,
    promotions: &[DeliveryPromotion],
) {
    let round = round_for(snapshot, option.charge.currency());
    let mut left = option.charge.amount();
    for p in promotions {
        let off = delivery_discount(&p.discount, left, round);
        if !off.is_zero() {
            left -= off;
            let amount = Money::rounded(off, option.charge.currency(), round.strategy);
            option.adjustments.push(Adjustment {
                promotion_id: p.promotion_id.clone(),
                label: p.label.clone(),
                amount,
            });
        }
    }
    option.total = Money::rounded(left, option.charge.currency(), round.strategy);
}

struct Calculation<'a> {
    network: &'a Network,
    goods: &'a [Goods<'a>],
    /// at[goods line][location]
    at: Vec<Vec<Option<&'a StockAt>>>,
    /// The locations holding some of the goods, now or incoming, in the network's order.
    holding: Vec<usize>,
    /// The sourcing search's buffers, shared by the services of this request.
    scratch: std::cell::RefCell<sourcing::Scratch>,
    place: &'a Place,
    distances: &'a [u32],
    /// `now` in the network's time zone.
    now: LocalTime,
    request: &'a DeliveryRequest<'a>,
    currency: Currency,
}

impl<'a> Calculation<'a> {
    fn new(
        network: &'a Network,
        goods: &'a [Goods<'a>],
        place: &'a Place,
        distances: &'a [u32],
        request: &'a DeliveryRequest<'a>,
        currency: Currency,
    ) -> Calculation<'a> {
        // Stock of each goods line per location, looked up once: the search reads it often.
        let mut at: Vec<Vec<Option<&StockAt>>> = vec![vec![None; distances.len()]; goods.len()];
        for (row, g) in at.iter_mut().zip(goods) {
            for s in network.stock_in(g.sku, request.stock).0 {
                row[s.location] = Some(s);
            }
        }
        let mut holding = Vec::with_capacity(distances.len());
        let excluded = |l: usize| {
            let id = &network.data.locations[l].id;
            request.exclude.iter().any(|e| e == id)
        };
        holding.extend(
            (0..distances.len())
                .filter(|&l| !excluded(l) && at.iter().any(|row| supply_of(row[l]).total() > 0)),
        );
        Calculation {
            network,
            goods,
            at,
            holding,
            scratch: Default::default(),
            place,
            distances,
            now: network.data.time_zone.local(request.now),
            request,
            currency,
        }
    }

    /// The shopper's options: per level, the plan with the lowest score, then the earliest
    /// latest delivery (ties keep the catalogue's order), written out.
    fn best_per_level(&self, options: Vec<Planned>) -> Vec<DeliveryOption> {
        let chosen: Vec<usize> = Level::ALL
            .iter()
            .filter_map(|&level| {
                options
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.service_data.level == level)
                    .min_by_key(|(_, o)| (o.score, o.latest_day))
                    .map(|(i, _)| i)
            })
            .collect();
        let mut options: Vec<Option<Planned>> = options.into_iter().map(Some).collect();
        chosen
            .into_iter()
            .filter_map(|i| options[i].take())
            .map(|o| self.write_option(o))
            .collect()
    }
}

/// A candidate origin of a service's shipments: a location and the rate zone it ships in.
#[derive(Clone, Copy)]
struct Origin {
    location: usize,
    zone: usize,
}

/// Why a service cannot deliver this cart: a stable code and a sentence.
struct Refusal {
    code: &'static str,
    message: String,
}

fn refuse(code: &'static str, message: String) -> Refusal {
    Refusal { code, message }
}

/// When a shipment from a location leaves and arrives.
#[derive(Clone)]
struct Timing {
    ships_on: Date,
    earliest: LocalTime,
    latest: LocalTime,
    slots: Vec<Slot>,
}

/// A delivery slot with room left: on `date`, from `start` to `end` (local minutes).
#[derive(Clone, Copy)]
struct Slot {
    date: Date,
    start: u32,
    end: u32,
}

impl Calculation<'_> {
    /// The best plan of one service, in numbers (written out only if chosen), or why it
    /// cannot go.
    fn plan_service<'s>(
        &self,
        service_data: &'s ServiceData,
        service: &'s Service,
    ) -> Result<Planned<'s>, Refusal> {
        self.can_carry(service_data)?;
        let candidates = self.candidates(service_data, service)?;
        let items: Vec<Item> = self
            .goods
            .iter()
            .map(|g| Item {
                quantity: g.quantity,
                grams: charged_grams(service_data, g),
                bulky: is_bulky(service, g),
            })
            .collect();
        let supply = Rows::from_fn(self.at.len(), candidates.len(), |g, c| {
            supply_of(self.at[g][candidates[c].location])
        });
        if let Some((g, _)) = self.goods.iter().zip(supply.iter()).find(|(g, row)| {
            row.iter()
                .fold(0u32, |sum, s| sum.saturating_add(s.total()))
                < g.quantity
        }) {
            return Err(refuse(
                "no_stock",
                format!(
                    "Not enough {} where {} collects.",
                    g.name, service_data.name
                ),
            ));
        }
        let problem = Problem {
            items: &items,
            supply,
            candidates: candidates.len(),
            max_shipments: self.network.data.sourcing.max_shipments as usize,
            split_penalty: self.network.split_penalty,
            delay_cost: self.network.delay_cost,
            today: self.now.date,
        };
        if sourcing::coverable(&problem) == Some(false) {
            let max = self.network.data.sourcing.max_shipments;
            return Err(refuse(
                "split_limit",
                format!(
                    "{} cannot bring this cart in {max} shipments or fewer from where it is in stock.",
                    service_data.name
                ),
            ));
        }
        let mut rating = Rating {
            calculation: self,
            service_data,
            service,
            candidates: &candidates,
            value_price: self.value_price(service),
            timings: (0..candidates.len()).map(|_| Timings::default()).collect(),
            floor: self.earliest_arrival(service_data, service),
        };
        let plan = sourcing::search(
            &problem,
            &mut rating,
            SEARCH_BUDGET,
            &mut self.scratch.borrow_mut(),
        )
        .ok_or_else(|| {
            refuse(
                "no_date",
                format!(
                    "{} has no delivery date in the next {} days.",
                    service_data.name, self.network.data.sourcing.horizon_days
                ),
            )
        })?;
        Ok(rating.planned(&problem, &plan, service_data, service))
    }

    /// Whether the service runs and can carry every goods line.
    fn can_carry(&self, service_data: &ServiceData) -> Result<(), Refusal> {
        if self.goods.is_empty() {
            return Err(refuse(
                "nothing_to_ship",
                "Nothing in the cart is shipped.".into(),
            ));
        }
        if !service_data.available {
            return Err(refuse(
                "suspended",
                format!("{} is not running at the moment.", service_data.name),
            ));
        }
        if let Some(g) = self.goods.iter().find(|g| too_large(service_data, g)) {
            return Err(refuse(
                "too_large",
                format!(
                    "{} is too large or heavy for {}.",
                    g.name, service_data.name
                ),
            ));
        }
        Ok(())
    }

    /// The candidate origins (location, rate zone): allowed for the service, in a zone for
    /// this destination, holding some of the goods.
    fn candidates(
        &self,
        service_data: &ServiceData,
        service: &Service,
    ) -> Result<Vec<Origin>, Refusal> {
        let zone = self.zones(service);
        let mut candidates: Vec<Origin> = Vec::with_capacity(self.holding.len());
        candidates.extend(
            self.holding
                .iter()
                .filter(|&&l| service.origin[l])
                .filter_map(|&l| {
                    Some(Origin {
                        location: l,
                        zone: zone(l)?,
                    })
                }),
        );
        if candidates.is_empty()
            && (0..self.distances.len()).all(|l| !service.origin[l] || zone(l).is_none())
        {
            return Err(refuse(
                "out_of_area",
                format!("{} does not deliver to this address.", service_data.name),
            ));
        }
        Ok(candidates)
    }

    /// The earliest day the service could deliver: its first working day from today plus its
    /// transit (the slowest for a service without slots, the fastest for one with them), as a
    /// day number.
    fn earliest_arrival(&self, service_data: &ServiceData, service: &Service) -> i64 {
        let calendar = self.network.calendar(service.calendar);
        let mut first = self.now.date;
        while !calendar.works_on(first) {
            first = first.next();
        }
        let transit = if service_data.slots.is_empty() {
            service_data.transit_days[1]
        } else {
            service_data.transit_days[0]
        };
        calendar.add_working_days(first, transit).0
    }

    /// The price the goods' value fixes, if any: free above the service's threshold, else the
    /// highest value tier the goods reach.
    fn value_price(&self, service: &Service) -> Option<i64> {
        let value = self.request.goods_value.to_minor().unwrap_or(i64::MAX);
        let tier = service
            .value_tiers
            .iter()
            .filter(|t| value >= t.min_value)
            .max_by_key(|t| t.min_value)
            .map(|t| t.price);
        if service.free_above.is_some_and(|f| value >= f) {
            Some(0)
        } else {
            tier
        }
    }

    /// The rate zone of a service for shipping from a location: postcode zones first (the same
    /// for every location), then distance.
    fn zones<'s>(&'s self, service: &'s Service) -> impl Fn(usize) -> Option<usize> + 's {
        let by_postcode = self.place.postcode.as_ref().and_then(|postcode| {
            service
                .zones
                .iter()
                .position(|z| z.prefixes.iter().any(|p| postcode.starts_with(p.as_str())))
        });
        move |l| {
            by_postcode.or_else(|| {
                service
                    .zones
                    .iter()
                    .position(|z| z.max_m.is_some_and(|m| self.distances[l] <= m))
            })
        }
    }

    /// When a shipment from `l` whose stock is there on `ready` leaves and arrives.
    fn timing(
        &self,
        service_data: &ServiceData,
        service: &Service,
        l: usize,
        ready: Date,
    ) -> Option<Timing> {
        let from = if ready == self.now.date {
            self.now
        } else {
            LocalTime::start_of(ready)
        };
        let collection = Collection {
            calendar: service.calendar,
            cutoff: service_data.pickup_cutoff.map(|t| t.0),
        };
        let ship = self.network.ready(l, from, Some(collection))?;
        let calendar = self.network.calendar(service.calendar);
        let (first, last) = (
            calendar.add_working_days(ship.date, service_data.transit_days[0]),
            calendar.add_working_days(ship.date, service_data.transit_days[1]),
        );
        let (open, close) = (service_data.window[0].0, service_data.window[1].0);
        if service_data.slots.is_empty() {
            let start = if first == ship.date {
                open.max(ship.minute)
            } else {
                open
            };
            if first == ship.date && start >= close {
                return None;
            }
            return Some(Timing {
                ships_on: ship.date,
                earliest: LocalTime {
                    date: first,
                    minute: start,
                },
                latest: LocalTime {
                    date: last,
                    minute: close,
                },
                slots: Vec::new(),
            });
        }
        let mut slots = Vec::new();
        let mut day = first;
        for _ in 0..self.network.data.sourcing.horizon_days {
            if calendar.works_on(day) {
                for slot in &service_data.slots {
                    let booked = service
                        .booked
                        .get(&(day, slot.start.0))
                        .copied()
                        .unwrap_or(0);
                    let after_ready = day > ship.date || slot.start.0 >= ship.minute;
                    if booked < slot.capacity && after_ready && slots.len() < SLOTS_LISTED {
                        slots.push(Slot {
                            date: day,
                            start: slot.start.0,
                            end: slot.end.0,
                        });
                    }
                }
            }
            if slots.len() >= SLOTS_LISTED {
                break;
            }
            day = day.next();
        }
        let &Slot { date, start, end } = slots.first()?;
        Some(Timing {
            ships_on: ship.date,
            earliest: LocalTime {
                date,
                minute: start,
            },
            latest: LocalTime { date, minute: end },
            slots,
        })
    }

    fn pickup(&self) -> Vec<PickupOption> {
        let network = self.network;
        let stores: Vec<(u32, usize)> = (0..self.distances.len())
            .filter(|&l| network.data.locations[l].pickup)
            .map(|l| (self.distances[l], l))
            .collect();
        // The day each shipping location could send a transfer, computed once, when needed.
        let sent = std::cell::OnceCell::new();
        nearest_first(stores)
            .filter_map(|(_, l)| self.pickup_at(l, &sent))
            .take(PICKUP_LISTED)
            .collect()
    }

    /// When the whole cart can be collected at `store` (rule 8).
    fn pickup_at(
        &self,
        store: usize,
        sent: &std::cell::OnceCell<Vec<(usize, Date)>>,
    ) -> Option<PickupOption> {
        let network = self.network;
        let (mut from, mut source, mut transfer) = (self.now, "store", Vec::new());
        for (g, row) in self.goods.iter().zip(&self.at) {
            let supply = supply_of(row[store]);
            if supply.now >= g.quantity {
                continue;
            }
            if supply.total() >= g.quantity {
                let date = supply.ready(g.quantity, self.now.date);
                if date > from.date {
                    (from, source) = (LocalTime::start_of(date), "incoming");
                }
                continue;
            }
            transfer.push((row, g.quantity - supply.now));
        }
        let mut transfer_from = None;
        if !transfer.is_empty() {
            let days = network.data.locations[store].transfer_days?;
            // The shipping location that can send every missing unit soonest (then nearest).
            let calendar = network.calendar(network.locations[store].calendar);
            // (location, day it could send) of every shipping location, once per request.
            let sent = sent.get_or_init(|| {
                let ships = network
                    .data
                    .locations
                    .iter()
                    .enumerate()
                    .filter(|(_, location)| location.ships);
                ships
                    .filter_map(|(l, _)| Some((l, network.ready(l, self.now, None)?.date)))
                    .collect()
            });
            // Senders share a few sending days: each day's arrival is worked out once.
            let mut arrival: Vec<(Date, Date)> = Vec::new();
            let mut arrives_after = |day: Date| match arrival.iter().find(|(d, _)| *d == day) {
                Some(&(_, a)) => a,
                None => {
                    let a = calendar.add_working_days(day, days.max(1));
                    arrival.push((day, a));
                    a
                }
            };
            let (arrives, l) = sent
                .iter()
                .filter(|&&(l, _)| {
                    l != store
                        && transfer
                            .iter()
                            .all(|(row, q)| row[l].is_some_and(|s| s.now >= *q))
                })
                .map(|&(l, day)| (arrives_after(day), l))
                .min_by_key(|&(d, l)| (d, self.distances[l], l))?;
            if arrives > from.date {
                (from, source) = (LocalTime::start_of(arrives), "transfer");
            }
            transfer_from = Some(network.data.locations[l].id.clone());
        }
        let ready = network.ready(store, from, None)?;
        let location = &network.data.locations[store];
        Some(PickupOption {
            location: location.id.clone(),
            name: location.name.clone(),
            address: location.address.clone(),
            distance_m: self.distances[store],
            ready_by: network.data.time_zone.instant_of(ready),
            ready_label: ready_label(ready, self.now.date),
            source,
            transfer_from,
        })
    }
}

fn supply_of(stock: Option<&StockAt>) -> Supply<'_> {
    stock.map_or(Supply::default(), |s| Supply::new(s.now, &s.incoming))
}

fn longest_side(g: &Goods) -> u32 {
    g.dims.map_or(0, |d| d.into_iter().max().unwrap_or(0))
}

fn too_large(service_data: &ServiceData, g: &Goods) -> bool {
    service_data.max_item_grams.is_some_and(|m| g.grams > m)
        || service_data
            .max_length_cm
            .is_some_and(|m| longest_side(g) > m)
}

fn is_bulky(service: &Service, g: &Goods) -> bool {
    service.bulky.is_some_and(|b| {
        longest_side(g) >= b.min_length_cm || b.min_grams.is_some_and(|m| g.grams >= m)
    })
}

/// The greater of the actual weight and the dimensional weight (volume / divisor, in kg).
fn charged_grams(service_data: &ServiceData, g: &Goods) -> u64 {
    let dimensional = match (service_data.dim_divisor, g.dims) {
        (Some(divisor), Some([l, w, h])) if divisor > 0 => u64::from(l)
            .saturating_mul(u64::from(w))
            .saturating_mul(u64::from(h))
            .saturating_mul(1000)
            .div_ceil(u64::from(divisor)),
        _ => 0,
    };
    u64::from(g.grams).max(dimensional)
}

/// The timings of one candidate by ready day. Nearly always one day (stock there today), kept
/// without an allocation; other days (incoming stock) go to a list.
#[derive(Default)]
struct Timings {
    first: Option<ReadyTiming>,
    more: Vec<ReadyTiming>,
}

/// The timing of a shipment whose stock is ready on `ready` (`None`: it cannot go).
struct ReadyTiming {
    ready: Date,
    timing: Option<Timing>,
}

impl Timings {
    fn get_or_insert(
        &mut self,
        ready: Date,
        compute: impl FnOnce() -> Option<Timing>,
    ) -> &Option<Timing> {
        let Some(first) = &self.first else {
            let timing = compute();
            return &self.first.insert(ReadyTiming { ready, timing }).timing;
        };
        if first.ready == ready {
            return &self.first.as_ref().expect("checked above").timing;
        }
        let at = match self.more.iter().position(|t| t.ready == ready) {
            Some(at) => at,
            None => {
                let timing = compute();
                self.more.push(ReadyTiming { ready, timing });
                self.more.len() - 1
            }
        };
        &self.more[at].timing
    }
}

/// The search's view of one service: charges and (cached) dates per candidate location.
struct Rating<'a> {
    calculation: &'a Calculation<'a>,
    service_data: &'a ServiceData,
    service: &'a Service,
    /// (location, zone) per candidate.
    candidates: &'a [Origin],
    timings: Vec<Timings>,
    /// No shipment arrives (at the latest) before this day: collected on the carrier's first
    /// working day from today, slowest transit (fastest for slot services).
    floor: i64,
    /// The most a shipment costs for the goods' value: the value tier's price, or 0 above the
    /// free-delivery threshold (the same for every shipment, so worked out once).
    value_price: Option<i64>,
}

impl Costing for Rating<'_> {
    fn shipment_cost(&self, c: usize, grams: u64, bulky_units: u32) -> Option<i64> {
        let Origin { location: l, zone } = self.candidates[c];
        let rates = &self.service.zones[zone].rates;
        let tier = |g: u64| {
            rates
                .iter()
                .find(|r| r.max_grams.is_none_or(|m| g <= u64::from(m)))
                .map(|r| r.price)
        };
        // Heavier than the top tier: full parcels at the top tier's rate and one for the rest.
        // (Tiers are at least 1 g; sums saturate rather than wrap on absurd inputs.)
        let rate = match rates.last()? {
            &WeightRate {
                max_grams: Some(top),
                price,
            } if grams > u64::from(top) => {
                let (full, rest) = (grams / u64::from(top), grams % u64::from(top));
                let full = i64::try_from(full).unwrap_or(i64::MAX);
                mul_sat_i64(price, full).saturating_add(if rest > 0 { tier(rest)? } else { 0 })
            }
            _ => tier(grams)?,
        };
        let km = i64::from(self.calculation.distances[l].div_ceil(1000));
        let surcharge = self
            .service
            .bulky
            .map_or(0, |b| mul_sat_i64(b.surcharge, i64::from(bulky_units)));
        let charge = rate
            .saturating_add(mul_sat_i64(self.service.per_km, km))
            .saturating_add(surcharge);
        Some(self.value_price.map_or(charge, |cap| charge.min(cap)))
    }

    fn latest_day(&mut self, c: usize, ready: Date) -> Option<i64> {
        self.timing(c, ready).map(|t| t.latest.date.0)
    }

    fn earliest_latest_day(&self) -> i64 {
        self.floor
    }
}

impl Rating<'_> {
    /// The timing of a shipment from candidate `c` ready on `ready`, computed once: the search
    /// asks for the same few (candidate, day) pairs again and again.
    fn timing(&mut self, c: usize, ready: Date) -> Option<&Timing> {
        let (calculation, service_data, service, l) = (
            self.calculation,
            self.service_data,
            self.service,
            self.candidates[c].location,
        );
        self.timings[c]
            .get_or_insert(ready, || {
                calculation.timing(service_data, service, l, ready)
            })
            .as_ref()
    }

    /// The numbers of the chosen plan: its shipments in the network's order of locations.
    fn planned<'s>(
        &mut self,
        p: &Problem,
        plan: &sourcing::Plan,
        service_data: &'s ServiceData,
        service: &'s Service,
    ) -> Planned<'s> {
        let mut planned = Planned {
            service_data,
            service,
            score: plan.score,
            latest_day: plan.latest_day,
            charge: plan.cost,
            shipments: Vec::with_capacity(plan.shipments),
            earliest: LocalTime::start_of(Date(i64::MIN)),
            latest: LocalTime::start_of(Date(i64::MIN)),
            slots: Vec::new(),
            backorder: false,
        };
        let mut used: Vec<usize> = Vec::with_capacity(plan.shipments);
        for a in &plan.alloc {
            if !used.contains(&a.1) {
                used.push(a.1);
            }
        }
        used.sort_by_key(|&c| self.candidates[c].location);
        for c in used {
            let lines: Vec<Units> = plan
                .alloc
                .iter()
                .filter(|a| a.1 == c)
                .map(|&(goods, _, quantity)| Units { goods, quantity })
                .collect();
            let ready = lines
                .iter()
                .map(|u| p.supply[u.goods][c].ready(u.quantity, p.today))
                .max()
                .unwrap_or(p.today);
            planned.backorder |= ready > p.today;
            let grams = lines.iter().fold(0u64, |sum, u| {
                sum.saturating_add(mul_sat_u64(p.items[u.goods].grams, u64::from(u.quantity)))
            });
            let bulky = lines
                .iter()
                .filter(|u| p.items[u.goods].bulky)
                .map(|u| u.quantity)
                .sum();
            let charge = self.shipment_cost(c, grams, bulky).unwrap_or(0);
            let location = self.candidates[c].location;
            // The search only returns plans whose every shipment has a timing.
            let t = self
                .timing(c, ready)
                .expect("a chosen plan's shipments have dates");
            planned.earliest = planned.earliest.max(t.earliest);
            planned.latest = planned.latest.max(t.latest);
            if planned.slots.is_empty() {
                planned.slots.clone_from(&t.slots);
            }
            planned.shipments.push(PlannedShipment {
                location,
                lines,
                ships_on: t.ships_on,
                charge,
            });
        }
        planned
    }
}

/// A service's best plan in numbers, before it is written out for the shopper.
struct Planned<'s> {
    service_data: &'s ServiceData,
    service: &'s Service,
    score: i64,
    latest_day: i64,
    /// In minor units.
    charge: i64,
    shipments: Vec<PlannedShipment>,
    earliest: LocalTime,
    latest: LocalTime,
    slots: Vec<Slot>,
    backorder: bool,
}

struct PlannedShipment {
    location: usize,
    lines: Vec<Units>,
    ships_on: Date,
    charge: i64,
}

/// `quantity` units of goods line `goods` in one shipment.
#[derive(Clone, Copy)]
struct Units {
    goods: usize,
    quantity: u32,
}

impl Calculation<'_> {
    /// The option the shopper sees for a chosen plan.
    fn write_option(&self, o: Planned) -> DeliveryOption {
        let (network, currency, zone, today) = (
            self.network,
            self.currency,
            self.network.data.time_zone,
            self.now.date,
        );
        let shipments: Vec<Shipment> = o
            .shipments
            .into_iter()
            .map(|s| Shipment {
                location: network.data.locations[s.location].id.clone(),
                location_name: network.data.locations[s.location].name.clone(),
                distance_m: self.distances[s.location],
                lines: s
                    .lines
                    .into_iter()
                    .map(|u| ShipmentLine {
                        sku: self.goods[u.goods].sku.clone(),
                        quantity: u.quantity,
                    })
                    .collect(),
                ships_on: s.ships_on,
                charge: Money::from_minor(s.charge, currency),
            })
            .collect();
        let charge = Money::from_minor(o.charge, currency);
        let label = if o.service_data.slots.is_empty() || shipments.len() > 1 {
            range_label(o.earliest, o.latest, today)
        } else {
            let (earliest, latest) = (o.earliest, o.latest);
            slot_label(earliest.date, earliest.minute, latest.minute, today)
        };
        let carrier = &network.data.carriers[o.service.carrier];
        let lists_slots =
            carrier.kind == CarrierKind::Fleet || o.service_data.level == Level::Scheduled;
        DeliveryOption {
            level: o.service_data.level,
            level_name: o.service_data.level.name(),
            service_id: o.service_data.id.clone(),
            service_name: o.service_data.name.clone(),
            carrier_id: carrier.id.clone(),
            carrier_name: carrier.name.clone(),
            charge,
            adjustments: Vec::new(),
            total: charge,
            earliest: zone.instant_of(o.earliest),
            latest: zone.instant_of(o.latest),
            label,
            backorder: o.backorder,
            shipments,
            slots: if lists_slots {
                o.slots
                    .iter()
                    .map(|&Slot { date, start, end }| SlotOption {
                        start: zone.instant(date, start),
                        end: zone.instant(date, end),
                        label: slot_label(date, start, end, today),
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// "Tue 24 Nov 08:00–12:00".
fn slot_label(day: Date, start: u32, end: u32, today: Date) -> String {
    let mut out = String::with_capacity(24);
    push_day(&mut out, day, today);
    out.push(' ');
    push_hm(&mut out, start);
    out.push('–');
    push_hm(&mut out, end);
    out
}

/// "Tue 24 Nov", or "Tue 24 Nov – Thu 26 Nov".
fn range_label(earliest: LocalTime, latest: LocalTime, today: Date) -> String {
    let mut out = String::with_capacity(24);
    push_day(&mut out, earliest.date, today);
    if earliest.date != latest.date {
        out.push_str(" – ");
        push_day(&mut out, latest.date, today);
    }
    out
}
