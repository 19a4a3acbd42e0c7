//! The guest module: builds the benchmark snapshot and cart once (`setup`), then quotes them
//! (`quote_once`), so the host can meter the quote alone. The same for delivery
//! (`setup_delivery`, `delivery_once`). `tests/bench/engine.bench.mjs` times these exports in
//! Node: the engine in Wasm with no JS conversion, which is what the storefront runs.
#![allow(clippy::missing_safety_doc)]

#[path = "../../benches/data.rs"]
mod data;

use std::cell::RefCell;

use omnicart_engine::{
    Cart, Destination, QuoteContext, Sku, Snapshot, Timestamp, find_in_store, quote,
    quote_with_delivery,
};

thread_local! {
    static INPUT: RefCell<Option<(Snapshot, Cart, QuoteContext)>> = const { RefCell::new(None) };
    static DELIVERY: RefCell<Option<(Snapshot, Cart, Destination, Timestamp)>> = const { RefCell::new(None) };
}

/// Prepares `lines` lines against `promotions` promotions.
#[unsafe(no_mangle)]
pub extern "C" fn setup(lines: u32, promotions: u32) {
    let snapshot: Snapshot = serde_json::from_value(data::snapshot(promotions as usize)).unwrap();
    let cart: Cart = serde_json::from_value(data::cart(lines as usize)).unwrap();
    let context: QuoteContext = serde_json::from_value(data::context()).unwrap();
    INPUT.with(|i| *i.borrow_mut() = Some((snapshot, cart, context)));
}

/// Quotes the prepared cart; returns the number of applied promotions (so nothing is optimised away).
#[unsafe(no_mangle)]
pub extern "C" fn quote_once() -> u32 {
    INPUT.with(|i| {
        let input = i.borrow();
        let (snapshot, cart, context) = input.as_ref().expect("setup first");
        quote(snapshot, cart, context)
            .map(|q| q.applied.len() as u32)
            .unwrap_or(u32::MAX)
    })
}

/// Prepares the delivery benchmark: `locations` locations (30, 300 or 1,000), a `lines`-line cart.
#[unsafe(no_mangle)]
pub extern "C" fn setup_delivery(locations: u32, lines: u32) {
    let snapshot: Snapshot =
        serde_json::from_value(data::delivery_snapshot(locations as usize)).unwrap();
    let cart: Cart = serde_json::from_value(data::delivery_cart(lines as usize)).unwrap();
    let to: Destination = serde_json::from_value(data::destination()).unwrap();
    let now = Timestamp::parse(data::DELIVERY_NOW).unwrap();
    DELIVERY.with(|d| *d.borrow_mut() = Some((snapshot, cart, to, now)));
}

/// What the page computes: the quote with delivery options, and for a one-line cart (a
/// product page) also the stores that have it. Returns the number of options and stores.
#[unsafe(no_mangle)]
pub extern "C" fn delivery_once() -> u32 {
    DELIVERY.with(|d| {
        let input = d.borrow();
        let (snapshot, cart, to, now) = input.as_ref().expect("setup_delivery first");
        let Ok((_, delivery)) =
            quote_with_delivery(snapshot, cart, &QuoteContext::default(), to, *now)
        else {
            return u32::MAX;
        };
        let mut n = delivery.options.len() as u32;
        if let [line] = cart.lines() {
            let sku = Sku::new(line.sku.as_str()).unwrap();
            n += find_in_store(snapshot, &sku, to, *now).map_or(0, |s| s.len() as u32);
        }
        n
    })
}
