//! Quotes a benchmark cart a few times, for a profiler:
//! `valgrind --tool=callgrind target/release/examples/profile_quote [LINES PROMOTIONS]`
//! (default: the 200-line × 1,000-promotion case).

#[path = "../benches/data.rs"]
mod data;

fn main() {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .map_or(default, |a| a.parse().expect("a number"))
    };
    let (lines, promotions) = (arg(1, 200), arg(2, 1_000));
    let snapshot: omnicart_engine::Snapshot =
        serde_json::from_value(data::snapshot(promotions)).unwrap();
    let cart: omnicart_engine::Cart = serde_json::from_value(data::cart(lines)).unwrap();
    let context: omnicart_engine::QuoteContext = serde_json::from_value(data::context()).unwrap();
    for _ in 0..5 {
        std::hint::black_box(omnicart_engine::quote(&snapshot, &cart, &context).unwrap());
    }
}
