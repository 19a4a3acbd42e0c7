//! Writes the benchmark inputs as JSON for the Wasm benchmarks in Node
//! (`tests/bench/quote.bench.mjs`, `tests/bench/delivery.bench.mjs`): `cargo run -p omnicart-engine --example bench_data -- DIR`.

#[path = "../benches/data.rs"]
mod data;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/bench-data".into());
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, value: serde_json::Value| {
        std::fs::write(format!("{dir}/{name}.json"), value.to_string()).unwrap()
    };
    for promotions in [10, 100, 1_000, 10_000] {
        write(
            &format!("snapshot-{promotions}"),
            data::snapshot(promotions),
        );
    }
    for lines in [10, 100, 200, 1_000] {
        write(&format!("cart-{lines}"), data::cart(lines));
    }
    write("context", data::context());
    for locations in [30, 300, 1_000] {
        write(
            &format!("delivery-snapshot-{locations}"),
            data::delivery_snapshot(locations),
        );
    }
    for lines in [1, 10, 50, 200] {
        write(
            &format!("delivery-cart-{lines}"),
            data::delivery_cart(lines),
        );
    }
    write("destination", data::destination());
    write("replica-ops-1000", data::replica_ops(1_000));
    println!("wrote benchmark data to {dir}");
}
