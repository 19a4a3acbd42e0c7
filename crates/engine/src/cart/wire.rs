//! The JSON form of a [`Cart`] and of a [`CartOp`]: the flat structs serde reads and writes,
//! and the conversions that validate them (a cart's limits and shape; an operation's fields).

use serde::{Deserialize, Serialize};

use super::{
    Cart, CartError, CartLine, CartOp, DeliveryChoice, MAX_CART_LINES, MAX_SERVICES_PER_LINE,
};
use crate::fulfilment::{Destination, Level};
use crate::promotion::{MAX_COUPONS, normalize_code, valid_code};
use crate::sku::{Quantity, Sku};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CartData {
    lines: Vec<CartLine>,
    #[serde(default)]
    coupons: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery: Option<DeliveryChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<Destination>,
}

/// The wire form of a [`CartOp`]: a flat struct rather than serde's internally tagged enum,
/// which would buffer untyped content and cost Wasm size (see `promotion/wire.rs`).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OpData {
    op: Option<OpKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sku: Option<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quantity: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    with: Option<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pickup: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<Destination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service: Option<Sku>,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum OpKind {
    Add,
    SetQuantity,
    Remove,
    Replace,
    ApplyCoupon,
    RemoveCoupon,
    ChooseDelivery,
    SetAddress,
    AttachService,
    DetachService,
}

impl OpData {
    /// Fails if a field outside `allowed` is present.
    fn only(&self, allowed: &[&str]) -> Result<(), String> {
        let present = [
            ("sku", self.sku.is_some()),
            ("quantity", self.quantity.is_some()),
            ("with", self.with.is_some()),
            ("code", self.code.is_some()),
            ("level", self.level.is_some()),
            ("pickup", self.pickup.is_some()),
            ("address", self.address.is_some()),
            ("service", self.service.is_some()),
        ];
        match present
            .iter()
            .find(|(f, here)| *here && !allowed.contains(f))
        {
            Some((f, _)) => Err(format!("`{f}` is not a field of this operation")),
            None => Ok(()),
        }
    }
}

/// Takes a field the operation needs, or says which is missing.
fn need<T>(v: Option<T>, field: &str) -> Result<T, String> {
    v.ok_or_else(|| format!("this operation needs `{field}`"))
}

impl TryFrom<OpData> for CartOp {
    type Error = String;

    fn try_from(d: OpData) -> Result<CartOp, String> {
        let kind = d.op.ok_or("an operation needs `op`")?;
        match kind {
            OpKind::Add | OpKind::SetQuantity => {
                d.only(&["sku", "quantity"])?;
                let (sku, quantity) = (need(d.sku, "sku")?, need(d.quantity, "quantity")?);
                Ok(if matches!(kind, OpKind::Add) {
                    CartOp::Add { sku, quantity }
                } else {
                    CartOp::SetQuantity { sku, quantity }
                })
            }
            OpKind::Remove => {
                d.only(&["sku"])?;
                Ok(CartOp::Remove {
                    sku: need(d.sku, "sku")?,
                })
            }
            OpKind::Replace => {
                d.only(&["sku", "with"])?;
                Ok(CartOp::Replace {
                    sku: need(d.sku, "sku")?,
                    with: need(d.with, "with")?,
                })
            }
            OpKind::ApplyCoupon | OpKind::RemoveCoupon => {
                d.only(&["code"])?;
                let code = need(d.code, "code")?;
                Ok(if matches!(kind, OpKind::ApplyCoupon) {
                    CartOp::ApplyCoupon { code }
                } else {
                    CartOp::RemoveCoupon { code }
                })
            }
            OpKind::ChooseDelivery => {
                d.only(&["level", "pickup"])?;
                let choice = match (d.level, d.pickup) {
                    (Some(_), Some(_)) => {
                        return Err("choose a `level` or a `pickup` location, not both".into());
                    }
                    (Some(level), None) => Some(DeliveryChoice::Level(level)),
                    (None, Some(location)) => Some(DeliveryChoice::Pickup(location)),
                    (None, None) => None,
                };
                Ok(CartOp::ChooseDelivery { choice })
            }
            OpKind::SetAddress => {
                d.only(&["address"])?;
                Ok(CartOp::SetAddress { address: d.address })
            }
            OpKind::AttachService | OpKind::DetachService => {
                d.only(&["sku", "service"])?;
                let (sku, service) = (need(d.sku, "sku")?, need(d.service, "service")?);
                Ok(if matches!(kind, OpKind::AttachService) {
                    CartOp::AttachService { sku, service }
                } else {
                    CartOp::DetachService { sku, service }
                })
            }
        }
    }
}

impl From<CartOp> for OpData {
    fn from(op: CartOp) -> OpData {
        let d = OpData::default();
        match op {
            CartOp::Add { sku, quantity } => OpData {
                op: Some(OpKind::Add),
                sku: Some(sku),
                quantity: Some(quantity),
                ..d
            },
            CartOp::SetQuantity { sku, quantity } => OpData {
                op: Some(OpKind::SetQuantity),
                sku: Some(sku),
                quantity: Some(quantity),
                ..d
            },
            CartOp::Remove { sku } => OpData {
                op: Some(OpKind::Remove),
                sku: Some(sku),
                ..d
            },
            CartOp::Replace { sku, with } => OpData {
                op: Some(OpKind::Replace),
                sku: Some(sku),
                with: Some(with),
                ..d
            },
            CartOp::ApplyCoupon { code } => OpData {
                op: Some(OpKind::ApplyCoupon),
                code: Some(code),
                ..d
            },
            CartOp::RemoveCoupon { code } => OpData {
                op: Some(OpKind::RemoveCoupon),
                code: Some(code),
                ..d
            },
            CartOp::ChooseDelivery { choice } => {
                let (level, pickup) = match choice {
                    Some(DeliveryChoice::Level(l)) => (Some(l), None),
                    Some(DeliveryChoice::Pickup(p)) => (None, Some(p)),
                    None => (None, None),
                };
                OpData {
                    op: Some(OpKind::ChooseDelivery),
                    level,
                    pickup,
                    ..d
                }
            }
            CartOp::SetAddress { address } => OpData {
                op: Some(OpKind::SetAddress),
                address,
                ..d
            },
            CartOp::AttachService { sku, service } => OpData {
                op: Some(OpKind::AttachService),
                sku: Some(sku),
                service: Some(service),
                ..d
            },
            CartOp::DetachService { sku, service } => OpData {
                op: Some(OpKind::DetachService),
                sku: Some(sku),
                service: Some(service),
                ..d
            },
        }
    }
}

impl TryFrom<CartData> for Cart {
    type Error = CartError;
    fn try_from(data: CartData) -> Result<Cart, CartError> {
        if data.lines.len() > MAX_CART_LINES {
            return Err(CartError::TooManyLines);
        }
        // A set, not a scan of the lines before each: a 1,000-line cart would compare half a
        // million pairs of SKUs.
        let mut seen = crate::hash::HashSet::default();
        seen.reserve(data.lines.len());
        for line in &data.lines {
            if !seen.insert(line.sku.as_str()) {
                return Err(CartError::DuplicateLine(line.sku.clone()));
            }
            if line.services.len() > MAX_SERVICES_PER_LINE {
                return Err(CartError::TooManyServices);
            }
            for (k, service) in line.services.iter().enumerate() {
                if *service == line.sku || line.services[..k].contains(service) {
                    return Err(CartError::DuplicateService(service.clone()));
                }
            }
        }
        let mut coupons: Vec<String> = Vec::new();
        for code in data.coupons {
            let code = normalize_code(&code);
            if !valid_code(&code) {
                return Err(CartError::UnknownCoupon(code.chars().take(32).collect()));
            }
            if !coupons.contains(&code) {
                coupons.push(code);
            }
        }
        if coupons.len() > MAX_COUPONS {
            return Err(CartError::TooManyCoupons);
        }
        if let Some(DeliveryChoice::Pickup(id)) = &data.delivery
            && (id.is_empty() || id.len() > 64)
        {
            return Err(CartError::UnknownLocation(id.chars().take(64).collect()));
        }
        if let Some(address) = &data.address {
            address.check_shape().map_err(CartError::Address)?;
        }
        Ok(Cart {
            lines: data.lines,
            coupons,
            delivery: data.delivery,
            address: data.address,
        })
    }
}

impl From<Cart> for CartData {
    fn from(c: Cart) -> CartData {
        CartData {
            lines: c.lines,
            coupons: c.coupons,
            delivery: c.delivery,
            address: c.address,
        }
    }
}

impl CartOp {
    /// The operation's `op` as JSON writes it (`"add"`, `"set_quantity"`, …): a stable name.
    pub fn name(&self) -> &'static str {
        match self {
            CartOp::Add { .. } => "add",
            CartOp::SetQuantity { .. } => "set_quantity",
            CartOp::Remove { .. } => "remove",
            CartOp::Replace { .. } => "replace",
            CartOp::ApplyCoupon { .. } => "apply_coupon",
            CartOp::RemoveCoupon { .. } => "remove_coupon",
            CartOp::ChooseDelivery { .. } => "choose_delivery",
            CartOp::SetAddress { .. } => "set_address",
            CartOp::AttachService { .. } => "attach_service",
            CartOp::DetachService { .. } => "detach_service",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_wire_names() {
        let sku = || Sku::new("TV-55").unwrap();
        let ops = [
            CartOp::Add {
                sku: sku(),
                quantity: Quantity::ONE,
            },
            CartOp::SetQuantity {
                sku: sku(),
                quantity: Quantity::ONE,
            },
            CartOp::Remove { sku: sku() },
            CartOp::Replace {
                sku: sku(),
                with: sku(),
            },
            CartOp::ApplyCoupon { code: "A".into() },
            CartOp::RemoveCoupon { code: "A".into() },
            CartOp::ChooseDelivery { choice: None },
            CartOp::SetAddress { address: None },
            CartOp::AttachService {
                sku: sku(),
                service: sku(),
            },
            CartOp::DetachService {
                sku: sku(),
                service: sku(),
            },
        ];
        for op in ops {
            let json = serde_json::to_value(&op).unwrap();
            assert_eq!(json["op"], op.name(), "{json}");
        }
    }
}
