// The engine in Wasm as the storefront runs it: the same engine code, compiled for
// wasm32-unknown-unknown like pkg/, called with no JS conversion (the Leptos storefront calls
// the engine in Rust inside its own Wasm). The module is crates/engine/fuel's guest, which
// builds the benchmark data inside Wasm; scripts/bench builds it. Compare with
// quote.bench.mjs and delivery.bench.mjs, which add pkg/'s conversion of values to and from JS.
import { readFileSync } from "node:fs";
import { fmt, measure } from "./common.mjs";

const guest = new URL("../../crates/engine/fuel/target/wasm32-unknown-unknown/release/omnicart_fuel.wasm", import.meta.url);
const { exports } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(guest)), {});

console.log("| case (engine in Wasm, Node, no JS conversion) | median | p95 |");
console.log("|---|---|---|");
for (const [lines, promotions] of [[200, 1000], [100, 100], [10, 10]]) {
  exports.setup(lines, promotions);
  const r = measure(() => exports.quote_once(), 300);
  console.log(`| quote: ${lines} lines × ${promotions} promotions | ${fmt(r.median)} | ${fmt(r.p95)} |`);
}
for (const [locations, lines, label] of [[300, 1, "product page: quote with delivery (1 line) + find in store"], [300, 50, "quote with delivery: 300 locations × 8 services × 50 lines"]]) {
  exports.setup_delivery(locations, lines);
  const r = measure(() => exports.delivery_once(), lines > 1 ? 200 : 1000);
  console.log(`| ${label} | ${fmt(r.median)} | ${fmt(r.p95)} |`);
}
