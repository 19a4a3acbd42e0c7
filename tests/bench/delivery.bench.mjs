// The delivery calculator as shoppers run it: pkg/ (Wasm) in Node. Run through scripts/bench,
// which builds pkg/ and the data first. Prints Markdown tables.
import { Engine } from "../../pkg/omnicart_wasm.js";
import { fmt, measure, read } from "./common.mjs";

const now = "2026-11-23T09:00:00Z";
const to = read("destination");

const target = new Engine(read("delivery-snapshot-300"));
const cart50 = read("delivery-cart-50");
const one = read("delivery-cart-1");
const r = measure(() => target.deliveryOptions(cart50, to, now), 200);
const page = measure(() => { target.deliveryOptions(one, to, now); target.findInStore("SKU-1", to, now); }, 500);
console.log("| case (Wasm in Node) | median | p95 |");
console.log("|---|---|---|");
console.log(`| deliveryOptions: 300 locations × 8 services × 50 lines | ${fmt(r.median)} | ${fmt(r.p95)} |`);
console.log(`| product page: deliveryOptions(1 line) + findInStore | ${fmt(page.median)} | ${fmt(page.p95)} |`);
target.free();

console.log("\n| locations | lines | median deliveryOptions | p95 |");
console.log("|---|---|---|---|");
for (const locations of [30, 300, 1000]) {
  const engine = new Engine(read(`delivery-snapshot-${locations}`));
  for (const lines of [1, 10, 50, 200]) {
    const cart = read(`delivery-cart-${lines}`);
    const m = measure(() => engine.deliveryOptions(cart, to, now), lines >= 200 ? 40 : 150);
    console.log(`| ${locations} | ${lines} | ${fmt(m.median)} | ${fmt(m.p95)} |`);
  }
  engine.free();
}
