//! The order: what was bought, as the engine priced it at placement, how it is fulfilled
//! (the delivery level or pickup store and the sourcing plan's shipments), who bought it,
//! its status and its payment. Built once by [`Order::place`] from the final quote and the
//! chosen delivery option; afterwards only its machines change it.
//!
//! [`StockDemand::of`] is what placement reserves: the plan's units summed per stock record
//! (location and SKU), so two lines drawing on one record are checked against their sum, and
//! sorted, so concurrent placements lock stock rows in one order (no deadlock).

use std::collections::BTreeMap;

use omnicart_engine::fulfilment::Level;
use omnicart_engine::fulfilment::delivery::{DeliveryOption, PickupOption};
use omnicart_engine::{Money, MoneyError, Quote, QuoteLine, Sku, TaxLine, Timestamp};
use serde::{Deserialize, Serialize};

use crate::machine::{Actor, Request, Role};
use crate::{OrderError, OrderNumber, OrderState, OrderStatus, Payment};

/// Who to tell about the order. Also the checkout's wire form (`omnicart_api::Contact`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Where the confirmation (and, for a guest, the link to the order) is sent.
    pub email: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A postal address. Also the checkout's wire form (`omnicart_api::PostalAddress`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub name: String,
    /// One to a few street lines.
    pub street: Vec<String>,
    pub postcode: String,
    pub city: String,
    /// ISO 3166-1 alpha-2 (`DE`).
    pub country: String,
}

/// One parcel (or pickup) of the sourcing plan: where from, what, and the promised window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedShipment {
    pub location: String,
    pub location_name: String,
    pub lines: Vec<PlannedLine>,
    pub ships_on: String,
    pub earliest: Timestamp,
    pub latest: Timestamp,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedLine {
    pub sku: Sku,
    pub quantity: u32,
}

/// How the order reaches the shopper.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fulfilment {
    pub level: Option<Level>,
    pub pickup_location: Option<String>,
    pub shipments: Vec<PlannedShipment>,
}

impl Fulfilment {
    /// Delivery at `option`'s level, by its plan.
    pub fn delivered(option: &DeliveryOption) -> Fulfilment {
        let shipments = option
            .shipments
            .iter()
            .map(|s| PlannedShipment {
                location: s.location.clone(),
                location_name: s.location_name.clone(),
                lines: s
                    .lines
                    .iter()
                    .map(|l| PlannedLine {
                        sku: l.sku.clone(),
                        quantity: l.quantity,
                    })
                    .collect(),
                ships_on: s.ships_on.to_string(),
                earliest: option.earliest,
                latest: option.latest,
                label: option.label.clone(),
            })
            .collect();
        Fulfilment {
            level: Some(option.level),
            pickup_location: None,
            shipments,
        }
    }

    /// Collection at `pickup`'s store: every goods line of `quote`, from the store's shelves
    /// or, for a transfer, from the location it is sent from.
    pub fn collected(pickup: &PickupOption, quote: &Quote, goods: impl Fn(&Sku) -> bool) -> Self {
        let from = pickup
            .transfer_from
            .clone()
            .unwrap_or_else(|| pickup.location.clone());
        let lines = quote
            .lines
            .iter()
            .filter(|l| l.attached_to.is_none() && goods(&l.sku))
            .map(|l| PlannedLine {
                sku: l.sku.clone(),
                quantity: l.quantity.get(),
            })
            .collect();
        Fulfilment {
            level: None,
            pickup_location: Some(pickup.location.clone()),
            shipments: vec![PlannedShipment {
                location: from,
                location_name: pickup.name.clone(),
                lines,
                ships_on: pickup.ready_by.date_label(),
                earliest: pickup.ready_by,
                latest: pickup.ready_by,
                label: pickup.ready_label.clone(),
            }],
        }
    }
}

/// Units to reserve at one stock record.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StockDemand {
    pub location: String,
    pub sku: Sku,
    pub quantity: u32,
}

impl StockDemand {
    /// The shipments' units summed per (location, SKU), sorted by location then SKU.
    pub fn of(shipments: &[PlannedShipment]) -> Vec<StockDemand> {
        let mut sums: BTreeMap<(&str, &Sku), u32> = BTreeMap::new();
        for shipment in shipments {
            for line in &shipment.lines {
                let sum = sums.entry((&shipment.location, &line.sku)).or_default();
                *sum = sum.saturating_add(line.quantity);
            }
        }
        sums.into_iter()
            .map(|((location, sku), quantity)| StockDemand {
                location: location.to_owned(),
                sku: sku.clone(),
                quantity,
            })
            .collect()
    }
}

/// The totals of the order, from the final quote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub subtotal: Money,
    pub discount_total: Money,
    pub delivery: Money,
    pub tax_total: Money,
    pub total: Money,
    pub prices_include_tax: bool,
}

impl Totals {
    pub fn of(quote: &Quote) -> Totals {
        Totals {
            subtotal: quote.subtotal,
            discount_total: quote.discount_total,
            delivery: quote
                .delivery
                .as_ref()
                .map_or(Money::zero(quote.currency), |d| d.total),
            tax_total: quote.tax_total,
            total: quote.total,
            prices_include_tax: quote.prices_include_tax,
        }
    }
}

/// Everything [`Order::place`] needs.
pub struct Placement {
    pub number: OrderNumber,
    pub customer_id: Option<String>,
    pub contact: Contact,
    pub shipping_address: Option<Address>,
    pub quote: Quote,
    pub fulfilment: Fulfilment,
    pub provider: String,
    /// The key the authorization was made with (the checkout attempt's id).
    pub payment_key: String,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub number: OrderNumber,
    pub customer_id: Option<String>,
    pub contact: Contact,
    pub shipping_address: Option<Address>,
    pub lines: Vec<QuoteLine>,
    pub item_count: u32,
    /// Coupon codes the order used, as normalized.
    pub coupons: Vec<String>,
    pub fulfilment: Fulfilment,
    pub totals: Totals,
    pub provider: String,
    pub payment_key: String,
    pub status: OrderStatus,
    pub payment: Payment,
    pub placed_at: Timestamp,
}

impl Order {
    /// A placed order whose payment the provider has authorized in full.
    pub fn place(p: Placement) -> Result<Order, OrderError> {
        let actor = match &p.customer_id {
            Some(id) => Actor::new(Role::Customer, id.clone()),
            None => Actor::new(Role::Customer, "guest"),
        };
        let request = || Request::new(actor.clone(), p.at, "order placed");
        let mut payment = Payment::pending(p.quote.total)?;
        payment.authorize(&p.payment_key, request())?;
        let coupons = p
            .quote
            .coupons
            .iter()
            .filter(|c| c.applied)
            .map(|c| c.code.clone())
            .collect();
        Ok(Order {
            number: p.number,
            customer_id: p.customer_id,
            contact: p.contact,
            shipping_address: p.shipping_address,
            item_count: p.quote.item_count,
            totals: Totals::of(&p.quote),
            lines: p.quote.lines,
            coupons,
            fulfilment: p.fulfilment,
            provider: p.provider,
            payment_key: p.payment_key,
            status: OrderStatus::placed(request()),
            payment,
            placed_at: p.at,
        })
    }

    /// The order's tax per rate, from the rates its lines were quoted at: the invoice's tax
    /// lines, adding up to `totals.tax_total`. (A line stored before quotes recorded rates
    /// reads as rate zero; invoices are rendered at placement, from new lines.)
    pub fn tax_lines(&self) -> Result<Vec<TaxLine>, MoneyError> {
        omnicart_engine::tax_lines(&self.lines)
    }

    /// The shopper cancels: allowed only before fulfilment; the authorization is released
    /// (voided under `void_key`). The caller releases the stock and promotion uses.
    pub fn cancel(&mut self, request: Request, void_key: &str) -> Result<(), OrderError> {
        if request.actor.role == Role::Customer && !self.status.customer_may_cancel() {
            return Err(OrderError::InvalidTransition {
                from: crate::Machine::name(self.status.state()),
                to: "cancelled",
            });
        }
        let mut status = self.status.clone();
        status.transition(OrderState::Cancelled, request.clone())?;
        let mut payment = self.payment.clone();
        payment.void(void_key, request)?;
        self.status = status;
        self.payment = payment;
        Ok(())
    }
}
