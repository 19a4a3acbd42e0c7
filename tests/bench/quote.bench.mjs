// The engine as shoppers run it: pkg/ (Wasm) in Node, quoting the benchmark carts.
// Run through scripts/bench, which builds pkg/ and the data first. Prints a Markdown table.
import { Engine } from "../../pkg/omnicart_wasm.js";
import { fmt, measure, read } from "./common.mjs";

const context = read("context");
console.log("| promotions | lines | load snapshot | median quote | p95 quote |");
console.log("|---|---|---|---|---|");
for (const promotions of [10, 100, 1000, 10000]) {
  const snapshot = read(`snapshot-${promotions}`);
  const load = measure(() => new Engine(snapshot).free(), 5);
  const engine = new Engine(snapshot);
  for (const lines of [10, 100, 200, 1000]) {
    const cart = read(`cart-${lines}`);
    const iterations = lines >= 1000 || promotions >= 10000 ? 40 : 200;
    const r = measure(() => engine.quote(cart, context), iterations);
    console.log(`| ${promotions} | ${lines} | ${fmt(load.median)} | ${fmt(r.median)} | ${fmt(r.p95)} |`);
  }
  engine.free();
}
