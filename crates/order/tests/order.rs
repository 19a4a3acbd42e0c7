//! The order aggregate: placement from a quote, the stock it demands, the shopper's cancel.

use omnicart_engine::{Cart, CartOp, Quantity, QuoteContext, Sku, Snapshot, Timestamp, quote};
use omnicart_order::{
    Actor, Contact, Fulfilment, Order, OrderNumber, OrderState, PaymentState, Placement,
    PlannedLine, PlannedShipment, Request, Role, StockDemand,
};

fn shipment(location: &str, lines: &[(&str, u32)]) -> PlannedShipment {
    PlannedShipment {
        location: location.into(),
        location_name: location.into(),
        lines: lines
            .iter()
            .map(|(sku, quantity)| PlannedLine {
                sku: Sku::new(sku).unwrap(),
                quantity: *quantity,
            })
            .collect(),
        ships_on: "2026-11-24".into(),
        earliest: Timestamp::from_unix(0),
        latest: Timestamp::from_unix(0),
        label: String::new(),
    }
}

#[test]
fn demand_sums_the_lines_drawing_on_one_stock_record_and_sorts_them() {
    let shipments = [
        shipment("wh-b", &[("TV-1", 1), ("CABLE", 2)]),
        shipment("wh-a", &[("TV-1", 1)]),
        shipment("wh-b", &[("TV-1", 2)]),
    ];
    let demand: Vec<(String, String, u32)> = StockDemand::of(&shipments)
        .into_iter()
        .map(|d| (d.location, d.sku.to_string(), d.quantity))
        .collect();
    assert_eq!(
        demand,
        [
            ("wh-a".into(), "TV-1".into(), 1),
            ("wh-b".into(), "CABLE".into(), 2),
            ("wh-b".into(), "TV-1".into(), 3),
        ]
    );
}

fn placed() -> Order {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../server/data/demo-catalogue.json"
    );
    let snapshot = Snapshot::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut cart = Cart::new();
    let add = CartOp::Add {
        sku: Sku::new("PS5-SLIM-DISC").unwrap(),
        quantity: Quantity::new(2).unwrap(),
    };
    cart.apply(&snapshot, &add).unwrap();
    let quote = quote(&snapshot, &cart, &QuoteContext::default()).unwrap();
    Order::place(Placement {
        number: OrderNumber::from_seed(42),
        customer_id: Some("cus_1".into()),
        contact: Contact {
            email: "mike@example.com".into(),
            name: "Mike".into(),
            phone: None,
        },
        shipping_address: None,
        fulfilment: Fulfilment {
            level: None,
            pickup_location: Some("store-1".into()),
            shipments: vec![shipment("store-1", &[("PS5-SLIM-DISC", 2)])],
        },
        quote,
        provider: "test".into(),
        payment_key: "att_1".into(),
        at: Timestamp::from_unix(1_800_000_000),
    })
    .unwrap()
}

fn by(role: Role) -> Request {
    Request::new(
        Actor::new(role, "x"),
        Timestamp::from_unix(1_800_000_100),
        "asked",
    )
}

#[test]
fn a_placed_order_holds_the_quote_and_an_authorized_payment_of_its_total() {
    let order = placed();
    assert_eq!(order.status.state(), OrderState::Placed);
    assert_eq!(order.payment.state(), PaymentState::Authorized);
    assert_eq!(order.payment.authorized(), order.totals.total);
    assert_eq!(order.item_count, 2);
    assert_eq!(order.lines.iter().filter(|l| !l.gift).count(), 1);
}

#[test]
fn the_order_keeps_each_lines_tax_rate_and_its_tax_lines_are_the_quotes() {
    let order = placed();
    let taxes = order.tax_lines().unwrap();
    assert_eq!(taxes.len(), 1, "{taxes:?}");
    assert_eq!(taxes[0].rate.to_string(), "0.19");
    assert_eq!(taxes[0].tax, order.totals.tax_total);
    let body = serde_json::to_value(&order).unwrap();
    let again: Order = serde_json::from_value(body).unwrap();
    assert_eq!(again, order);
}

#[test]
fn an_order_stored_before_lines_carried_their_tax_rate_still_reads() {
    let order = placed();
    let mut body = serde_json::to_value(&order).unwrap();
    for line in body["lines"].as_array_mut().unwrap() {
        line.as_object_mut().unwrap().remove("tax_rate").unwrap();
    }
    let old: Order = serde_json::from_value(body).unwrap();
    assert!(old.lines.iter().all(|l| l.tax_rate.is_zero()));
    assert_eq!(old.totals, order.totals);
    assert_eq!(old.tax_lines().unwrap()[0].tax, order.totals.tax_total);
}

#[test]
fn the_shopper_cancels_before_fulfilment_and_the_authorization_is_voided_once() {
    let mut order = placed();
    order.cancel(by(Role::Customer), "void_1").unwrap();
    assert_eq!(order.status.state(), OrderState::Cancelled);
    assert_eq!(order.payment.state(), PaymentState::Voided);
    let recorded = order.status.history().last().unwrap();
    assert_eq!(
        (recorded.from, recorded.to),
        (OrderState::Placed, OrderState::Cancelled)
    );
    assert!(
        order.cancel(by(Role::Customer), "void_1").is_err(),
        "cancelled is final"
    );
}

#[test]
fn the_shopper_cannot_cancel_once_in_fulfilment_and_nothing_changes() {
    let mut order = placed();
    order
        .status
        .transition(OrderState::Confirmed, by(Role::System))
        .unwrap();
    order
        .status
        .transition(OrderState::InFulfilment, by(Role::System))
        .unwrap();
    let before = order.clone();
    assert!(order.cancel(by(Role::Customer), "void_1").is_err());
    assert_eq!(order, before);
}
