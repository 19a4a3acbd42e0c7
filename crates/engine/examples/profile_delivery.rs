//! Runs the product-page delivery case in a loop, for a profiler:
//! `valgrind --tool=callgrind target/release/examples/profile_delivery [lines] [rounds]`
//! (0 rounds measures the loading alone, to subtract).

#[path = "../benches/data.rs"]
mod data;

use omnicart_engine::{
    Cart, Destination, QuoteContext, Sku, Snapshot, Timestamp, find_in_store, quote_with_delivery,
};

fn main() {
    let lines: usize = std::env::args().nth(1).map_or(1, |a| a.parse().unwrap());
    let rounds: usize = std::env::args().nth(2).map_or(200, |a| a.parse().unwrap());
    let snapshot: Snapshot = serde_json::from_value(data::delivery_snapshot(300)).unwrap();
    let cart: Cart = serde_json::from_value(data::delivery_cart(lines)).unwrap();
    let to: Destination = serde_json::from_value(data::destination()).unwrap();
    let now = Timestamp::parse(data::DELIVERY_NOW).unwrap();
    let sku = Sku::new("SKU-1").unwrap();
    let mut n = 0;
    for _ in 0..rounds {
        n += quote_with_delivery(&snapshot, &cart, &QuoteContext::default(), &to, now)
            .unwrap()
            .1
            .options
            .len();
        n += find_in_store(&snapshot, &sku, &to, now).unwrap().len();
    }
    println!("{n}");
}
