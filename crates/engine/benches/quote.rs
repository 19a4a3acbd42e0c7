//! Criterion benchmarks of `quote`: the 200-line × 1,000-promotion target case and a scaling
//! table. Run: `cargo bench -p omnicart-engine --bench quote`. Figures go to BENCHMARKS.md.

mod data;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use omnicart_engine::{Cart, QuoteContext, Snapshot, quote};
use std::hint::black_box;
use std::time::Duration;

fn inputs(lines: usize, promotions: usize) -> (Snapshot, Cart, QuoteContext) {
    let snapshot: Snapshot = serde_json::from_value(data::snapshot(promotions)).unwrap();
    let cart: Cart = serde_json::from_value(data::cart(lines)).unwrap();
    (
        snapshot,
        cart,
        serde_json::from_value(data::context()).unwrap(),
    )
}

fn target(c: &mut Criterion) {
    let (snapshot, cart, context) = inputs(200, 1_000);
    let q = quote(&snapshot, &cart, &context).unwrap();
    eprintln!(
        "200 lines x 1000 promotions: {} applied, {} rejected, {} hints",
        q.applied.len(),
        q.rejected.len(),
        q.hints.len()
    );
    c.bench_function("quote/200 lines/1000 promotions", |b| {
        b.iter(|| quote(black_box(&snapshot), black_box(&cart), &context).unwrap())
    });
}

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("quote scaling");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for promotions in [10, 100, 1_000, 10_000] {
        let snapshot: Snapshot = serde_json::from_value(data::snapshot(promotions)).unwrap();
        for lines in [10, 100, 1_000] {
            let cart: Cart = serde_json::from_value(data::cart(lines)).unwrap();
            let context: QuoteContext = serde_json::from_value(data::context()).unwrap();
            let id = BenchmarkId::new(format!("{promotions} promotions"), format!("{lines} lines"));
            group.bench_with_input(id, &cart, |b, cart| {
                b.iter(|| quote(&snapshot, black_box(cart), &context).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, target, scaling);
criterion_main!(benches);
