//! Criterion benchmark of the replicated cart: merging a 1,000-operation log (every operation
//! inserted once, then the cart replayed). Run: `cargo bench -p omnicart-engine --bench replica`.

mod data;

use criterion::{Criterion, criterion_group, criterion_main};
use omnicart_engine::replica::{OpLog, Operation};
use std::hint::black_box;

fn merge(c: &mut Criterion) {
    let ops: Vec<Operation> = serde_json::from_value(data::replica_ops(1_000)).unwrap();
    c.bench_function("replica/merge 1000 operations", |b| {
        b.iter(|| {
            let mut log = OpLog::new();
            for op in black_box(&ops) {
                log.insert(op.clone()).unwrap();
            }
            log.cart()
        })
    });
}

criterion_group!(benches, merge);
criterion_main!(benches);
