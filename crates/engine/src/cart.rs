//! The [`Cart`] and the operations ([`CartOp`]) that edit it.
//!
//! A cart is an ordered list of lines, at most one per SKU. Edits are data (`CartOp`), so the
//! same operation can be applied in the page, sent over HTTP and replayed on the server.
//! [`Cart::apply`] is all-or-nothing: an operation that fails leaves the cart as it was.
//!
//! Rules:
//! - adding a SKU already in the cart increases that line's quantity (never a second line);
//! - quantities stay within 1..=[`MAX_LINE_QUANTITY`]: an edit that would exceed it fails with
//!   `quantity_limit` instead of silently clamping what the shopper asked for;
//! - `replace` puts the new SKU at the old line's position with the old quantity; if the new SKU
//!   is already in the cart the two lines merge there (quantities add, within the limit);
//! - a cart holds at most [`MAX_CART_LINES`] lines;
//! - coupon codes are kept normalized (trimmed, upper case), at most
//!   [`MAX_COUPONS`](crate::promotion::MAX_COUPONS), each once; a code the catalogue does not know
//!   is refused when applied. A known code stays in the cart even while it does not apply (the
//!   quote says why), because it may apply after the next edit.
//! - the delivery choice (a service level, or a pickup location) is kept with the cart and
//!   priced by the delivery calculator; a level no option offers any more is simply not
//!   charged until the shopper chooses again (the page shows the choice as unavailable).
//! - the delivery address (coordinates and/or a postcode, a [`Destination`]) is kept with the
//!   cart too, so every device of the shopper quotes delivery to the same place; setting one
//!   the delivery network cannot place is refused (`unknown_postcode`, `invalid_destination`).
//! - services (installation, wall mounting, set-up) are *attached* to a line of goods and
//!   priced per unit of it: two TVs with installation are two installations. Only a service
//!   the catalogue offers with that product can be attached (`service_not_offered`), each once,
//!   at most [`MAX_SERVICES_PER_LINE`] per line. They live with their line: removing it drops
//!   them, replacing its SKU carries them over. A service may also be a line of its own (a
//!   call-centre agent booking the set-up of a TV bought elsewhere).
//!
//! The JSON form (flat structs, and the checks a cart or an operation read from outside must
//! pass) is in `cart/wire.rs`.

mod wire;

use serde::{Deserialize, Serialize};

use crate::ErrorCode;
use crate::catalogue::Snapshot;
use crate::fulfilment::{Destination, FulfilmentError, Level};
use crate::promotion::{MAX_COUPONS, normalize_code, valid_code};
use crate::sku::{MAX_LINE_QUANTITY, Quantity, Sku};

/// Most distinct lines one cart may hold (large call-centre and business orders included).
pub const MAX_CART_LINES: usize = 1_000;

/// Most services attached to one line.
pub const MAX_SERVICES_PER_LINE: usize = 8;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "wire::CartData", into = "wire::CartData")]
pub struct Cart {
    lines: Vec<CartLine>,
    coupons: Vec<String>,
    delivery: Option<DeliveryChoice>,
    address: Option<Destination>,
}

/// How the shopper wants the cart: delivered at a service level, or collected from a
/// location. JSON: `{"level": "express"}` or `{"pickup": "store-berlin-mitte"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryChoice {
    Level(Level),
    Pickup(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartLine {
    pub sku: Sku,
    pub quantity: Quantity,
    /// Services attached to this line, in the order attached; each is charged `quantity` times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Sku>,
}

/// One edit of a cart. JSON: `{"op": "add", "sku": "TV-55", "quantity": 1}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "wire::OpData", into = "wire::OpData")]
pub enum CartOp {
    /// Add units of a SKU (to its existing line if there is one).
    Add { sku: Sku, quantity: Quantity },
    /// Set a line's quantity.
    SetQuantity { sku: Sku, quantity: Quantity },
    /// Remove a line.
    Remove { sku: Sku },
    /// Replace a line's SKU by another, keeping position and quantity.
    Replace { sku: Sku, with: Sku },
    /// Enter a coupon code (any case).
    ApplyCoupon { code: String },
    /// Take a coupon code off the cart.
    RemoveCoupon { code: String },
    /// Choose delivery at a service level or pickup at a location; `None` clears the choice.
    ChooseDelivery { choice: Option<DeliveryChoice> },
    /// Set where the cart is to be delivered; `None` forgets it.
    SetAddress { address: Option<Destination> },
    /// Attach a service offered with a line's product (e.g. installation to a TV).
    AttachService { sku: Sku, service: Sku },
    /// Take a service off a line.
    DetachService { sku: Sku, service: Sku },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("{0} is not in the catalogue")]
    UnknownSku(Sku),
    #[error("{0} is not in the cart")]
    NotInCart(Sku),
    #[error("a cart holds at most {MAX_CART_LINES} different items")]
    TooManyLines,
    #[error("at most {MAX_LINE_QUANTITY} of {sku} per order; that would make {requested}")]
    QuantityLimit { sku: Sku, requested: u32 },
    #[error("{0} appears on two lines")]
    DuplicateLine(Sku),
    #[error("we don't know the code {0}; check it for typos")]
    UnknownCoupon(String),
    #[error("at most {} codes per order", MAX_COUPONS)]
    TooManyCoupons,
    #[error("the code {0} is not on the cart")]
    CouponNotInCart(String),
    #[error("{0:?} is not a pickup location")]
    UnknownLocation(String),
    #[error("{0}")]
    Address(FulfilmentError),
    #[error("{service} is not offered with {sku}")]
    ServiceNotOffered { sku: Sku, service: Sku },
    #[error("at most {MAX_SERVICES_PER_LINE} services per item")]
    TooManyServices,
    #[error("{0} is attached twice to one item, or to itself")]
    DuplicateService(Sku),
}

impl ErrorCode for CartError {
    fn code(&self) -> &'static str {
        match self {
            CartError::UnknownSku(_) => "unknown_sku",
            CartError::NotInCart(_) => "not_in_cart",
            CartError::TooManyLines => "too_many_lines",
            CartError::QuantityLimit { .. } => "quantity_limit",
            CartError::DuplicateLine(_) => "duplicate_line",
            CartError::UnknownCoupon(_) => "unknown_coupon",
            CartError::TooManyCoupons => "too_many_coupons",
            CartError::CouponNotInCart(_) => "coupon_not_in_cart",
            CartError::UnknownLocation(_) => "unknown_location",
            CartError::Address(e) => e.code(),
            CartError::ServiceNotOffered { .. } => "service_not_offered",
            CartError::TooManyServices => "too_many_services",
            CartError::DuplicateService(_) => "duplicate_service",
        }
    }
}

impl CartOp {
    /// What the catalogue must know for this edit to be made: the SKU it adds, sets or
    /// replaces with, the coupon code it applies, the pickup location it chooses. The one
    /// catalogue check, shared by [`Cart::apply`] and by the server for synced operations
    /// (which are replayed without a catalogue; see `replica`).
    pub fn check(&self, catalogue: &Snapshot) -> Result<(), CartError> {
        match self {
            CartOp::Add { sku, .. }
            | CartOp::SetQuantity { sku, .. }
            | CartOp::Replace { with: sku, .. } => known(catalogue, sku),
            CartOp::ApplyCoupon { code } => {
                let code = normalize_code(code);
                if valid_code(&code) && catalogue.knows_coupon(&code) {
                    Ok(())
                } else {
                    Err(CartError::UnknownCoupon(code.chars().take(32).collect()))
                }
            }
            CartOp::ChooseDelivery {
                choice: Some(DeliveryChoice::Pickup(id)),
            } if !catalogue.network().is_pickup(id) => {
                Err(CartError::UnknownLocation(id.chars().take(64).collect()))
            }
            CartOp::SetAddress {
                address: Some(address),
            } => catalogue
                .network()
                .locate(address)
                .map(|_| ())
                .map_err(CartError::Address),
            CartOp::AttachService { sku, service } => {
                known(catalogue, sku)?;
                if catalogue
                    .services_for(sku)
                    .iter()
                    .any(|(_, v)| v.sku == *service)
                {
                    Ok(())
                } else {
                    Err(CartError::ServiceNotOffered {
                        sku: sku.clone(),
                        service: service.clone(),
                    })
                }
            }
            CartOp::Remove { .. }
            | CartOp::RemoveCoupon { .. }
            | CartOp::ChooseDelivery { .. }
            | CartOp::SetAddress { address: None }
            | CartOp::DetachService { .. } => Ok(()),
        }
    }
}

impl Cart {
    pub fn new() -> Cart {
        Cart::default()
    }

    pub fn lines(&self) -> &[CartLine] {
        &self.lines
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Coupon codes entered, normalized, in the order entered.
    pub fn coupons(&self) -> &[String] {
        &self.coupons
    }

    /// Delivery level or pickup location, once the shopper has chosen.
    pub fn delivery(&self) -> Option<&DeliveryChoice> {
        self.delivery.as_ref()
    }

    /// Where the shopper wants delivery, once they have said.
    pub fn address(&self) -> Option<&Destination> {
        self.address.as_ref()
    }

    pub fn quantity_of(&self, sku: &Sku) -> Option<Quantity> {
        self.position(sku).map(|i| self.lines[i].quantity)
    }

    /// The line of a SKU, with its services.
    pub fn line(&self, sku: &Sku) -> Option<&CartLine> {
        self.position(sku).map(|i| &self.lines[i])
    }

    /// The quantity the line of `sku` would have once `quantity` more are added, or why the
    /// cart cannot take them (the rule of [`CartOp::Add`], without changing the cart).
    pub fn quantity_after_add(
        &self,
        catalogue: &Snapshot,
        sku: &Sku,
        quantity: Quantity,
    ) -> Result<Quantity, CartError> {
        CartOp::Add {
            sku: sku.clone(),
            quantity,
        }
        .check(catalogue)?;
        match self.position(sku) {
            Some(i) => add_quantities(sku, self.lines[i].quantity, quantity),
            None if self.lines.len() >= MAX_CART_LINES => Err(CartError::TooManyLines),
            None => Ok(quantity),
        }
    }

    /// Applies one operation against the catalogue. On error the cart is unchanged.
    pub fn apply(&mut self, catalogue: &Snapshot, op: &CartOp) -> Result<(), CartError> {
        match op {
            CartOp::Add { sku, quantity } => {
                let total = self.quantity_after_add(catalogue, sku, *quantity)?;
                match self.position(sku) {
                    Some(i) => self.lines[i].quantity = total,
                    None => self.lines.push(CartLine {
                        sku: sku.clone(),
                        quantity: total,
                        services: Vec::new(),
                    }),
                }
            }
            CartOp::SetQuantity { sku, quantity } => {
                let i = self
                    .position(sku)
                    .ok_or_else(|| CartError::NotInCart(sku.clone()))?;
                self.lines[i].quantity = *quantity;
            }
            CartOp::Remove { sku } => {
                let i = self
                    .position(sku)
                    .ok_or_else(|| CartError::NotInCart(sku.clone()))?;
                self.lines.remove(i);
            }
            CartOp::Replace { sku, with } => self.replace(catalogue, sku, with)?,
            CartOp::ApplyCoupon { code } => {
                let code = normalize_code(code);
                if self.coupons.contains(&code) {
                    return Ok(());
                }
                op.check(catalogue)?;
                if self.coupons.len() >= MAX_COUPONS {
                    return Err(CartError::TooManyCoupons);
                }
                self.coupons.push(code);
            }
            CartOp::RemoveCoupon { code } => {
                let code = normalize_code(code);
                let i = self
                    .coupons
                    .iter()
                    .position(|c| *c == code)
                    .ok_or(CartError::CouponNotInCart(code))?;
                self.coupons.remove(i);
            }
            CartOp::ChooseDelivery { choice } => {
                op.check(catalogue)?;
                self.delivery = choice.clone();
            }
            CartOp::SetAddress { address } => {
                op.check(catalogue)?;
                self.address = address.clone();
            }
            CartOp::AttachService { sku, service } => {
                let i = self
                    .position(sku)
                    .ok_or_else(|| CartError::NotInCart(sku.clone()))?;
                op.check(catalogue)?;
                let services = &mut self.lines[i].services;
                if !services.contains(service) {
                    if services.len() >= MAX_SERVICES_PER_LINE {
                        return Err(CartError::TooManyServices);
                    }
                    services.push(service.clone());
                }
            }
            CartOp::DetachService { sku, service } => {
                let i = self
                    .position(sku)
                    .ok_or_else(|| CartError::NotInCart(sku.clone()))?;
                self.lines[i].services.retain(|s| s != service);
            }
        }
        Ok(())
    }

    /// Applies operations in order, all or nothing.
    pub fn apply_all(
        &mut self,
        catalogue: &Snapshot,
        ops: &[CartOp],
    ) -> Result<(), (usize, CartError)> {
        let mut next = self.clone();
        for (i, op) in ops.iter().enumerate() {
            next.apply(catalogue, op).map_err(|e| (i, e))?;
        }
        *self = next;
        Ok(())
    }

    fn replace(&mut self, catalogue: &Snapshot, sku: &Sku, with: &Sku) -> Result<(), CartError> {
        let i = self
            .position(sku)
            .ok_or_else(|| CartError::NotInCart(sku.clone()))?;
        CartOp::Replace {
            sku: sku.clone(),
            with: with.clone(),
        }
        .check(catalogue)?;
        if sku == with {
            return Ok(());
        }
        match self.position(with) {
            Some(j) => {
                let merged = add_quantities(with, self.lines[i].quantity, self.lines[j].quantity)?;
                let services = union(&self.lines[i].services, &self.lines[j].services);
                self.lines[i] = CartLine {
                    sku: with.clone(),
                    quantity: merged,
                    services,
                };
                self.lines.remove(j);
            }
            None => self.lines[i].sku = with.clone(),
        }
        Ok(())
    }

    // Edits that cannot fail, for replaying operations from other devices (`replica`):
    // limits are applied by dropping what does not fit, the same way on every replica.

    /// Sets a line's quantity, adding the line at the end if there is room.
    pub(crate) fn upsert(&mut self, sku: &Sku, quantity: Quantity) {
        match self.position(sku) {
            Some(i) => self.lines[i].quantity = quantity,
            None if self.lines.len() < MAX_CART_LINES => self.lines.push(CartLine {
                sku: sku.clone(),
                quantity,
                services: Vec::new(),
            }),
            None => {}
        }
    }

    pub(crate) fn remove_line(&mut self, sku: &Sku) {
        self.lines.retain(|l| &l.sku != sku);
    }

    /// Puts `with` where `sku` was, with `quantity`, dropping another line of `with` (whose
    /// services join the moved line's).
    pub(crate) fn rename_line(&mut self, sku: &Sku, with: &Sku, quantity: Quantity) {
        let Some(i) = self.position(sku) else { return };
        self.lines[i].sku = with.clone();
        self.lines[i].quantity = quantity;
        if let Some(j) = self
            .lines
            .iter()
            .enumerate()
            .position(|(j, l)| j != i && &l.sku == with)
        {
            let other = self.lines.remove(j);
            let i = if j < i { i - 1 } else { i };
            self.lines[i].services = union(&self.lines[i].services, &other.services);
        }
    }

    /// Attaches a service to a line if the line is there and has room.
    pub(crate) fn attach_service(&mut self, sku: &Sku, service: &Sku) {
        let Some(i) = self.position(sku) else { return };
        let services = &mut self.lines[i].services;
        if service != sku && !services.contains(service) && services.len() < MAX_SERVICES_PER_LINE {
            services.push(service.clone());
        }
    }

    pub(crate) fn detach_service(&mut self, sku: &Sku, service: &Sku) {
        if let Some(i) = self.position(sku) {
            self.lines[i].services.retain(|s| s != service);
        }
    }

    pub(crate) fn insert_coupon(&mut self, code: &str) {
        let code = normalize_code(code);
        if valid_code(&code) && !self.coupons.contains(&code) && self.coupons.len() < MAX_COUPONS {
            self.coupons.push(code);
        }
    }

    pub(crate) fn remove_coupon_code(&mut self, code: &str) {
        let code = normalize_code(code);
        self.coupons.retain(|c| *c != code);
    }

    pub(crate) fn set_delivery(&mut self, choice: Option<DeliveryChoice>) {
        self.delivery = choice;
    }

    pub(crate) fn set_address(&mut self, address: Option<Destination>) {
        self.address = address;
    }

    fn position(&self, sku: &Sku) -> Option<usize> {
        self.lines.iter().position(|l| &l.sku == sku)
    }
}

fn known(catalogue: &Snapshot, sku: &Sku) -> Result<(), CartError> {
    match catalogue.variant(sku) {
        Some(_) => Ok(()),
        None => Err(CartError::UnknownSku(sku.clone())),
    }
}

/// `a`'s services, then `b`'s that `a` lacks, at most [`MAX_SERVICES_PER_LINE`].
fn union(a: &[Sku], b: &[Sku]) -> Vec<Sku> {
    let mut out = a.to_vec();
    for s in b {
        if !out.contains(s) && out.len() < MAX_SERVICES_PER_LINE {
            out.push(s.clone());
        }
    }
    out
}

fn add_quantities(sku: &Sku, a: Quantity, b: Quantity) -> Result<Quantity, CartError> {
    let requested = a.get() + b.get();
    Quantity::new(i64::from(requested)).map_err(|_| CartError::QuantityLimit {
        sku: sku.clone(),
        requested,
    })
}
