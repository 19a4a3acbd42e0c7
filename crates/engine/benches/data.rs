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
    let categories: Vec<Value> = (0..100)
        .map(|c| json!({"id": format!("cat-{c}"), "name": format!("Category {c}")}))
        .collect();
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
        2 => {
            json!({"type": "buy_x_get_y", "buy": target.clone(), "buy_quantity": 2, "get": target, "get_quantity": 1, "percent": "50"})
        }
        3 => json!({"type": "fixed_price", "target": target, "price": "5.00", "units": 1}),
        4 => {
            json!({"type": "percent_off", "target": target, "percent": "15", "units": 2, "pick": "cheapest"})
        }
        5 => {
            json!({"type": "bundle", "components": [{"target": target, "quantity": 1}, {"target": {"categories": [format!("cat-{}", (j + 1) % 100)]}, "quantity": 1}], "price": "20.00"})
        }
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
    let lines: Vec<Value> = (0..lines)
        .map(
            |k| json!({"sku": format!("SKU-{}", (k * 25 + k / 200) % SKUS), "quantity": 1 + k % 3}),
        )
        .collect();
    json!({"lines": lines})
}

pub fn context() -> Value {
    json!({"now": NOW})
}

// ---- delivery --------------------------------------------------------------------------

/// SKUs in the delivery benchmark's catalogue.
pub const DELIVERY_SKUS: usize = 2_000;
/// Monday 23 November 2026, 10:00 in Germany.
pub const DELIVERY_NOW: &str = "2026-11-23T09:00:00Z";

/// A catalogue of goods (every 10th is a bulky TV) with a network of `locations` locations
/// spread over Germany (every 10th a warehouse, the rest stores that take pickups and whose
/// vans deliver), 8 carrier services (own fleet scheduled and same day; three couriers with
/// standard and express), and stock of each SKU in the warehouses and a third of the stores.
pub fn delivery_snapshot(locations: usize) -> Value {
    let products: Vec<Value> = (0..DELIVERY_SKUS)
        .map(|i| {
            let bulky = i % 10 == 0;
            json!({
                "id": format!("p{i}"), "name": format!("Product {i}"), "brand": "B", "kind": "goods", "category": "c",
                "variants": [{"sku": format!("SKU-{i}"), "name": "std", "price": format!("{}.99", 10 + (i * 7919) % 990),
                    "weight_grams": if bulky { 30_000 } else { 200 + (i * 37) % 4_000 },
                    "dimensions_cm": if bulky { json!([180, 110, 22]) } else { json!([30, 20, 10 + i % 20]) }}]
            })
        })
        .collect();
    let locs: Vec<Value> = (0..locations)
        .map(|l| {
            let warehouse = l % 10 == 0;
            // A deterministic scatter over 47.5–54.5 N, 6–15 E.
            let (lat, lon) = (47.5 + ((l * 7_919) % 7_000) as f64 / 1_000.0, 6.0 + ((l * 104_729) % 9_000) as f64 / 1_000.0);
            json!({
                "id": format!("loc-{l}"), "name": format!("Location {l}"),
                "kind": if warehouse { "warehouse" } else { "store" },
                "point": {"lat": lat, "lon": lon}, "calendar": "de",
                "hours": [{"days": "mon-sat", "open": if warehouse { "06:00" } else { "10:00" }, "close": "20:00"}],
                "handling_minutes": if warehouse { 120 } else { 60 }, "cutoff": "16:00",
                "ships": warehouse, "pickup": !warehouse, "transfer_days": 2
            })
        })
        .collect();
    let mut stock = Vec::new();
    for i in 0..DELIVERY_SKUS {
        for l in 0..locations {
            // Warehouses carry the range (a few SKUs run out); stores a third of it.
            let warehouse = l % 10 == 0;
            if warehouse || (i * 31 + l * 17) % 3 == 0 {
                let on_hand = if warehouse { (i + l) % 40 } else { (i + l) % 7 };
                let mut r = json!({"sku": format!("SKU-{i}"), "location": format!("loc-{l}"), "on_hand": on_hand, "reserved": (i + l) % 2});
                if (i + l) % 5 == 0 {
                    r["incoming"] = json!([{"date": "2026-12-01", "quantity": 10}]);
                }
                stock.push(r);
            }
        }
    }
    let stores: Vec<String> = (0..locations)
        .filter(|l| l % 10 != 0)
        .map(|l| format!("loc-{l}"))
        .collect();
    let tiers = json!([{"max_grams": 2000, "price": "4.99"}, {"max_grams": 10000, "price": "7.49"}, {"max_grams": 31500, "price": "11.99"}]);
    let courier = |id: &str, days: [u32; 2], express_days: [u32; 2]| {
        json!({
        "id": id, "name": id, "kind": "courier", "calendar": "de", "services": [
            {"id": format!("{id}-standard"), "name": "Standard", "level": "standard", "transit_days": days, "pickup_cutoff": "18:00",
             "window": ["08:00", "20:00"], "zones": [{"id": "near", "max_km": 200, "rates": tiers}, {"id": "far", "max_km": 1500, "rates": tiers}],
             "dim_divisor": 5000, "max_length_cm": 200, "bulky": {"min_length_cm": 150, "surcharge": "25.00"}, "free_above": "500.00"},
            {"id": format!("{id}-express"), "name": "Express", "level": "express", "transit_days": express_days, "pickup_cutoff": "17:00",
             "window": ["08:00", "12:00"], "zones": [{"id": "de", "max_km": 1500, "rates": tiers}], "dim_divisor": 5000,
             "max_item_grams": 31500, "max_length_cm": 120, "value_tiers": [{"min_value": "200.00", "price": "9.90"}]}
        ]})
    };
    json!({
        "version": format!("delivery-{locations}"),
        "currency": "EUR",
        "categories": [{"id": "c", "name": "C"}],
        "products": products,
        "network": {
            "time_zone": {"utc_offset_minutes": 60, "dst": "eu"},
            "calendars": [{"id": "de", "closed": "sun", "holidays": ["2026-12-25", "2026-12-26", "2027-01-01"]}],
            "locations": locs,
            "stock": stock,
            "carriers": [
                {"id": "fleet", "name": "Fleet", "kind": "fleet", "calendar": "de", "services": [
                    {"id": "fleet-scheduled", "name": "Scheduled", "level": "scheduled", "transit_days": [1, 1], "window": ["08:00", "20:00"],
                     "origins": stores, "per_km": "0.30", "zones": [{"id": "r", "max_km": 50, "rates": [{"price": "29.90"}]}],
                     "slots": [{"start": "08:00", "end": "12:00", "capacity": 6}, {"start": "12:00", "end": "16:00", "capacity": 6}]},
                    {"id": "fleet-same-day", "name": "Today", "level": "same_day", "transit_days": [0, 0], "pickup_cutoff": "16:00",
                     "window": ["18:00", "22:00"], "origins": stores, "per_km": "0.40", "zones": [{"id": "r", "max_km": 25, "rates": [{"price": "19.90"}]}],
                     "slots": [{"start": "18:00", "end": "22:00", "capacity": 4}]}
                ]},
                courier("alpha", [1, 2], [1, 1]),
                courier("beta", [2, 3], [1, 2]),
                courier("gamma", [1, 3], [1, 1])
            ],
            "sourcing": {"split_penalty": "4.00", "delay_cost_per_day": "1.50", "max_shipments": 3}
        }
    })
}

/// A cart of `lines` goods lines of 1 to 2 units.
pub fn delivery_cart(lines: usize) -> Value {
    let lines: Vec<Value> = (0..lines).map(|k| json!({"sku": format!("SKU-{}", (k * 37 + 1) % DELIVERY_SKUS), "quantity": 1 + k % 2})).collect();
    json!({"lines": lines})
}

/// Berlin, Alexanderplatz.
pub fn destination() -> Value {
    json!({"lat": 52.5219, "lon": 13.4132})
}

// ---- replicated cart -------------------------------------------------------------------

/// `n` cart operations from three devices over 60 SKUs: mostly adds and quantity edits, some
/// removals, replacements, coupons and delivery choices, with interleaved clocks.
pub fn replica_ops(n: usize) -> Value {
    let ops: Vec<Value> = (0..n)
        .map(|k| {
            let device = format!("device-{}", k % 3);
            let sku = format!("SKU-{}", (k * 7) % 60);
            let op = match k % 10 {
                0..=3 => json!({"op": "add", "sku": sku, "quantity": 1 + k % 3}),
                4 | 5 => json!({"op": "set_quantity", "sku": sku, "quantity": 1 + k % 5}),
                6 => json!({"op": "remove", "sku": format!("SKU-{}", (k * 3) % 60)}),
                7 => json!({"op": "replace", "sku": sku, "with": format!("SKU-{}", (k * 11) % 60)}),
                8 => json!({"op": "apply_coupon", "code": format!("CODE{}", k % 4)}),
                _ => json!({"op": "choose_delivery", "level": if k % 20 == 9 { "express" } else { "standard" }}),
            };
            json!({"id": format!("{device}:{k}"), "stamp": {"ms": 1_795_339_800_000u64 + (k as u64 * 37) % 5_000, "counter": k % 4, "device": device},
                   "seen": k % 3, "op": op})
        })
        .collect();
    Value::Array(ops)
}
