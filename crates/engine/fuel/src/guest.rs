//! The guest module: builds the benchmark snapshot and cart once (`setup`), then quotes them
//! (`quote_once`), so the host can meter the quote alone.
#![allow(clippy::missing_safety_doc)]

#[path = "../../benches/data.rs"]
mod data;

use std::cell::RefCell;

use omnicart_engine::{Cart, QuoteContext, Snapshot, quote};

thread_local! {
    static INPUT: RefCell<Option<(Snapshot, Cart, QuoteContext)>> = const { RefCell::new(None) };
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
        quote(snapshot, cart, context).map(|q| q.applied.len() as u32).unwrap_or(u32::MAX)
    })
}
