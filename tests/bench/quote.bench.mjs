// The engine as shoppers run it: pkg/ (Wasm) in Node, quoting the benchmark carts.
// Run through scripts/bench, which builds pkg/ and the data first. Prints a Markdown table.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { initSync, Engine } from "../../pkg/omnicart_wasm.js";

const root = new URL("../../", import.meta.url);
const dir = process.env.BENCH_DATA ?? "target/bench-data";
const read = (name) => JSON.parse(readFileSync(new URL(`${dir}/${name}.json`, root), "utf8"));
initSync({ module: readFileSync(new URL("pkg/omnicart_wasm_bg.wasm", root)) });

function measure(fn, iterations) {
  for (let i = 0; i < Math.min(20, iterations); i++) fn();
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], p95: times[Math.floor(times.length * 0.95)] };
}

const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
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
