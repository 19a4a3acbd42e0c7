// The engine in Wasm as the storefront runs it: the same engine code, compiled for
// wasm32-unknown-unknown like pkg/, called with no JS conversion (the Leptos storefront calls
// the engine in Rust inside its own Wasm). The module is crates/engine/fuel's guest, which
// builds the benchmark data inside Wasm; scripts/bench builds it and runs wasm-opt -Oz on it,
// as for pkg/. A case whose setup fails is reported, not timed. Compare with
// quote.bench.mjs and delivery.bench.mjs, which add pkg/'s conversion of values to and from JS.
//
// Each case runs in a fresh Node process: instances measured one after another in one process
// were up to 30 % apart for the same code (the earlier ones slower), a bias larger than most
// changes being measured.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fmt, measure } from "./common.mjs";

const cases = [
  ["quote", 200, 1000, "quote: 200 lines × 1000 promotions"],
  ["quote", 100, 100, "quote: 100 lines × 100 promotions"],
  ["quote", 10, 10, "quote: 10 lines × 10 promotions"],
  ["delivery", 300, 1, "product page: quote with delivery (1 line) + find in store"],
  ["delivery", 300, 50, "quote with delivery: 300 locations × 8 services × 50 lines"],
];

const [kind, a, b, label] = process.argv.slice(2);
if (kind) {
  const guest = new URL("../../crates/engine/fuel/target/omnicart_fuel.wasm", import.meta.url);
  const x = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(guest)), {}).exports;
  const run = kind === "quote" ? (x.setup(+a, +b), x.quote_once) : (x.setup_delivery(+a, +b), x.delivery_once);
  // The guest returns u32::MAX (-1 as a JS number) when the engine refuses its input.
  if (run() === -1) throw new Error(`${label}: the engine refused the benchmark input`);
  const r = measure(() => run(), 300);
  console.log(`| ${label} | ${fmt(r.median)} | ${fmt(r.p95)} |`);
} else {
  console.log("| case (engine in Wasm, Node, no JS conversion) | median | p95 |");
  console.log("|---|---|---|");
  for (const c of cases) {
    process.stdout.write(execFileSync(process.execPath, [fileURLToPath(import.meta.url), ...c.map(String)]));
  }
}
