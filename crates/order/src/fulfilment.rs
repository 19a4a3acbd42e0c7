//! A fulfilment order: the part of an order one location ships (or hands over in store), with
//! its own state machine, its lines, its parcel and its history.
//!
//! ```text
//! open ──► picking ──► packed ──► shipped ──► delivered          (a parcel)
//!   │         │          └──────► ready_for_pickup ──► collected  (a pickup)
//!   │         │                          └──────────► expired    (not collected in time)
//!   └─────────┴──────────┴──► rejected   (every line rejected: short pick, damage)
//! ```
//!
//! Placement makes one per location of the sourcing plan. A line may be rejected alone (with a
//! reason) while the order is open, picking or packed; when every line is rejected the order
//! is `rejected`. A parcel never goes to `ready_for_pickup`, a pickup is never `shipped`.
//! Asking for the state the order is already in changes nothing and is not an error
//! ([`Applied::Unchanged`]), so a replayed request moves nothing twice.
//!
//! [`parcel_capture`] is the written rule of what shipping a parcel captures: its lines' net
//! plus tax, and the order's delivery charge with the first parcel that ships.

use serde::{Deserialize, Serialize};

use crate::OrderError;
use crate::machine::{Edge, Machine, Record, Request, Role, Roles};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentState {
    /// Made at placement; nobody has started.
    Open,
    Picking,
    Packed,
    /// Handed to the carrier (carrier, tracking number, label recorded).
    Shipped,
    Delivered,
    /// Every line was rejected by the location; the lines were re-sourced or cancelled.
    Rejected,
    /// Waiting in the store for the shopper, who holds a pickup code.
    ReadyForPickup,
    Collected,
    /// Not collected in time: cancelled, restocked, refunded.
    Expired,
}

use FulfilmentState::*;

const fn edge(from: FulfilmentState, to: FulfilmentState, by: Roles) -> Edge<FulfilmentState> {
    Edge { from, to, by }
}

impl Machine for FulfilmentState {
    const EDGES: &'static [Edge<FulfilmentState>] = &[
        edge(Open, Picking, Roles::OPERATIONS),
        edge(Open, Rejected, Roles::OPERATIONS),
        edge(Picking, Packed, Roles::OPERATIONS),
        edge(Picking, Rejected, Roles::OPERATIONS),
        edge(Packed, Shipped, Roles::OPERATIONS),
        edge(Packed, ReadyForPickup, Roles::OPERATIONS),
        edge(Packed, Rejected, Roles::OPERATIONS),
        edge(Shipped, Delivered, Roles::OPERATIONS),
        edge(ReadyForPickup, Collected, Roles::OPERATIONS),
        edge(ReadyForPickup, Expired, Roles::SYSTEM),
    ];

    fn name(self) -> &'static str {
        match self {
            Open => "open",
            Picking => "picking",
            Packed => "packed",
            Shipped => "shipped",
            Delivered => "delivered",
            Rejected => "rejected",
            ReadyForPickup => "ready_for_pickup",
            Collected => "collected",
            Expired => "expired",
        }
    }
}

impl FulfilmentState {
    pub const ALL: [FulfilmentState; 9] = [
        Open,
        Picking,
        Packed,
        Shipped,
        Delivered,
        Rejected,
        ReadyForPickup,
        Collected,
        Expired,
    ];

    /// The state of a wire or stored name.
    pub fn parse(name: &str) -> Option<FulfilmentState> {
        FulfilmentState::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether lines may still be rejected (nothing has left the location).
    pub fn may_reject(self) -> bool {
        matches!(self, Open | Picking | Packed)
    }
}

/// Whether the location sends a parcel or the shopper collects in store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentKind {
    Ship,
    Pickup,
}

/// Why a location rejected a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The shelf held fewer than the record said.
    ShortPick,
    Damage,
}

/// The carrier's facts of a shipped parcel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    pub carrier: String,
    pub tracking_number: String,
    /// The label's data as the carrier gave it (opaque to us).
    #[serde(default)]
    pub label: String,
}

/// One line of a fulfilment order; `rejected` once the location refused it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfilmentLine {
    pub sku: String,
    pub quantity: u32,
    pub rejected: Option<RejectReason>,
    /// The order's SKU this line stands in for, once the shopper accepted a substitute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitutes: Option<String>,
}

impl FulfilmentLine {
    /// The order line's SKU: the one bought, whatever ships in its place.
    pub fn ordered_sku(&self) -> &str {
        self.substitutes.as_deref().unwrap_or(&self.sku)
    }
}

/// What applying a request did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    Moved,
    /// Already there: nothing moved (a replay).
    Unchanged,
}

/// The most wrong pickup codes accepted before the order refuses every code (staff must help).
pub const MAX_PICKUP_ATTEMPTS: u32 = 5;

/// Why a fulfilment change was refused, beyond the machine's own [`OrderError`]s.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FulfilmentError {
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error("a {kind:?} fulfilment order cannot go to {to}")]
    WrongKind {
        kind: FulfilmentKind,
        to: &'static str,
    },
    #[error("shipping needs a carrier and a tracking number")]
    ParcelMissing,
    #[error("this order has no line {0}")]
    UnknownLine(usize),
    #[error("lines can be rejected only before anything leaves the location (it is {0})")]
    RejectTooLate(&'static str),
    #[error("the pickup code is wrong")]
    WrongPickupCode,
    #[error("too many wrong pickup codes; ask the store")]
    PickupLocked,
}

impl omnicart_engine::ErrorCode for FulfilmentError {
    fn code(&self) -> &'static str {
        match self {
            FulfilmentError::Order(e) => e.code(),
            FulfilmentError::WrongKind { .. } => "invalid_transition",
            FulfilmentError::ParcelMissing => "parcel_missing",
            FulfilmentError::UnknownLine(_) => "unknown_line",
            FulfilmentError::RejectTooLate(_) => "invalid_transition",
            FulfilmentError::WrongPickupCode => "wrong_pickup_code",
            FulfilmentError::PickupLocked => "pickup_locked",
        }
    }
}

/// A fulfilment order. Only its methods change it, each checked against the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfilmentOrder {
    pub kind: FulfilmentKind,
    pub location: String,
    state: FulfilmentState,
    lines: Vec<FulfilmentLine>,
    parcel: Option<Parcel>,
    pickup_attempts: u32,
    /// Since it was made or restored: the store keeps the timeline beside it, so a stored
    /// body carries none and a restored one records only what is new.
    #[serde(skip, default)]
    history: Vec<Record<FulfilmentState>>,
}

impl FulfilmentOrder {
    /// A new one, open, for `lines` (SKU, units) at `location`.
    pub fn open(
        kind: FulfilmentKind,
        location: impl Into<String>,
        lines: impl IntoIterator<Item = (String, u32)>,
        request: Request,
    ) -> FulfilmentOrder {
        FulfilmentOrder {
            kind,
            location: location.into(),
            state: Open,
            lines: lines
                .into_iter()
                .map(|(sku, quantity)| FulfilmentLine {
                    sku,
                    quantity,
                    rejected: None,
                    substitutes: None,
                })
                .collect(),
            parcel: None,
            pickup_attempts: 0,
            history: vec![request.record(Open, Open)],
        }
    }

    /// Rebuilds one from storage (its state, lines and parcel as stored).
    pub fn restore(
        kind: FulfilmentKind,
        location: String,
        state: FulfilmentState,
        lines: Vec<FulfilmentLine>,
        parcel: Option<Parcel>,
        pickup_attempts: u32,
    ) -> FulfilmentOrder {
        FulfilmentOrder {
            kind,
            location,
            state,
            lines,
            parcel,
            pickup_attempts,
            history: Vec::new(),
        }
    }

    pub fn state(&self) -> FulfilmentState {
        self.state
    }
    pub fn lines(&self) -> &[FulfilmentLine] {
        &self.lines
    }
    pub fn parcel(&self) -> Option<&Parcel> {
        self.parcel.as_ref()
    }
    pub fn pickup_attempts(&self) -> u32 {
        self.pickup_attempts
    }
    /// The transitions taken since it was made or restored, oldest first.
    pub fn history(&self) -> &[Record<FulfilmentState>] {
        &self.history
    }

    /// Takes it to `to` (not `shipped`, `collected` or `rejected`: those have their own
    /// methods, which carry their facts).
    pub fn transition(
        &mut self,
        to: FulfilmentState,
        request: Request,
    ) -> Result<Applied, FulfilmentError> {
        if self.state == to {
            return Ok(Applied::Unchanged);
        }
        let wrong_kind = match to {
            Shipped | Delivered => self.kind == FulfilmentKind::Pickup,
            ReadyForPickup | Collected | Expired => self.kind == FulfilmentKind::Ship,
            _ => false,
        };
        if wrong_kind {
            return Err(FulfilmentError::WrongKind {
                kind: self.kind,
                to: to.name(),
            });
        }
        FulfilmentState::check(self.state, to, request.actor.role)?;
        self.history.push(request.record(self.state, to));
        self.state = to;
        Ok(Applied::Moved)
    }

    /// An edit after placement sets the lines of an order nobody has started (`open`): false
    /// once a location has begun (its lines are what it works on).
    pub fn replace_lines(&mut self, lines: impl IntoIterator<Item = (String, u32)>) -> bool {
        if self.state != Open {
            return false;
        }
        self.lines = lines
            .into_iter()
            .map(|(sku, quantity)| FulfilmentLine {
                sku,
                quantity,
                rejected: None,
                substitutes: None,
            })
            .collect();
        true
    }

    /// Hands the parcel to the carrier.
    pub fn ship(&mut self, parcel: Parcel, request: Request) -> Result<Applied, FulfilmentError> {
        if self.state == Shipped {
            return Ok(Applied::Unchanged);
        }
        if parcel.carrier.trim().is_empty() || parcel.tracking_number.trim().is_empty() {
            return Err(FulfilmentError::ParcelMissing);
        }
        self.transition(Shipped, request)?;
        self.parcel = Some(parcel);
        Ok(Applied::Moved)
    }

    /// Rejects the lines at `indices` for `reason`; when none is left, the order is rejected.
    /// Returns the lines newly rejected (already rejected ones are not returned twice).
    pub fn reject_lines(
        &mut self,
        indices: &[usize],
        reason: RejectReason,
        request: Request,
    ) -> Result<Vec<usize>, FulfilmentError> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.lines.len()) {
            return Err(FulfilmentError::UnknownLine(bad));
        }
        let fresh: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|&i| self.lines[i].rejected.is_none())
            .collect();
        if fresh.is_empty() {
            return Ok(fresh);
        }
        if !self.state.may_reject() {
            return Err(FulfilmentError::RejectTooLate(self.state.name()));
        }
        for &i in &fresh {
            self.lines[i].rejected = Some(reason);
        }
        if self.lines.iter().all(|l| l.rejected.is_some()) {
            self.transition(Rejected, request)?;
        }
        Ok(fresh)
    }

    /// Adds units re-sourced from another location: to its line of that SKU, or as a new
    /// line. Only while `open` (nothing picked yet), else `RejectTooLate`'s sibling refusal:
    /// the caller opens a new fulfilment order instead.
    pub fn join(&mut self, sku: &str, quantity: u32) -> Result<(), FulfilmentError> {
        if self.state != Open {
            return Err(FulfilmentError::RejectTooLate(self.state.name()));
        }
        match self
            .lines
            .iter_mut()
            .find(|l| l.sku == sku && l.rejected.is_none())
        {
            Some(line) => line.quantity = line.quantity.saturating_add(quantity),
            None => self.lines.push(FulfilmentLine {
                sku: sku.to_owned(),
                quantity,
                rejected: None,
                substitutes: None,
            }),
        }
        Ok(())
    }

    /// Ships `sku` in place of line `index` (the shopper accepted it): only while lines may be
    /// rejected, for a line not rejected; the line remembers the SKU ordered.
    pub fn substitute(&mut self, index: usize, sku: &str) -> Result<(), FulfilmentError> {
        let state = self.state;
        let line = self
            .lines
            .get_mut(index)
            .filter(|l| l.rejected.is_none())
            .ok_or(FulfilmentError::UnknownLine(index))?;
        if !state.may_reject() {
            return Err(FulfilmentError::RejectTooLate(state.name()));
        }
        if line.substitutes.is_none() {
            line.substitutes = Some(std::mem::replace(&mut line.sku, sku.to_owned()));
        } else {
            line.sku = sku.to_owned();
        }
        Ok(())
    }

    /// The shopper collects with a code; `code_matches` is the server's comparison of the code
    /// with the stored digest. A wrong code counts; after [`MAX_PICKUP_ATTEMPTS`] every code
    /// is refused.
    pub fn collect(
        &mut self,
        code_matches: bool,
        request: Request,
    ) -> Result<Applied, FulfilmentError> {
        if self.state == Collected {
            return Ok(Applied::Unchanged);
        }
        FulfilmentState::check(self.state, Collected, request.actor.role)?;
        if self.pickup_attempts >= MAX_PICKUP_ATTEMPTS {
            return Err(FulfilmentError::PickupLocked);
        }
        if !code_matches {
            self.pickup_attempts += 1;
            return Err(FulfilmentError::WrongPickupCode);
        }
        self.transition(Collected, request)
    }

    /// Whether the role may collect at all (so a wrong code is counted only when it could).
    pub fn may_collect(&self, role: Role) -> bool {
        FulfilmentState::check(self.state, Collected, role).is_ok()
    }
}

/// What shipping one parcel captures, in minor units: its lines' net plus tax, plus the
/// order's delivery charge if it is the first parcel to ship. So the captures of all parcels
/// sum to the order's total (lines + tax + delivery) exactly.
pub fn parcel_capture(lines_gross_minor: i64, delivery_minor: i64, first_parcel: bool) -> i64 {
    lines_gross_minor + if first_parcel { delivery_minor } else { 0 }
}

#[cfg(test)]
mod tests {
    use omnicart_engine::Timestamp;

    use super::*;
    use crate::machine::Actor;

    fn by(role: Role) -> Request {
        Request::new(Actor::new(role, "staff_1"), Timestamp::from_unix(1_000), "")
    }
    fn staff() -> Request {
        by(Role::Staff)
    }
    fn order(kind: FulfilmentKind) -> FulfilmentOrder {
        FulfilmentOrder::open(
            kind,
            "loc_berlin",
            [("SKU-1".to_string(), 2), ("SKU-2".to_string(), 1)],
            staff(),
        )
    }
    fn parcel() -> Parcel {
        Parcel {
            carrier: "DHL".into(),
            tracking_number: "00340434".into(),
            label: "zpl".into(),
        }
    }

    #[test]
    fn a_substitute_ships_in_place_of_the_line_and_remembers_what_was_ordered() {
        let mut o = order(FulfilmentKind::Ship);
        assert_eq!(o.substitute(0, "SKU-1B"), Ok(()));
        assert_eq!(
            (o.lines()[0].sku.as_str(), o.lines()[0].ordered_sku()),
            ("SKU-1B", "SKU-1")
        );
        assert_eq!(o.substitute(0, "SKU-1C"), Ok(()));
        assert_eq!(o.lines()[0].ordered_sku(), "SKU-1", "the first SKU ordered");
        assert_eq!(o.substitute(7, "X"), Err(FulfilmentError::UnknownLine(7)));
        o.reject_lines(&[1], RejectReason::ShortPick, staff())
            .unwrap();
        assert_eq!(o.substitute(1, "X"), Err(FulfilmentError::UnknownLine(1)));
        for to in [Picking, Packed] {
            o.transition(to, staff()).unwrap();
        }
        o.ship(parcel(), staff()).unwrap();
        assert!(matches!(
            o.substitute(0, "X"),
            Err(FulfilmentError::RejectTooLate(_))
        ));
    }

    #[test]
    fn re_sourced_units_join_an_open_order_only() {
        let mut o = order(FulfilmentKind::Ship);
        assert_eq!(o.join("SKU-1", 3), Ok(()));
        assert_eq!(o.join("SKU-9", 1), Ok(()));
        let units: Vec<(&str, u32)> = o
            .lines()
            .iter()
            .map(|l| (l.sku.as_str(), l.quantity))
            .collect();
        assert_eq!(units, [("SKU-1", 5), ("SKU-2", 1), ("SKU-9", 1)]);
        o.transition(Picking, staff()).unwrap();
        assert!(
            o.join("SKU-1", 1).is_err(),
            "a picking order takes no new units"
        );
        assert_eq!(o.lines()[0].quantity, 5);
    }

    #[test]
    fn a_parcel_goes_open_to_delivered() {
        let mut o = order(FulfilmentKind::Ship);
        assert_eq!(o.transition(Picking, staff()), Ok(Applied::Moved));
        assert_eq!(o.transition(Packed, staff()), Ok(Applied::Moved));
        assert_eq!(o.ship(parcel(), staff()), Ok(Applied::Moved));
        assert_eq!(o.parcel(), Some(&parcel()));
        assert_eq!(o.transition(Delivered, staff()), Ok(Applied::Moved));
        assert!(o.state().is_final());
        assert_eq!(o.history().len(), 5);
    }

    #[test]
    fn every_edge_outside_the_table_is_refused() {
        for from in FulfilmentState::ALL {
            for to in FulfilmentState::ALL {
                let allowed = FulfilmentState::EDGES
                    .iter()
                    .any(|e| e.from == from && e.to == to);
                let result = FulfilmentState::check(from, to, Role::System);
                assert_eq!(result.is_ok(), allowed, "{} -> {}", from.name(), to.name());
            }
        }
        // A customer never moves a fulfilment order; staff never expires one.
        for e in FulfilmentState::EDGES {
            assert!(FulfilmentState::check(e.from, e.to, Role::Customer).is_err());
        }
        assert!(matches!(
            FulfilmentState::check(ReadyForPickup, Expired, Role::Staff),
            Err(OrderError::Forbidden { .. })
        ));
    }

    #[test]
    fn skipping_a_step_is_refused_with_a_code() {
        use omnicart_engine::ErrorCode;
        let mut o = order(FulfilmentKind::Ship);
        let err = o.ship(parcel(), staff()).unwrap_err();
        assert_eq!(err.code(), "invalid_transition");
        assert_eq!(o.state(), Open);
        let err = o.transition(Delivered, staff()).unwrap_err();
        assert_eq!(err.code(), "invalid_transition");
    }

    #[test]
    fn repeating_the_state_moves_nothing() {
        let mut o = order(FulfilmentKind::Ship);
        o.transition(Picking, staff()).unwrap();
        assert_eq!(o.transition(Picking, staff()), Ok(Applied::Unchanged));
        o.transition(Packed, staff()).unwrap();
        o.ship(parcel(), staff()).unwrap();
        let other = Parcel {
            tracking_number: "999".into(),
            ..parcel()
        };
        assert_eq!(o.ship(other, staff()), Ok(Applied::Unchanged));
        assert_eq!(o.parcel(), Some(&parcel()));
        assert_eq!(o.history().len(), 4);
    }

    #[test]
    fn kinds_keep_to_their_branch() {
        let mut ship = order(FulfilmentKind::Ship);
        ship.transition(Picking, staff()).unwrap();
        ship.transition(Packed, staff()).unwrap();
        assert!(matches!(
            ship.transition(ReadyForPickup, staff()),
            Err(FulfilmentError::WrongKind { .. })
        ));
        let mut pickup = order(FulfilmentKind::Pickup);
        pickup.transition(Picking, staff()).unwrap();
        pickup.transition(Packed, staff()).unwrap();
        assert!(matches!(
            pickup.ship(parcel(), staff()),
            Err(FulfilmentError::WrongKind { .. })
        ));
        assert_eq!(
            pickup.transition(ReadyForPickup, staff()),
            Ok(Applied::Moved)
        );
    }

    #[test]
    fn shipping_needs_carrier_and_tracking() {
        let mut o = order(FulfilmentKind::Ship);
        o.transition(Picking, staff()).unwrap();
        o.transition(Packed, staff()).unwrap();
        let blank = Parcel {
            tracking_number: " ".into(),
            ..parcel()
        };
        assert_eq!(o.ship(blank, staff()), Err(FulfilmentError::ParcelMissing));
        assert_eq!(o.state(), Packed);
    }

    #[test]
    fn rejecting_every_line_rejects_the_order() {
        let mut o = order(FulfilmentKind::Ship);
        o.transition(Picking, staff()).unwrap();
        assert_eq!(
            o.reject_lines(&[1], RejectReason::Damage, staff()),
            Ok(vec![1])
        );
        assert_eq!(o.state(), Picking);
        assert_eq!(o.lines()[1].rejected, Some(RejectReason::Damage));
        // A replay rejects nothing new.
        assert_eq!(
            o.reject_lines(&[1], RejectReason::Damage, staff()),
            Ok(vec![])
        );
        assert_eq!(
            o.reject_lines(&[0, 1], RejectReason::ShortPick, staff()),
            Ok(vec![0])
        );
        assert_eq!(o.state(), Rejected);
        assert_eq!(
            o.reject_lines(&[7], RejectReason::Damage, staff()),
            Err(FulfilmentError::UnknownLine(7))
        );
    }

    #[test]
    fn nothing_is_rejected_after_it_left() {
        let mut o = order(FulfilmentKind::Ship);
        o.transition(Picking, staff()).unwrap();
        o.transition(Packed, staff()).unwrap();
        o.ship(parcel(), staff()).unwrap();
        assert_eq!(
            o.reject_lines(&[0], RejectReason::Damage, staff()),
            Err(FulfilmentError::RejectTooLate("shipped"))
        );
    }

    fn ready() -> FulfilmentOrder {
        let mut o = order(FulfilmentKind::Pickup);
        o.transition(Picking, staff()).unwrap();
        o.transition(Packed, staff()).unwrap();
        o.transition(ReadyForPickup, staff()).unwrap();
        o
    }

    #[test]
    fn pickup_collects_with_the_right_code_and_locks_after_wrong_ones() {
        let mut o = ready();
        assert_eq!(
            o.collect(false, staff()),
            Err(FulfilmentError::WrongPickupCode)
        );
        assert_eq!(o.pickup_attempts(), 1);
        assert_eq!(o.collect(true, staff()), Ok(Applied::Moved));
        assert_eq!(o.collect(true, staff()), Ok(Applied::Unchanged));

        let mut o = ready();
        for _ in 0..MAX_PICKUP_ATTEMPTS {
            assert_eq!(
                o.collect(false, staff()),
                Err(FulfilmentError::WrongPickupCode)
            );
        }
        assert_eq!(o.collect(true, staff()), Err(FulfilmentError::PickupLocked));
        assert_eq!(o.state(), ReadyForPickup);
    }

    #[test]
    fn only_the_system_expires_a_pickup() {
        let mut o = ready();
        assert!(o.transition(Expired, staff()).is_err());
        assert_eq!(o.transition(Expired, by(Role::System)), Ok(Applied::Moved));
        assert!(o.collect(true, staff()).is_err());
    }

    #[test]
    fn captures_sum_to_the_total() {
        let parcels = [1_999, 4_550, 120];
        let delivery = 495;
        let total: i64 = parcels.iter().sum::<i64>() + delivery;
        let captured: i64 = parcels
            .iter()
            .enumerate()
            .map(|(i, &p)| parcel_capture(p, delivery, i == 0))
            .sum();
        assert_eq!(captured, total);
    }
}
