//! Quotes the 200-line × 1,000-promotion benchmark cart a few times, for a profiler:
//! `valgrind --tool=callgrind target/release/examples/profile_quote`.

#[path = "../benches/data.rs"]
mod data;

fn main() {
    let snapshot: omnicart_engine::Snapshot = serde_json::from_value(data::snapshot(1_000)).unwrap();
    let cart: omnicart_engine::Cart = serde_json::from_value(data::cart(200)).unwrap();
    let context: omnicart_engine::QuoteContext = serde_json::from_value(data::context()).unwrap();
    for _ in 0..5 {
        std::hint::black_box(omnicart_engine::quote(&snapshot, &cart, &context).unwrap());
    }
}
