//! Edits after placement: what an edit may change, and what it moves.
//!
//! **Who and when.** The shopper edits before fulfilment starts: the order placed or
//! confirmed and every fulfilment order still `open`. A call-centre agent (staff) edits
//! while lines are unfulfilled: a line with units in a fulfilment order a location has
//! started (picking or later, rejected or expired included) cannot change its quantity
//! (`line_fulfilled`), and the delivery cannot change once any has started. Nobody edits a
//! cancelled order, nor one whose every part is done.
//!
//! **What is planned again** ([`EditScope::remainder`]): the edited order's goods less the
//! units of the started fulfilment orders; those keep their location and lines, the rest is
//! sourced again.
//!
//! **Money** ([`Settlement::of`]): the difference between the edited total and the order's
//! total. More is authorized on top of the hold (an incremental authorization); less is
//! first released from what the hold has not captured, and only the rest is refunded from
//! what was captured. Adding lines and removing them again therefore authorizes and releases
//! the same amount: nothing is charged net.

use std::collections::BTreeMap;

use crate::machine::Role;
use crate::{FulfilmentState, OrderState};

/// Why an edit was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("an order that is {0} cannot be edited")]
    OrderClosed(&'static str),
    #[error("the order is being fulfilled: only a call-centre agent can change it now")]
    FulfilmentStarted,
    #[error("{0} is being fulfilled already: its quantity cannot change")]
    LineFulfilled(String),
    #[error("the delivery cannot change once a location has started on the order")]
    DeliveryLocked,
    #[error("the difference of {difference} cannot be given back: {refundable} is refundable")]
    OverRefund { difference: i64, refundable: i64 },
}

impl omnicart_engine::ErrorCode for EditError {
    fn code(&self) -> &'static str {
        match self {
            EditError::OrderClosed(_) | EditError::FulfilmentStarted => "edit_not_allowed",
            EditError::DeliveryLocked => "edit_not_allowed",
            EditError::LineFulfilled(_) => "line_fulfilled",
            EditError::OverRefund { .. } => "over_refund",
        }
    }
}

/// One fulfilment order as the edit sees it: its state and its units per SKU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub state: FulfilmentState,
    pub units: Vec<(String, u32)>,
}

/// What an edit asks: the goods' units per SKU before and after, and whether the delivery
/// choice changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    pub before: BTreeMap<String, u32>,
    pub after: BTreeMap<String, u32>,
    pub delivery_changed: bool,
}

/// An edit found allowed: the units the started fulfilment orders keep, per SKU.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EditScope {
    pub started: BTreeMap<String, u32>,
}

impl EditScope {
    /// Checks `change` of an order in `state` with fulfilment orders `parts`, asked by a
    /// `role` (see the module docs).
    pub fn check(
        role: Role,
        state: OrderState,
        parts: &[Part],
        change: &Change,
    ) -> Result<EditScope, EditError> {
        use OrderState::*;
        if matches!(
            state,
            Cancelled | Completed | Shipped | Delivered | Collected
        ) {
            return Err(EditError::OrderClosed(crate::Machine::name(state)));
        }
        let started_parts: Vec<&Part> = parts
            .iter()
            .filter(|p| p.state != FulfilmentState::Open)
            .collect();
        let customer = role == Role::Customer;
        if customer && (!matches!(state, Placed | Confirmed) || !started_parts.is_empty()) {
            return Err(EditError::FulfilmentStarted);
        }
        if change.delivery_changed && !started_parts.is_empty() {
            return Err(EditError::DeliveryLocked);
        }
        let mut started: BTreeMap<String, u32> = BTreeMap::new();
        for (sku, units) in started_parts.iter().flat_map(|p| &p.units) {
            *started.entry(sku.clone()).or_default() += units;
        }
        for sku in started.keys() {
            if change.before.get(sku) != change.after.get(sku) {
                return Err(EditError::LineFulfilled(sku.clone()));
            }
        }
        Ok(EditScope { started })
    }

    /// The units per SKU to plan again: `after` less what the started parts keep (SKUs left
    /// with none are absent).
    pub fn remainder(&self, after: &BTreeMap<String, u32>) -> BTreeMap<String, u32> {
        after
            .iter()
            .map(|(sku, n)| {
                let kept = self.started.get(sku).copied().unwrap_or(0);
                (sku.clone(), n.saturating_sub(kept))
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// How the payment follows an edit, in minor units (each zero or more; at most one of
/// `authorize` and `release`/`refund` is above zero).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settlement {
    /// Held on top of the authorization.
    pub authorize: i64,
    /// Released from the hold, not captured.
    pub release: i64,
    /// Given back from what was captured.
    pub refund: i64,
}

impl Settlement {
    /// The settlement of `difference` (edited total less the order's total) for a payment
    /// that can still capture `capturable` and refund `refundable` (see the module docs).
    pub fn of(difference: i64, capturable: i64, refundable: i64) -> Result<Settlement, EditError> {
        if difference >= 0 {
            return Ok(Settlement {
                authorize: difference,
                ..Settlement::default()
            });
        }
        let back = -difference;
        let release = back.min(capturable.max(0));
        let refund = back - release;
        if refund > refundable {
            return Err(EditError::OverRefund {
                difference,
                refundable,
            });
        }
        Ok(Settlement {
            authorize: 0,
            release,
            refund,
        })
    }

    pub fn moves_nothing(&self) -> bool {
        *self == Settlement::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FulfilmentState::*;

    fn units(pairs: &[(&str, u32)]) -> BTreeMap<String, u32> {
        pairs.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
    }

    fn part(state: FulfilmentState, pairs: &[(&str, u32)]) -> Part {
        Part {
            state,
            units: pairs.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect(),
        }
    }

    fn change(before: &[(&str, u32)], after: &[(&str, u32)], delivery: bool) -> Change {
        Change {
            before: units(before),
            after: units(after),
            delivery_changed: delivery,
        }
    }

    /// One row: who asks, the order's state, its parts, the change, and the remainder
    /// expected (or the refusal's code).
    struct Case<'a> {
        role: Role,
        state: OrderState,
        parts: &'a [Part],
        change: Change,
        expected: Result<&'a [(&'a str, u32)], &'a str>,
    }

    #[test]
    fn who_may_change_what() {
        let open = [part(Open, &[("TV", 1)])];
        let started = [part(Packed, &[("TV", 1)]), part(Open, &[("CABLE", 2)])];
        let add_ps5 = change(&[("TV", 1)], &[("TV", 1), ("PS5", 1)], false);
        let case = |role, state, parts, change, expected| Case {
            role,
            state,
            parts,
            change,
            expected,
        };
        let cases = [
            case(
                Role::Customer,
                OrderState::Placed,
                &open,
                add_ps5.clone(),
                Ok(&[("PS5", 1), ("TV", 1)]),
            ),
            case(
                Role::Customer,
                OrderState::InFulfilment,
                &started,
                add_ps5.clone(),
                Err("edit_not_allowed"),
            ),
            case(
                Role::Staff,
                OrderState::InFulfilment,
                &started,
                change(
                    &[("TV", 1), ("CABLE", 2)],
                    &[("TV", 1), ("CABLE", 1), ("PS5", 1)],
                    false,
                ),
                Ok(&[("CABLE", 1), ("PS5", 1)]),
            ),
            case(
                Role::Staff,
                OrderState::InFulfilment,
                &started,
                change(&[("TV", 1), ("CABLE", 2)], &[("CABLE", 2)], false),
                Err("line_fulfilled"),
            ),
            case(
                Role::Staff,
                OrderState::InFulfilment,
                &started,
                change(&[("TV", 1)], &[("TV", 1)], true),
                Err("edit_not_allowed"),
            ),
            case(
                Role::Staff,
                OrderState::Placed,
                &open,
                change(&[("TV", 1)], &[("TV", 2)], true),
                Ok(&[("TV", 2)]),
            ),
            case(
                Role::Staff,
                OrderState::Cancelled,
                &open,
                add_ps5.clone(),
                Err("edit_not_allowed"),
            ),
            case(
                Role::Staff,
                OrderState::Shipped,
                &[],
                add_ps5,
                Err("edit_not_allowed"),
            ),
        ];
        for (i, c) in cases.into_iter().enumerate() {
            let got = EditScope::check(c.role, c.state, c.parts, &c.change);
            match (got, c.expected) {
                (Ok(scope), Ok(remainder)) => {
                    assert_eq!(
                        scope.remainder(&c.change.after),
                        units(remainder),
                        "case {i}"
                    )
                }
                (Err(e), Err(code)) => {
                    assert_eq!(omnicart_engine::ErrorCode::code(&e), code, "case {i}")
                }
                (got, expected) => panic!("case {i}: {got:?}, expected {expected:?}"),
            }
        }
    }

    /// Three amounts in minor units: (difference, capturable, refundable) in, (authorize,
    /// release, refund) out.
    type Money3 = (i64, i64, i64);

    #[test]
    fn the_difference_is_authorized_released_then_refunded() {
        let cases: [(Money3, Option<Money3>); 6] = [
            ((0, 1000, 0), Some((0, 0, 0))),
            ((250, 1000, 0), Some((250, 0, 0))),
            ((-250, 1000, 0), Some((0, 250, 0))),
            ((-250, 100, 500), Some((0, 100, 150))),
            ((-250, 0, 500), Some((0, 0, 250))),
            ((-250, 100, 100), None),
        ];
        for ((difference, capturable, refundable), expected) in cases {
            let got = Settlement::of(difference, capturable, refundable).ok();
            let expected = expected.map(|(authorize, release, refund)| Settlement {
                authorize,
                release,
                refund,
            });
            assert_eq!(got, expected, "{difference} {capturable} {refundable}");
        }
    }

    #[test]
    fn adding_then_removing_moves_nothing_net() {
        let add = Settlement::of(59_900, 100_000, 0).unwrap();
        // The added amount is held, not captured: removing it again releases it all.
        let remove = Settlement::of(-59_900, 100_000 + add.authorize, 0).unwrap();
        assert_eq!(add.authorize - remove.release - remove.refund, 0);
        assert_eq!(remove.refund, 0);
    }
}
