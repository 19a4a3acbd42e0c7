// The replicated cart in Wasm (Node): replaying a 1,000-operation log into a cart (the merge),
// and taking the 1,000 operations in from JS first. Run through scripts/bench.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { initSync, CartReplica } from "../../pkg/omnicart_wasm.js";

const root = new URL("../../", import.meta.url);
const dir = process.env.BENCH_DATA ?? "target/bench-data";
initSync({ module: readFileSync(new URL("pkg/omnicart_wasm_bg.wasm", root)) });
const ops = JSON.parse(readFileSync(new URL(`${dir}/replica-ops-1000.json`, root), "utf8"));

function measure(fn, iterations) {
  for (let i = 0; i < 20; i++) fn();
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1], p95: times[Math.floor(times.length * 0.95)] };
}
const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

const replica = new CartReplica();
replica.insert(ops);
const merge = measure(() => replica.cart(), 300);
const all = measure(() => {
  const fresh = new CartReplica();
  fresh.insert(ops);
  fresh.cart();
  fresh.free();
}, 100);
console.log("| case (Wasm in Node) | median | p95 |");
console.log("|---|---|---|");
console.log(`| merge: replay a 1,000-operation log into the cart | ${fmt(merge.median)} | ${fmt(merge.p95)} |`);
console.log(`| take 1,000 operations in from JS, then merge | ${fmt(all.median)} | ${fmt(all.p95)} |`);
