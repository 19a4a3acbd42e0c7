//! Synthetic, deterministic benchmark data shared by the criterion benchmark and the Wasm
//! benchmark (through `examples/bench_data.rs`): a large catalogue, a cart of `lines` lines and
//! `promotions` promotions of every kind, of which only a few dozen touch the cart.
#![allow(dead_code)]

use serde_json::{Value, json};

pub const SKUS: usize = 5_000;
pub const NOW: &str = "2026-11-22T12:00:00Z";

pub fn snapshot(promotions: usize) -> Value {
    let products: Vec<Value> = (0..SKUS)
        .map(|i| {
            json!({
                "id": format!("p{i}"), "name": format!("Product {i}"), "brand": "B", "kind": "goods",
                "category": format!("cat-{}", i % 100), "tags": [format!("tag-{}", i % 250)],
                "variants": [{"sku": format!("SKU-{i}"), "name": "std", "price": format!("{}.99", 10 + (i * 7919) % 990)}]
            })
        })
        .collect();
    let categories: Vec<Value> = (0..100).map(|c| json!({"id": format!("cat-{c}"), "name": format!("Category {c}")})).collect();
    json!({
        "version": format!("bench-{promotions}"),
        "currency": "EUR",
        "pricing": {"default_region": "DE", "tax_rates": [{"region": "DE", "tax_class": "standard", "rate": "0.19"}]},
        "categories": categories,
        "products": products,
        "promotions": (0..promotions).map(promotion).collect::<Vec<_>>(),
    })
}

/// Promotion `j`. Most name a category, tag or SKU that the benchmark cart rarely holds, as in
/// a real catalogue; one in a hundred names nothing (order-wide) and so always applies.
fn promotion(j: usize) -> Value {
    let id = format!("promo-{j}");
    let target = match j % 3 {
        0 => json!({"categories": [format!("cat-{}", (j / 3) % 100)]}),
        1 => json!({"tags": [format!("tag-{}", (j / 3) % 250)]}),
        _ => json!({"skus": [format!("SKU-{}", (j * 37) % SKUS)]}),
    };
    let action = match j % 7 {
        0 => json!({"type": "percent_off", "target": target, "percent": "10"}),
        1 => json!({"type": "amount_off", "target": target, "amount": "2.00"}),
        2 => json!({"type": "buy_x_get_y", "buy": target.clone(), "buy_quantity": 2, "get": target, "get_quantity": 1, "percent": "50"}),
        3 => json!({"type": "fixed_price", "target": target, "price": "5.00", "units": 1}),
        4 => json!({"type": "percent_off", "target": target, "percent": "15", "units": 2, "pick": "cheapest"}),
        5 => json!({"type": "bundle", "components": [{"target": target, "quantity": 1}, {"target": {"categories": [format!("cat-{}", (j + 1) % 100)]}, "quantity": 1}], "price": "20.00"}),
        _ => json!({"type": "amount_off", "target": target, "amount": "1.00"}),
    };
    if j % 100 == 50 {
        return json!({"id": id, "label": format!("Spend and save {j}"), "priority": (j % 50) as i32,
            "action": {"type": "tiered_spend", "tiers": [{"threshold": "100.00", "amount_off": "5.00"}, {"threshold": "1000.00", "amount_off": "50.00"}]}});
    }
    let mut p = json!({"id": id, "label": format!("Offer {j}"), "priority": (j % 50) as i32, "action": action});
    if j.is_multiple_of(11) {
        p["conditions"] = json!([{"type": "subtotal_at_least", "amount": "50.00"}]);
    }
    if j.is_multiple_of(13) {
        p["combines_with"] = json!({"order": false});
    }
    p
}

/// A cart of `lines` lines spread over a few categories and tags.
pub fn cart(lines: usize) -> Value {
    let lines: Vec<Value> = (0..lines).map(|k| json!({"sku": format!("SKU-{}", (k * 25 + k / 200) % SKUS), "quantity": 1 + k % 3})).collect();
    json!({"lines": lines})
}

pub fn context() -> Value {
    json!({"now": NOW})
}
