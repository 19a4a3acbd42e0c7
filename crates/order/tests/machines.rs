//! The order and payment machines: what the tables allow, who may, what is recorded.

use omnicart_engine::{Currency, ErrorCode, Money, Timestamp};
use omnicart_order::{
    Actor, EntryKind, Machine, OrderError, OrderNumber, OrderState, OrderStatus, Outcome, Payment,
    PaymentState, Request, Role,
};
use proptest::prelude::*;

const ORDER_STATES: [OrderState; 11] = [
    OrderState::Placed,
    OrderState::Confirmed,
    OrderState::InFulfilment,
    OrderState::PartiallyShipped,
    OrderState::Shipped,
    OrderState::ReadyForPickup,
    OrderState::Delivered,
    OrderState::Collected,
    OrderState::Completed,
    OrderState::Cancelled,
    OrderState::OnHold,
];

fn at(second: i64) -> Timestamp {
    Timestamp::from_unix(1_790_000_000 + second)
}

fn by(role: Role) -> Request {
    Request::new(Actor::new(role, format!("{role:?}-1")), at(60), "test")
}

fn eur(text: &str) -> Money {
    Money::parse(text, Currency::from_code("EUR").unwrap()).unwrap()
}

fn code(result: Result<impl std::fmt::Debug, OrderError>) -> &'static str {
    result.expect_err("refused").code()
}

#[test]
fn every_state_is_reachable_and_only_completed_and_cancelled_are_final() {
    let mut reached = vec![OrderState::Placed];
    while let Some(new) = OrderState::EDGES
        .iter()
        .find(|e| reached.contains(&e.from) && !reached.contains(&e.to))
    {
        reached.push(new.to);
    }
    for state in ORDER_STATES {
        assert!(reached.contains(&state), "{state:?} cannot be reached");
        let final_ = matches!(state, OrderState::Completed | OrderState::Cancelled);
        assert_eq!(state.is_final(), final_, "{state:?}");
    }
    let names: std::collections::HashSet<_> = ORDER_STATES.iter().map(|s| s.name()).collect();
    assert_eq!(names.len(), ORDER_STATES.len(), "names are distinct");
}

#[test]
fn wire_names_are_the_serde_names() {
    for state in ORDER_STATES {
        assert_eq!(serde_json::to_value(state).unwrap(), state.name());
    }
}

#[test]
fn a_customer_cancels_only_before_fulfilment() {
    for (path, allowed) in [
        (&[][..], true),
        (&[OrderState::Confirmed][..], true),
        (
            &[OrderState::Confirmed, OrderState::InFulfilment][..],
            false,
        ),
    ] {
        let mut status = OrderStatus::placed(by(Role::Customer));
        for &step in path {
            status.transition(step, by(Role::System)).unwrap();
        }
        assert_eq!(status.customer_may_cancel(), allowed, "{path:?}");
        let result = status
            .clone()
            .transition(OrderState::Cancelled, by(Role::Customer));
        match allowed {
            true => assert!(result.is_ok(), "{path:?}"),
            false => assert_eq!(code(result), "transition_forbidden", "{path:?}"),
        }
        assert!(
            status
                .transition(OrderState::Cancelled, by(Role::Staff))
                .is_ok()
        );
    }
}

#[test]
fn a_customer_cannot_move_an_order_forward() {
    let mut status = OrderStatus::placed(by(Role::Customer));
    assert_eq!(
        code(status.transition(OrderState::Confirmed, by(Role::Customer))),
        "transition_forbidden"
    );
    assert_eq!(status.state(), OrderState::Placed);
}

#[test]
fn transitions_outside_the_table_are_refused_and_change_nothing() {
    let mut status = OrderStatus::placed(by(Role::Customer));
    for to in [
        OrderState::Shipped,
        OrderState::Delivered,
        OrderState::Completed,
        OrderState::Placed,
    ] {
        assert_eq!(
            code(status.transition(to, by(Role::Staff))),
            "invalid_transition",
            "{to:?}"
        );
    }
    status
        .transition(OrderState::Cancelled, by(Role::Staff))
        .unwrap();
    for to in ORDER_STATES {
        assert_eq!(
            code(status.transition(to, by(Role::Staff))),
            "invalid_transition",
            "{to:?}"
        );
    }
    assert_eq!(status.history().len(), 2);
}

#[test]
fn an_order_on_hold_goes_back_where_it_was() {
    let mut status = OrderStatus::placed(by(Role::Customer));
    status
        .transition(OrderState::Confirmed, by(Role::System))
        .unwrap();
    status
        .transition(OrderState::OnHold, by(Role::Staff))
        .unwrap();
    let refused = status.transition(OrderState::InFulfilment, by(Role::Staff));
    assert_eq!(code(refused), "invalid_transition");
    assert_eq!(
        code(status.transition(OrderState::Placed, by(Role::Staff))),
        "invalid_transition"
    );
    status
        .transition(OrderState::Confirmed, by(Role::Staff))
        .unwrap();
    status
        .transition(OrderState::InFulfilment, by(Role::System))
        .unwrap();
    assert_eq!(status.state(), OrderState::InFulfilment);
}

#[test]
fn every_transition_is_recorded_with_who_when_and_why() {
    let mut status = OrderStatus::placed(Request::new(
        Actor::new(Role::Customer, "cus_1"),
        at(0),
        "checkout",
    ));
    let agent = Actor::new(Role::Staff, "staff_7");
    status
        .transition(
            OrderState::Confirmed,
            Request::new(agent.clone(), at(90), "confirmed on the phone"),
        )
        .unwrap();
    let history = status.history();
    assert_eq!(history.len(), 2);
    assert_eq!(
        (history[0].to, history[0].actor.id.as_str()),
        (OrderState::Placed, "cus_1")
    );
    let last = &history[1];
    assert_eq!(
        (last.from, last.to),
        (OrderState::Placed, OrderState::Confirmed)
    );
    assert_eq!(
        (&last.actor, last.at, last.reason.as_str()),
        (&agent, at(90), "confirmed on the phone")
    );
    let text = serde_json::to_string(&status).unwrap();
    assert_eq!(serde_json::from_str::<OrderStatus>(&text).unwrap(), status);
}

fn authorized(total: &str) -> Payment {
    let mut payment = Payment::pending(eur(total)).unwrap();
    payment.authorize("auth", by(Role::System)).unwrap();
    payment
}

#[test]
fn a_payment_is_captured_per_shipment_and_refunded_in_parts() {
    let mut payment = authorized("100.00");
    assert_eq!(
        payment.capture(eur("40.00"), "ship-1", by(Role::System)),
        Ok(Outcome::Applied)
    );
    assert_eq!(payment.state(), PaymentState::PartiallyCaptured);
    payment
        .capture(eur("60.00"), "ship-2", by(Role::System))
        .unwrap();
    assert_eq!(
        (payment.state(), payment.capturable()),
        (PaymentState::Captured, eur("0.00"))
    );
    payment
        .refund(eur("10.00"), "return-1", by(Role::Staff))
        .unwrap();
    assert_eq!(
        (payment.state(), payment.refundable()),
        (PaymentState::PartiallyRefunded, eur("90.00"))
    );
    payment
        .refund(eur("90.00"), "return-2", by(Role::Staff))
        .unwrap();
    assert_eq!(payment.state(), PaymentState::Refunded);
    assert!(payment.state().is_final());
}

#[test]
fn money_moves_once_per_key() {
    let mut payment = authorized("100.00");
    for _ in 0..3 {
        let outcome = payment.capture(eur("40.00"), "ship-1", by(Role::System));
        assert!(outcome.is_ok());
    }
    assert_eq!(payment.captured(), eur("40.00"));
    assert_eq!(
        payment.capture(eur("40.00"), "ship-1", by(Role::System)),
        Ok(Outcome::Replayed)
    );
    assert_eq!(
        code(payment.capture(eur("41.00"), "ship-1", by(Role::System))),
        "idempotency_mismatch"
    );
    assert_eq!(
        code(payment.refund(eur("40.00"), "ship-1", by(Role::System))),
        "idempotency_mismatch"
    );
    assert_eq!(
        payment
            .entries()
            .iter()
            .filter(|e| e.kind == EntryKind::Capture)
            .count(),
        1
    );
}

#[test]
fn more_than_is_there_cannot_move() {
    let mut payment = authorized("100.00");
    assert_eq!(
        code(payment.capture(eur("100.01"), "c", by(Role::System))),
        "over_capture"
    );
    assert_eq!(
        code(payment.refund(eur("0.01"), "r", by(Role::System))),
        "over_refund"
    );
    assert_eq!(
        code(payment.capture(eur("0.00"), "z", by(Role::System))),
        "invalid_amount"
    );
    assert_eq!(
        code(payment.capture(eur("-1.00"), "n", by(Role::System))),
        "invalid_amount"
    );
    let usd = Money::parse("1.00", Currency::from_code("USD").unwrap()).unwrap();
    assert_eq!(
        code(payment.capture(usd, "u", by(Role::System))),
        "currency_mismatch"
    );
    assert_eq!(payment.entries().len(), 1, "only the authorization");
}

#[test]
fn a_void_releases_what_is_not_captured() {
    let mut untouched = authorized("100.00");
    untouched.void("void", by(Role::System)).unwrap();
    assert_eq!(untouched.state(), PaymentState::Voided);
    assert_eq!(
        code(untouched.capture(eur("1.00"), "late", by(Role::System))),
        "over_capture"
    );

    let mut partly = authorized("100.00");
    partly
        .capture(eur("30.00"), "ship-1", by(Role::System))
        .unwrap();
    partly.void("void", by(Role::System)).unwrap();
    assert_eq!(
        (partly.state(), partly.authorized()),
        (PaymentState::Captured, eur("30.00"))
    );
    assert_eq!(partly.void("void", by(Role::System)), Ok(Outcome::Replayed));
    assert_eq!(
        code(partly.void("void-2", by(Role::System))),
        "invalid_transition"
    );
}

#[test]
fn a_declined_or_timed_out_payment_moves_no_money() {
    let mut declined = Payment::pending(eur("50.00")).unwrap();
    declined.fail("auth", by(Role::System)).unwrap();
    assert_eq!(declined.state(), PaymentState::Failed);
    assert_eq!(
        code(declined.authorize("auth-2", by(Role::System))),
        "invalid_transition"
    );
    let mut timed_out = Payment::pending(eur("50.00")).unwrap();
    timed_out.void("sweep", by(Role::System)).unwrap();
    assert_eq!(timed_out.state(), PaymentState::Voided);
    assert_eq!(code(Payment::pending(eur("0.00"))), "invalid_amount");
}

#[test]
fn an_edit_holds_more_or_releases_part_of_the_hold_once_per_key() {
    let mut payment = authorized("100.00");
    payment
        .increment(eur("25.00"), "edit-1", by(Role::Staff))
        .unwrap();
    assert_eq!(
        payment.increment(eur("25.00"), "edit-1", by(Role::Staff)),
        Ok(Outcome::Replayed)
    );
    assert_eq!(
        (payment.state(), payment.capturable()),
        (PaymentState::Authorized, eur("125.00"))
    );
    payment
        .capture(eur("60.00"), "ship-1", by(Role::System))
        .unwrap();
    // Only what is not captured can be released.
    assert_eq!(
        code(payment.release(eur("65.01"), "edit-2", by(Role::Staff))),
        "over_capture"
    );
    payment
        .release(eur("25.00"), "edit-2", by(Role::Staff))
        .unwrap();
    assert_eq!(
        code(payment.release(eur("1.00"), "edit-2", by(Role::Staff))),
        "idempotency_mismatch"
    );
    assert_eq!(
        (payment.state(), payment.authorized(), payment.capturable()),
        (PaymentState::PartiallyCaptured, eur("100.00"), eur("40.00"))
    );
    payment
        .release(eur("40.00"), "edit-3", by(Role::Staff))
        .unwrap();
    assert_eq!(payment.state(), PaymentState::Captured);
    // A fully captured payment can still hold more for an edit.
    payment
        .increment(eur("5.00"), "edit-4", by(Role::Staff))
        .unwrap();
    assert_eq!(payment.state(), PaymentState::PartiallyCaptured);
    let mut voided = authorized("10.00");
    voided.void("void", by(Role::System)).unwrap();
    assert_eq!(
        code(voided.increment(eur("1.00"), "edit", by(Role::Staff))),
        "invalid_transition"
    );
    // Partly captured, then voided: captured in state, but its hold is given up.
    let mut partly = authorized("10.00");
    partly
        .capture(eur("4.00"), "ship", by(Role::System))
        .unwrap();
    partly.void("void", by(Role::System)).unwrap();
    assert_eq!(partly.state(), PaymentState::Captured);
    assert_eq!(
        code(partly.increment(eur("1.00"), "edit", by(Role::Staff))),
        "invalid_transition"
    );
    assert_eq!(partly.capturable(), eur("0.00"));
}

#[derive(Clone, Debug)]
enum Step {
    Capture(i64, u8),
    Refund(i64, u8),
    Void(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1i64..6_000, 0u8..6).prop_map(|(c, k)| Step::Capture(c, k)),
        (1i64..6_000, 0u8..6).prop_map(|(c, k)| Step::Refund(c, k)),
        (0u8..6).prop_map(Step::Void),
    ]
}

proptest! {
    /// Whatever is asked, in whatever order: nothing is refunded that was not captured, nothing
    /// captured that was not authorized, the ledger adds up to the amounts, and every recorded
    /// transition is an edge of the table.
    #[test]
    fn the_ledger_always_adds_up(steps in proptest::collection::vec(step(), 0..30)) {
        let currency = Currency::from_code("EUR").unwrap();
        let cents = |c: i64| Money::from_minor(c, currency);
        let mut payment = authorized("100.00");
        for step in steps {
            let _ = match step {
                Step::Capture(c, k) => payment.capture(cents(c), &format!("k{k}"), by(Role::System)),
                Step::Refund(c, k) => payment.refund(cents(c), &format!("k{k}"), by(Role::Staff)),
                Step::Void(k) => payment.void(&format!("k{k}"), by(Role::System)),
            };
            let sum = |kind| payment.entries().iter().filter(|e| e.kind == kind).map(|e| e.amount.to_minor().unwrap()).sum::<i64>();
            let (captured, refunded) = (payment.captured().to_minor().unwrap(), payment.refunded().to_minor().unwrap());
            prop_assert!(0 <= refunded && refunded <= captured && captured <= payment.authorized().to_minor().unwrap());
            prop_assert!(payment.authorized().to_minor().unwrap() <= 10_000);
            prop_assert_eq!(sum(EntryKind::Capture), captured);
            prop_assert_eq!(sum(EntryKind::Refund), refunded);
            let keys: std::collections::HashSet<_> = payment.entries().iter().map(|e| e.key.as_str()).collect();
            prop_assert_eq!(keys.len(), payment.entries().len(), "one movement per key");
            for record in payment.history() {
                prop_assert!(PaymentState::EDGES.iter().any(|e| e.from == record.from && e.to == record.to));
            }
        }
    }

    /// A mistyped digit or two swapped neighbours never read as another order's number.
    #[test]
    fn typing_errors_are_caught(seed in any::<u64>(), at in 0usize..11, digit in 0u8..10) {
        let text: Vec<u8> = OrderNumber::from_seed(seed).to_string().bytes().filter(u8::is_ascii_digit).collect();
        let mut wrong = text.clone();
        wrong[at] = b'0' + digit;
        if wrong != text {
            prop_assert!(OrderNumber::parse(std::str::from_utf8(&wrong).unwrap()).is_err());
        }
        if at + 1 < text.len() && text[at] != text[at + 1] {
            let mut swapped = text.clone();
            swapped.swap(at, at + 1);
            prop_assert!(OrderNumber::parse(std::str::from_utf8(&swapped).unwrap()).is_err());
        }
    }
}
