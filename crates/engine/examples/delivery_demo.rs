//! Prints the demo catalogue's delivery options for a cart and a destination, as JSON.
//!
//!     cargo run -p omnicart-engine --features json --example delivery_demo -- 10115 2026-11-23T09:00:00Z LUM-OLED-C4-55:1 CBL-HDMI21-2M:2

use omnicart_engine::{
    Cart, CartOp, Destination, QuoteContext, Snapshot, Timestamp, quote_with_delivery,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let snapshot = Snapshot::from_json(include_str!("../../server/data/demo-catalogue.json"))
        .expect("demo catalogue");
    let destination = Destination::postcode(&args[0]);
    let now = Timestamp::parse(&args[1]).expect("now");
    let mut cart = Cart::new();
    for item in &args[2..] {
        let (sku, quantity) = item.split_once(':').expect("SKU:QUANTITY");
        let op: CartOp = serde_json::from_value(serde_json::json!({"op": "add", "sku": sku, "quantity": quantity.parse::<u32>().unwrap()})).unwrap();
        cart.apply(&snapshot, &op).expect("add");
    }
    let (quote, delivery) = quote_with_delivery(
        &snapshot,
        &cart,
        &QuoteContext::default(),
        &destination,
        now,
    )
    .expect("delivery");
    println!("total {}", quote.total);
    println!("{}", serde_json::to_string_pretty(&delivery).unwrap());
}
