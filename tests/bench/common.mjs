// Shared by the Wasm benchmarks: load pkg/ and the data scripts/bench generated, time a
// function (after a warm-up) and print durations.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { initSync } from "../../pkg/omnicart_wasm.js";

const root = new URL("../../", import.meta.url);
const dir = process.env.BENCH_DATA ?? "target/bench-data";
initSync({ module: readFileSync(new URL("pkg/omnicart_wasm_bg.wasm", root)) });

/** A benchmark input written by `cargo run -p omnicart-engine --example bench_data`. */
export const read = (name) => JSON.parse(readFileSync(new URL(`${dir}/${name}.json`, root), "utf8"));

/**
 * Median and 95th percentile in ms of `iterations` runs, after warming up for at least 20 runs
 * and 300 ms: V8 compiles Wasm with a baseline compiler first and optimizes hot functions
 * later, so a short warm-up measures a mix of both.
 */
export function measure(fn, iterations) {
  const start = performance.now();
  for (let i = 0; i < 20 || performance.now() - start < 300; i++) fn();
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], p95: times[Math.floor(times.length * 0.95)] };
}

export const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
