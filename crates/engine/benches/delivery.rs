//! Criterion benchmarks of the delivery calculator: the 300-location × 8-service × 50-line
//! target, the product page (one SKU: delivery options and find in store), re-sourcing a
//! rejected line without the location that rejected it, and a scaling table.
//! Run: `cargo bench -p omnicart-engine --bench delivery`. Figures go to BENCHMARKS.md.

mod data;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use omnicart_engine::fulfilment::DeliveryRequest;
use omnicart_engine::{
    Cart, Destination, QuoteContext, Sku, Snapshot, Timestamp, delivery_options, find_in_store,
    quote,
};
use std::hint::black_box;
use std::time::Duration;

fn inputs(locations: usize, lines: usize) -> (Snapshot, Cart) {
    let snapshot: Snapshot = serde_json::from_value(data::delivery_snapshot(locations)).unwrap();
    (
        snapshot,
        serde_json::from_value(data::delivery_cart(lines)).unwrap(),
    )
}

/// The calculator alone, given the goods' quote (as `quote_with_delivery` calls it).
fn options(snapshot: &Snapshot, cart: &Cart, to: &Destination, now: Timestamp) -> usize {
    let goods = quote(snapshot, cart, &QuoteContext::default()).unwrap();
    let request = DeliveryRequest {
        destination: to,
        now,
        goods_value: goods.total,
        promotions: &goods.delivery_promotions,
        stock: None,
        gifts: &[],
        exclude: &[],
    };
    delivery_options(snapshot, cart, &request)
        .unwrap()
        .options
        .len()
}

fn target(c: &mut Criterion) {
    let to: Destination = serde_json::from_value(data::destination()).unwrap();
    let now = Timestamp::parse(data::DELIVERY_NOW).unwrap();
    let (snapshot, cart) = inputs(300, 50);
    eprintln!(
        "300 locations x 8 services x 50 lines: {} options",
        options(&snapshot, &cart, &to, now)
    );
    c.bench_function("delivery/300 locations/50 lines", |b| {
        b.iter(|| options(black_box(&snapshot), black_box(&cart), &to, now))
    });
    let (_, one) = inputs(300, 1);
    let sku = Sku::new("SKU-1").unwrap();
    c.bench_function(
        "delivery/product page (1 SKU: options + find in store)",
        |b| {
            b.iter(|| {
                options(black_box(&snapshot), black_box(&one), &to, now)
                    + find_in_store(&snapshot, &sku, &to, now).unwrap().len()
            })
        },
    );
}

fn scaling(c: &mut Criterion) {
    let to: Destination = serde_json::from_value(data::destination()).unwrap();
    let now = Timestamp::parse(data::DELIVERY_NOW).unwrap();
    let mut group = c.benchmark_group("delivery scaling");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for locations in [30, 300, 1_000] {
        let snapshot: Snapshot =
            serde_json::from_value(data::delivery_snapshot(locations)).unwrap();
        for lines in [1, 10, 50, 200] {
            let cart: Cart = serde_json::from_value(data::delivery_cart(lines)).unwrap();
            let id = BenchmarkId::new(format!("{locations} locations"), format!("{lines} lines"));
            group.bench_with_input(id, &cart, |b, cart| {
                b.iter(|| options(&snapshot, black_box(cart), &to, now))
            });
        }
    }
    group.finish();
}

/// A rejected line sourced again, as the server's re-sourcing asks the engine: the line alone,
/// without the locations its first plan shipped it from.
fn resourcing(c: &mut Criterion) {
    let to: Destination = serde_json::from_value(data::destination()).unwrap();
    let now = Timestamp::parse(data::DELIVERY_NOW).unwrap();
    let (snapshot, line) = inputs(300, 1);
    let goods = quote(&snapshot, &line, &QuoteContext::default()).unwrap();
    let plan = |exclude: &[String]| {
        let request = DeliveryRequest {
            destination: &to,
            now,
            goods_value: goods.total,
            promotions: &[],
            stock: None,
            gifts: &[],
            exclude,
        };
        delivery_options(&snapshot, &line, &request).unwrap()
    };
    let exclude: Vec<String> = plan(&[])
        .options
        .iter()
        .flat_map(|o| o.shipments.iter().map(|s| s.location.clone()))
        .collect();
    let again = plan(&exclude);
    assert!(
        again
            .options
            .iter()
            .flat_map(|o| &o.shipments)
            .all(|s| !exclude.contains(&s.location)),
        "an excluded location ships nothing"
    );
    c.bench_function(
        "delivery/re-sourcing a rejected line (300 locations)",
        |b| b.iter(|| plan(black_box(&exclude)).options.len()),
    );
}

criterion_group!(benches, target, resourcing, scaling);
criterion_main!(benches);
