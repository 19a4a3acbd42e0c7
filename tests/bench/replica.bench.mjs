// The replicated cart in Wasm (Node): replaying a 1,000-operation log into a cart (the merge),
// and taking the 1,000 operations in from JS first. Run through scripts/bench.
import { CartReplica } from "../../pkg/omnicart_wasm.js";
import { fmt, measure, read } from "./common.mjs";

const ops = read("replica-ops-1000");

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
