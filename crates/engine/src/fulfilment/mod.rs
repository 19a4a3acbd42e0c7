//! Fulfilment: where stock is, how much of it can be promised, and how and when a cart can
//! reach the shopper: the real-time delivery calculator, "find in store" and pickup.
//!
//! Everything is a pure function of the snapshot's [`Network`], the cart, the destination and
//! `now`; the page runs it on every edit and the server runs the same code at order placement.
//!
//! # Rules
//! 1. **Available to promise (ATP)** at a location = on hand − reserved − safety stock, never
//!    below zero. Incoming supply (purchase orders, transfers) is promisable from its date.
//!    A line is `in_stock` when the network can promise its quantity now, `low_stock` when it
//!    can but the network holds at most `sourcing.low_stock` units, `backorder` (with the date)
//!    when incoming supply covers it, `unavailable` otherwise. Services (installation) are not
//!    stocked and do not ship.
//!    Stock is the snapshot's, except for the SKUs that stock counted elsewhere lists
//!    ([`StockLevels`], through `QuoteContext::stock`): their records replace the snapshot's
//!    whole stock of them. The server quotes with its database's levels at placement.
//! 2. **Local time.** Cut-offs, opening hours, slots and delivery windows are local times of
//!    the network's [`TimeZone`]; dates are local dates. Calendars name closed weekdays and
//!    public holidays, per location (picking) and per carrier (collection, delivery).
//! 3. **Ready to ship.** A shipment from a location is picked on the first day on which the
//!    location works, is open, has capacity left and the carrier works, starting when its
//!    stock is there (now, or the morning an incoming delivery arrives), no later than the
//!    location's cut-off; it is ready `handling_minutes` later and must be ready by the
//!    service's `pickup_cutoff`, else it leaves the next such day.
//! 4. **Delivery dates.** Earliest = ship day + fastest transit (carrier working days) at the
//!    window's start; latest = ship day + slowest transit at the window's end. Services with
//!    slots (own fleet, scheduled) deliver in the first slot with capacity on or after the
//!    earliest day; the option lists the next free slots for the shopper to choose.
//! 5. **Charge per shipment** = zone rate for the charged weight (the greater of actual and
//!    dimensional weight, `l × w × h / dim_divisor`) + `per_km` × started kilometres + a bulky
//!    surcharge per bulky item, capped by the cart-value tier the goods reach; zero when the
//!    goods reach `free_above`. A shipment heavier than the top weight tier goes as several
//!    parcels: full ones at the top tier's rate and one more for the rest. The zone is the first whose postcode prefix matches the
//!    destination's postcode, else the first distance band that contains the distance.
//! 6. **Sourcing.** A plan assigns every unit to a location allowed for the service, never
//!    more than a location can promise, in at most `sourcing.max_shipments` shipments. Plans
//!    are compared by *score* = charge + `split_penalty` × (shipments − 1) +
//!    `delay_cost_per_day` × days until the latest delivery; then by earlier latest delivery;
//!    then by fewer shipments. So one shipment is preferred unless a split is cheaper or
//!    faster by more than the penalty. The search is exact on small carts and budgeted on
//!    large ones (best single-location plan and a greedy plan first, then branch and bound).
//!    A request may exclude locations (`DeliveryRequest::exclude`): they ship nothing, so a
//!    line a location rejected after placement is sourced again from the rest of the network.
//! 7. **Options.** Each service level (standard, express, same day, scheduled) offers the
//!    best-scoring service's plan; every service that cannot deliver says why (code + text).
//!    Delivery promotions from the quote reduce each option's charge, with the same rule the
//!    quote uses ([`crate::promotion::delivery_discount`]).
//! 8. **Pickup.** Each pickup location, nearest first: ready `handling_minutes` after the next
//!    opening time at which it holds every goods line; else when incoming supply arrives; else,
//!    with `transfer_days`, after a transfer from the location that can ship the rest soonest.
//! 9. **Determinism.** Ties are broken by catalogue order (service, location), never by hash
//!    order; distances are integer metres (see [`geo`]).

pub mod availability;
pub mod calendar;
pub mod delivery;
pub mod geo;
pub mod model;
mod sourcing;

pub use availability::{Availability, LineAvailability, LocationStock, StockStatus, StoreStock};
pub use calendar::{Calendar, Date, Dst, LocalTime, TimeOfDay, TimeZone, Weekdays};
pub use delivery::{
    DeliveryOption, DeliveryQuote, DeliveryRequest, PickupOption, Shipment, ShipmentLine,
    SlotOption, Unavailable,
};
pub use geo::{Destination, Point};
pub use model::{Incoming, Level, Network, NetworkData, StockLevels, StockRecord};

use crate::ErrorCode;
use crate::sku::Sku;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FulfilmentError {
    #[error("{0} is not in the catalogue")]
    UnknownSku(Sku),
    #[error("we don't know the postcode {0:?}; check it or share your location")]
    UnknownPostcode(String),
    #[error(
        "a destination needs a postcode, or both a latitude (-90 to 90) and a longitude (-180 to 180)"
    )]
    InvalidDestination,
    #[error(transparent)]
    Quote(#[from] crate::quote::QuoteError),
}

impl ErrorCode for FulfilmentError {
    fn code(&self) -> &'static str {
        match self {
            FulfilmentError::UnknownSku(_) => "unknown_sku",
            FulfilmentError::UnknownPostcode(_) => "unknown_postcode",
            FulfilmentError::InvalidDestination => "invalid_destination",
            FulfilmentError::Quote(e) => e.code(),
        }
    }
}

/// A destination resolved to a point (and the postcode, normalized, if one was given).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Place {
    pub point: Point,
    pub postcode: Option<String>,
}

impl Network {
    /// Resolves coordinates or a postcode to a point: the postcode's own centroid, else that of
    /// the first known postcode sharing its longest prefix (at least two characters).
    pub(crate) fn resolve(&self, d: &Destination) -> Result<Place, FulfilmentError> {
        let postcode = d
            .postcode
            .as_deref()
            .map(|p| p.trim().to_uppercase())
            .filter(|p| !p.is_empty());
        if postcode.as_ref().is_some_and(|p| p.len() > 16) {
            return Err(FulfilmentError::InvalidDestination);
        }
        let point = match (d.coordinates(), &postcode) {
            (Err(()), _) | (Ok(None), None) => return Err(FulfilmentError::InvalidDestination),
            (Ok(Some(p)), _) => p,
            (Ok(None), Some(code)) => self
                .centroid(code)
                .ok_or_else(|| FulfilmentError::UnknownPostcode(code.clone()))?,
        };
        Ok(Place { point, postcode })
    }

    /// Where a destination is (its coordinates, or its postcode's centroid), or why it cannot
    /// be placed: for a page to check what the shopper typed.
    pub fn locate(&self, destination: &Destination) -> Result<Point, FulfilmentError> {
        self.resolve(destination).map(|place| place.point)
    }

    /// Whether `id` names a location where shoppers collect orders.
    pub fn is_pickup(&self, id: &str) -> bool {
        self.location_index
            .get(id)
            .is_some_and(|&l| self.data.locations[l].pickup)
    }

    fn centroid(&self, code: &str) -> Option<Point> {
        let table = &self.data.postcodes;
        (2..=code.len())
            .rev()
            .filter(|n| code.is_char_boundary(*n))
            .find_map(|n| {
                let prefix = &code[..n];
                table
                    .range(prefix.to_owned()..)
                    .next()
                    .filter(|(k, _)| k.starts_with(prefix))
                    .map(|(_, p)| *p)
            })
    }
}
