//! Returns: what a shopper sends back, what the location does with it, and what is refunded.
//!
//! ```text
//! requested ──► received ──► refunded
//!                  └──────► refund_failed ──► refunded      (a retry)
//!                                 └─────────► refund_failed (the retry refused again)
//! ```
//!
//! **What may be returned.** Units of a goods line that reached the shopper (a parcel
//! `delivered`, a pickup `collected`), never more than that minus what earlier returns of the
//! order already claim. Units of a service attached to a returned item (an installation)
//! follow their item: the same number of units, refunded by the same rule, never restocked.
//!
//! **What is refunded (the written rule, exact to the minor unit).**
//! - A line's units are refunded from the amounts the engine put on the line at placement:
//!   its total after its own promotions and its largest-remainder share of the order-level
//!   discounts (`QuoteLine::order_discount`), tax included (`QuoteLine::total`), and its tax
//!   (`QuoteLine::tax`) for the credit note. Nothing is priced again.
//! - A line's total is split over its units by the engine's own largest-remainder allocation
//!   (`omnicart_engine::allocate::allocate`, equal weights, units keyed by position): unit `i`
//!   of `n` gets `total ÷ n` rounded down, and the first `total mod n` units one minor unit
//!   more. A return of `q` units after `k` returned before refunds units `k … k + q − 1`, so
//!   returning every unit, one by one or all at once, refunds exactly the line's total.
//! - **Delivery** is refunded only by the return that sends back the last unit of the order's
//!   goods (every goods line, gifts aside, wholly returned): the order has one delivery
//!   charge, not one per parcel, and a shopper who keeps part of the order was delivered to.
//!   This is what EU law asks of a whole withdrawal (Directive 2011/83/EU, art. 13: standard
//!   delivery reimbursed) and no more for a partial one. So the refunds of an order returned
//!   whole add up to exactly what was charged for its goods, services and delivery.
//!
//! **Refunding** happens after receipt, to the original payment under the key
//! `refund:{return id}`; a refusal leaves `refund_failed` and the payment unchanged, and a
//! retry with the same key refunds once.

use omnicart_engine::allocate::allocate;
use omnicart_engine::{Money, QuoteLine, Sku};
use serde::{Deserialize, Serialize};

use crate::OrderError;
use crate::machine::{Edge, Machine, Record, Request, Roles};

/// Most lines in one return request (an order holds at most the cart's 1,000 lines).
pub const MAX_RETURN_LINES: usize = 1_000;
/// Longest reason a shopper may give, in characters.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnState {
    /// The shopper asked; nothing has come back yet.
    Requested,
    /// A location received the units, each with its disposition; the refund is due.
    Received,
    /// The provider refused the refund: nothing moved; retry.
    RefundFailed,
    Refunded,
}

use ReturnState::*;

const fn edge(from: ReturnState, to: ReturnState, by: Roles) -> Edge<ReturnState> {
    Edge { from, to, by }
}

impl Machine for ReturnState {
    const EDGES: &'static [Edge<ReturnState>] = &[
        edge(Requested, Received, Roles::OPERATIONS),
        edge(Received, Refunded, Roles::OPERATIONS),
        edge(Received, RefundFailed, Roles::OPERATIONS),
        edge(RefundFailed, Refunded, Roles::OPERATIONS),
        edge(RefundFailed, RefundFailed, Roles::OPERATIONS),
    ];

    fn name(self) -> &'static str {
        match self {
            Requested => "requested",
            Received => "received",
            RefundFailed => "refund_failed",
            Refunded => "refunded",
        }
    }
}

impl ReturnState {
    pub const ALL: [ReturnState; 4] = [Requested, Received, RefundFailed, Refunded];

    pub fn parse(name: &str) -> Option<ReturnState> {
        ReturnState::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether the refund is still to be made (received, or refused before).
    pub fn refund_due(self) -> bool {
        matches!(self, Received | RefundFailed)
    }
}

/// What the receiving location does with a returned unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Back on the shelf at the receiving location, available at once.
    Restock,
    /// Not sellable: written off, not restocked.
    Damaged,
}

impl Disposition {
    pub fn parse(name: &str) -> Option<Disposition> {
        match name {
            "restock" => Some(Disposition::Restock),
            "damaged" => Some(Disposition::Damaged),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Disposition::Restock => "restock",
            Disposition::Damaged => "damaged",
        }
    }
}

/// One order line as a return sees it: the line, how many of its units reached the shopper,
/// and how many earlier returns already claim.
#[derive(Clone, Copy, Debug)]
pub struct LineFacts<'a> {
    pub line: &'a QuoteLine,
    /// Units delivered or collected (0 for a line that never ships: a service).
    pub fulfilled: u32,
    /// Units earlier returns of the order claim.
    pub returned: u32,
    /// Whether the line is goods the order ships (its SKU is in the delivery plan).
    pub goods: bool,
}

/// A shopper's ask: `quantity` units of order line `line` (its index), because `reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asked {
    pub line: usize,
    pub quantity: u32,
    pub reason: String,
}

/// One line of a return.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    /// The order line's index.
    pub line: usize,
    pub sku: Sku,
    pub quantity: u32,
    pub reason: String,
    /// The line's share refunded for these units (tax included).
    pub refund: Money,
    /// The tax in `refund`.
    pub tax: Money,
    /// A service following its item: refunded, never received or restocked.
    pub service: bool,
    /// Set when received.
    #[serde(default)]
    pub disposition: Option<Disposition>,
}

/// Why a return was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error("a return names at least one line, and at most {MAX_RETURN_LINES}")]
    NoLines,
    #[error("the order has no line {0}")]
    UnknownLine(usize),
    #[error("line {line} is asked for twice")]
    LineTwice { line: usize },
    #[error("line {line}: a return of 0 units")]
    ZeroQuantity { line: usize },
    #[error(
        "line {line}: {asked} asked, {returnable} can be returned (delivered and not returned)"
    )]
    NotReturnable {
        line: usize,
        asked: u32,
        returnable: u32,
    },
    #[error("a reason is needed, at most {MAX_REASON_CHARS} characters")]
    InvalidReason { line: usize },
    #[error("line {0} is not in this return")]
    NotInReturn(usize),
    #[error("every goods line of the return needs a disposition")]
    DispositionMissing,
}

impl omnicart_engine::ErrorCode for ReturnError {
    fn code(&self) -> &'static str {
        match self {
            ReturnError::Order(e) => e.code(),
            ReturnError::NoLines => "invalid_return",
            ReturnError::UnknownLine(_) | ReturnError::NotInReturn(_) => "unknown_line",
            ReturnError::LineTwice { .. } | ReturnError::ZeroQuantity { .. } => "invalid_return",
            ReturnError::NotReturnable { .. } => "not_returnable",
            ReturnError::InvalidReason { .. } => "invalid_return",
            ReturnError::DispositionMissing => "disposition_missing",
        }
    }
}

/// A return. Only its methods change it, each checked against the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    state: ReturnState,
    lines: Vec<ReturnLine>,
    /// The delivery charge refunded with it (zero unless it sends the last goods back).
    delivery: Money,
    /// What is refunded: the lines' refunds plus `delivery`.
    total: Money,
    /// Where it was received.
    location: Option<String>,
    history: Vec<Record<ReturnState>>,
}

/// Units `from … from + count − 1` of `amount` split over `units` by the engine's largest
/// remainder (equal weights, keyed by position): see the module docs.
pub fn units_share(amount: Money, units: u32, from: u32, count: u32) -> Money {
    assert!(from + count <= units, "units within the line");
    let keys: Vec<String> = (0..units).map(|i| format!("{i:04}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let weights = vec![rust_decimal::Decimal::ONE; units as usize];
    let currency = amount.currency();
    let parts = allocate(amount.amount(), &weights, &keys, currency.minor_units());
    let sum = parts[from as usize..(from + count) as usize].iter().sum();
    Money::new(sum, currency).expect("a part of an amount")
}

impl Return {
    /// The shopper's return of `asked` over the order's `lines` (all of them, by index), and
    /// the order's delivery charge: checked, and priced by the module's rule.
    pub fn request(
        lines: &[LineFacts<'_>],
        delivery: Money,
        asked: &[Asked],
        request: Request,
    ) -> Result<Return, ReturnError> {
        if asked.is_empty() || asked.len() > MAX_RETURN_LINES {
            return Err(ReturnError::NoLines);
        }
        let mut now_returned: Vec<u32> = lines.iter().map(|l| l.returned).collect();
        let mut out = Vec::new();
        for (i, a) in asked.iter().enumerate() {
            let facts = lines.get(a.line).ok_or(ReturnError::UnknownLine(a.line))?;
            check_ask(facts, a, &asked[..i])?;
            out.push(line_of(
                facts,
                a.line,
                (facts.returned, a.quantity),
                &a.reason,
                false,
            ));
            now_returned[a.line] += a.quantity;
            // The services attached to this item follow it.
            for (j, s) in lines.iter().enumerate() {
                if s.line.attached_to.as_ref() == Some(&facts.line.sku) && facts.goods {
                    let left = s.line.quantity.get().saturating_sub(now_returned[j]);
                    let q = a.quantity.min(left);
                    if q > 0 {
                        out.push(line_of(s, j, (now_returned[j], q), "with its item", true));
                        now_returned[j] += q;
                    }
                }
            }
        }
        let whole = lines.iter().zip(&now_returned).all(|(l, n)| {
            !(l.goods && !l.line.gift && l.line.attached_to.is_none())
                || *n >= l.line.quantity.get()
        });
        let was_whole_before = lines.iter().all(|l| {
            !(l.goods && !l.line.gift && l.line.attached_to.is_none())
                || l.returned >= l.line.quantity.get()
        });
        let currency = delivery.currency();
        let delivery = if whole && !was_whole_before {
            delivery
        } else {
            Money::zero(currency)
        };
        let total = out
            .iter()
            .try_fold(delivery, |sum, l| sum.checked_add(l.refund))
            .map_err(|_| OrderError::InvalidAmount("a refund past the amount limit".into()))?;
        Ok(Return {
            state: Requested,
            lines: out,
            delivery,
            total,
            location: None,
            history: vec![request.record(Requested, Requested)],
        })
    }

    pub fn state(&self) -> ReturnState {
        self.state
    }

    pub fn lines(&self) -> &[ReturnLine] {
        &self.lines
    }

    pub fn delivery(&self) -> Money {
        self.delivery
    }

    pub fn total(&self) -> Money {
        self.total
    }

    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    pub fn history(&self) -> &[Record<ReturnState>] {
        &self.history
    }

    /// Received at `location`, each goods line with its disposition (`(order line index,
    /// disposition)`); a return already received is unchanged (`Ok(false)`: a replay).
    pub fn receive(
        &mut self,
        location: &str,
        dispositions: &[(usize, Disposition)],
        request: Request,
    ) -> Result<bool, ReturnError> {
        if self.state != Requested {
            return Ok(false);
        }
        ReturnState::check(Requested, Received, request.actor.role)?;
        let mut lines = self.lines.clone();
        for (index, disposition) in dispositions {
            let line = lines
                .iter_mut()
                .find(|l| l.line == *index && !l.service)
                .ok_or(ReturnError::NotInReturn(*index))?;
            line.disposition = Some(*disposition);
        }
        if lines.iter().any(|l| !l.service && l.disposition.is_none()) {
            return Err(ReturnError::DispositionMissing);
        }
        self.lines = lines;
        self.location = Some(location.to_owned());
        self.move_to(Received, request)
    }

    /// The provider refunded [`Return::total`] (or there was nothing to refund).
    pub fn refunded(&mut self, request: Request) -> Result<bool, ReturnError> {
        if self.state == Refunded {
            return Ok(false);
        }
        self.move_to(Refunded, request)
    }

    /// The provider refused the refund: nothing moved.
    pub fn refund_failed(&mut self, request: Request) -> Result<bool, ReturnError> {
        self.move_to(RefundFailed, request)
    }

    fn move_to(&mut self, to: ReturnState, request: Request) -> Result<bool, ReturnError> {
        ReturnState::check(self.state, to, request.actor.role)?;
        self.history.push(request.record(self.state, to));
        self.state = to;
        Ok(true)
    }
}

fn check_ask(facts: &LineFacts<'_>, a: &Asked, before: &[Asked]) -> Result<(), ReturnError> {
    if before.iter().any(|b| b.line == a.line) {
        return Err(ReturnError::LineTwice { line: a.line });
    }
    if a.quantity == 0 {
        return Err(ReturnError::ZeroQuantity { line: a.line });
    }
    let reason = a.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ReturnError::InvalidReason { line: a.line });
    }
    let returnable = if facts.goods && facts.line.attached_to.is_none() {
        facts
            .fulfilled
            .min(facts.line.quantity.get())
            .saturating_sub(facts.returned)
    } else {
        0
    };
    if a.quantity > returnable {
        return Err(ReturnError::NotReturnable {
            line: a.line,
            asked: a.quantity,
            returnable,
        });
    }
    Ok(())
}

/// The return line of `units.1` units of order line `index` after `units.0` returned before.
fn line_of(
    facts: &LineFacts<'_>,
    index: usize,
    (from, quantity): (u32, u32),
    reason: &str,
    service: bool,
) -> ReturnLine {
    let units = facts.line.quantity.get();
    ReturnLine {
        line: index,
        sku: facts.line.sku.clone(),
        quantity,
        reason: reason.trim().to_owned(),
        refund: units_share(facts.line.total, units, from, quantity),
        tax: units_share(facts.line.tax, units, from, quantity),
        service,
        disposition: None,
    }
}

#[cfg(test)]
mod tests {
    use omnicart_engine::{Currency, Timestamp};
    use proptest::prelude::*;

    use super::*;
    use crate::machine::{Actor, Role};

    fn eur(minor: i64) -> Money {
        Money::from_minor(minor, Currency::EUR)
    }

    /// A line as the engine stores it; only `total`, `tax`, the quantity and the attachment
    /// matter to a return.
    fn line(
        sku: &str,
        quantity: u32,
        total: i64,
        tax: i64,
        attached_to: Option<&str>,
    ) -> QuoteLine {
        let m = |minor: i64| serde_json::to_value(eur(minor)).unwrap();
        serde_json::from_value(serde_json::json!({
            "sku": sku, "product_id": sku, "name": sku, "quantity": quantity,
            "unit_price": m(total), "gross": m(total), "adjustments": [], "net": m(total),
            "order_discount": m(0), "tax": m(tax), "total": m(total), "gift": false,
            "attached_to": attached_to,
        }))
        .unwrap()
    }

    fn facts(lines: &[QuoteLine], returned: &[u32]) -> Vec<LineFacts<'static>> {
        let lines: &'static [QuoteLine] = Box::leak(lines.to_vec().into_boxed_slice());
        lines
            .iter()
            .zip(returned)
            .map(|(l, r)| LineFacts {
                line: l,
                fulfilled: l.quantity.get(),
                returned: *r,
                goods: l.attached_to.is_none(),
            })
            .collect()
    }

    fn shopper() -> Request {
        Request::new(
            Actor::new(Role::Customer, "cus_1"),
            Timestamp::from_unix(1),
            "",
        )
    }

    fn ask(line: usize, quantity: u32) -> Asked {
        Asked {
            line,
            quantity,
            reason: "too big".into(),
        }
    }

    #[test]
    fn units_share_gives_the_odd_cents_to_the_first_units_and_sums_to_the_total() {
        // 100.00 over 3 units: 33.34, 33.33, 33.33.
        assert_eq!(units_share(eur(10_000), 3, 0, 1), eur(3_334));
        assert_eq!(units_share(eur(10_000), 3, 1, 1), eur(3_333));
        assert_eq!(units_share(eur(10_000), 3, 1, 2), eur(6_666));
        assert_eq!(units_share(eur(10_000), 3, 0, 3), eur(10_000));
    }

    #[test]
    fn delivery_is_refunded_only_with_the_last_goods_and_services_follow_their_item() {
        let lines = [
            line("TV", 2, 200_001, 31_933, None),
            line("INSTALL", 2, 15_800, 2_523, Some("TV")),
            line("CABLE", 1, 1_999, 319, None),
        ];
        let delivery = eur(499);
        let first = Return::request(
            &facts(&lines, &[0, 0, 0]),
            delivery,
            &[ask(0, 1)],
            shopper(),
        )
        .unwrap();
        // One TV of two: the first unit takes the odd cent; one installation follows it.
        assert_eq!(first.lines()[0].refund, eur(100_001));
        assert_eq!(first.lines()[1].refund, eur(7_900));
        assert!(first.lines()[1].service);
        assert_eq!(first.delivery(), eur(0));
        assert_eq!(first.total(), eur(107_901));
        let rest = Return::request(
            &facts(&lines, &[1, 1, 0]),
            delivery,
            &[ask(0, 1), ask(2, 1)],
            shopper(),
        )
        .unwrap();
        assert_eq!(
            rest.delivery(),
            delivery,
            "the last goods bring the delivery back"
        );
        let charged = 200_001 + 15_800 + 1_999 + 499;
        assert_eq!(
            first.total().to_minor().unwrap() + rest.total().to_minor().unwrap(),
            charged
        );
    }

    #[test]
    fn more_than_delivered_and_not_returned_is_refused() {
        let lines = [
            line("TV", 2, 200_000, 0, None),
            line("INSTALL", 2, 100, 0, Some("TV")),
        ];
        let mut f = facts(&lines, &[1, 0]);
        let err = Return::request(&f, eur(0), &[ask(0, 2)], shopper()).unwrap_err();
        assert_eq!(
            err,
            ReturnError::NotReturnable {
                line: 0,
                asked: 2,
                returnable: 1
            }
        );
        f[0].fulfilled = 0;
        f[0].returned = 0;
        let err = Return::request(&f, eur(0), &[ask(0, 1)], shopper()).unwrap_err();
        assert_eq!(
            omnicart_engine::ErrorCode::code(&err),
            "not_returnable",
            "not delivered yet"
        );
        let err =
            Return::request(&facts(&lines, &[0, 0]), eur(0), &[ask(1, 1)], shopper()).unwrap_err();
        assert!(
            matches!(err, ReturnError::NotReturnable { line: 1, .. }),
            "a service alone"
        );
        let err =
            Return::request(&facts(&lines, &[0, 0]), eur(0), &[ask(5, 1)], shopper()).unwrap_err();
        assert_eq!(err, ReturnError::UnknownLine(5));
        let twice = [ask(0, 1), ask(0, 1)];
        let err = Return::request(&facts(&lines, &[0, 0]), eur(0), &twice, shopper()).unwrap_err();
        assert_eq!(err, ReturnError::LineTwice { line: 0 });
        let mut no_reason = ask(0, 1);
        no_reason.reason = "  ".into();
        let err =
            Return::request(&facts(&lines, &[0, 0]), eur(0), &[no_reason], shopper()).unwrap_err();
        assert_eq!(err, ReturnError::InvalidReason { line: 0 });
    }

    #[test]
    fn the_machine_receives_once_and_refunds_after_a_failure_once() {
        let lines = [line("TV", 1, 1_000, 0, None)];
        let staff = || Request::new(Actor::new(Role::Staff, "wms"), Timestamp::from_unix(2), "");
        let mut r = Return::request(&facts(&lines, &[0]), eur(0), &[ask(0, 1)], shopper()).unwrap();
        assert!(
            r.refunded(staff()).is_err(),
            "nothing refunds before receipt"
        );
        assert_eq!(
            r.receive("loc", &[], staff()),
            Err(ReturnError::DispositionMissing)
        );
        assert_eq!(r.state(), Requested, "a refused receipt changes nothing");
        assert_eq!(
            r.receive("loc", &[(0, Disposition::Restock)], staff()),
            Ok(true)
        );
        assert_eq!(
            r.receive("elsewhere", &[(0, Disposition::Damaged)], staff()),
            Ok(false)
        );
        assert_eq!(r.location(), Some("loc"));
        assert_eq!(r.lines()[0].disposition, Some(Disposition::Restock));
        assert_eq!(r.refund_failed(staff()), Ok(true));
        assert_eq!(r.refunded(staff()), Ok(true));
        assert_eq!(
            r.refunded(staff()),
            Ok(false),
            "a second refund is a replay"
        );
        assert!(r.refund_failed(staff()).is_err());
        let customer = Return::request(&facts(&lines, &[0]), eur(0), &[ask(0, 1)], shopper())
            .unwrap()
            .receive("loc", &[(0, Disposition::Restock)], shopper());
        assert!(
            customer.is_err(),
            "a shopper does not receive their own return"
        );
    }

    proptest! {
        /// However a line's units come back (any split into returns), the refunds add up to
        /// the line's total and tax exactly, and each unit is refunded its share rounded down
        /// or up, never more.
        #[test]
        fn returning_every_unit_in_any_split_refunds_the_line_exactly(
            total in 0i64..5_000_000,
            tax_permille in 0i64..200,
            quantity in 1u32..40,
            cuts in proptest::collection::vec(1u32..6, 1..40),
        ) {
            let tax = total * tax_permille / 1000;
            let lines = [line("X", quantity, total, tax, None)];
            let (mut returned, mut refunded, mut taxed) = (0u32, 0i64, 0i64);
            for cut in cuts.iter().copied().chain(std::iter::repeat(quantity)) {
                let q = cut.min(quantity - returned);
                if q == 0 { break; }
                let r = Return::request(&facts(&lines, &[returned]), eur(0), &[ask(0, q)], shopper())
                    .unwrap();
                let part = r.total().to_minor().unwrap();
                let n = i64::from(quantity);
                let (low, high) = (total / n * i64::from(q), (total + n - 1) / n * i64::from(q));
                prop_assert!(low <= part && part <= high, "{} not within {}..={}", part, low, high);
                refunded += part;
                taxed += r.lines()[0].tax.to_minor().unwrap();
                returned += q;
            }
            prop_assert_eq!(refunded, total);
            prop_assert_eq!(taxed, tax);
        }
    }
}
