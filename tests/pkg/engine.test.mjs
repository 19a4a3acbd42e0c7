// The npm package (pkg/) in Node: import it as a frontend team would, load the demo catalogue,
// edit and price a cart, and check the error contract.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { initSync, Engine } from "../../pkg/omnicart_wasm.js";

const root = new URL("../../", import.meta.url);
initSync({ module: readFileSync(new URL("pkg/omnicart_wasm_bg.wasm", root)) });
const snapshot = JSON.parse(readFileSync(new URL("crates/server/data/demo-catalogue.json", root), "utf8"));

test("prices a cart exactly, amounts as strings", () => {
  const engine = new Engine(snapshot);
  const cart = engine.applyOps({ lines: [] }, [
    { op: "add", sku: "LUM-OLED-C4-55", quantity: 1 },
    { op: "add", sku: "CBL-HDMI21-2M", quantity: 2 },
    { op: "add", sku: "SVC-INSTALL-TV", quantity: 1 },
  ]);
  const quote = engine.quote(cart);
  // 1399.00 + 2 × 19.99 + 79.00 = 1517.98. Best for the shopper: decline "installation for
  // €49" (saves 30.00, but drops the cart below €1,500) and take the €1,500 tier (saves 100.00).
  assert.deepEqual(quote.total, { amount: "1417.98", currency: "EUR" });
  assert.equal(quote.lines.length, 4, "three lines and the free cable over €1,000");
  assert.equal(quote.lines[3].gift, true);
  assert.equal(quote.lines[1].gross.amount, "39.98");
  assert.deepEqual(quote.applied.map((a) => [a.promotion_id, a.amount.amount]),
    [["gift-cable-1000", "19.99"], ["spend-and-save", "100.00"], ["free-delivery-99", "0.00"]]);
  assert.equal(quote.rejected.find((r) => r.promotion_id === "install-49-with-tv").code, "better_offer");
  assert.equal(quote.item_count, 4);
  assert.equal(engine.snapshotVersion, snapshot.version);
});

test("applyOps returns a new cart and leaves the input alone", () => {
  const engine = new Engine(snapshot);
  const before = { lines: [{ sku: "VIS-Q80-55", quantity: 1 }] };
  const after = engine.applyOps(before, [{ op: "replace", sku: "VIS-Q80-55", with: "VIS-Q80-65" }]);
  assert.deepEqual(before, { lines: [{ sku: "VIS-Q80-55", quantity: 1 }] });
  assert.deepEqual(after, { lines: [{ sku: "VIS-Q80-65", quantity: 1 }], coupons: [] });
});

test("errors are Errors with codes", () => {
  const engine = new Engine(snapshot);
  const cases = [
    [() => engine.applyOps({ lines: [] }, [{ op: "add", sku: "NOPE", quantity: 1 }]), "unknown_sku"],
    [() => engine.applyOps({ lines: [] }, [{ op: "remove", sku: "PS5-PRO" }]), "not_in_cart"],
    [() => engine.applyOps({ lines: [] }, [{ op: "add", sku: "PS5-PRO", quantity: 0 }]), "invalid_input"],
    [() => engine.applyOps({ lines: [] }, [{ op: "add", sku: "PS5-PRO", quantity: 1e9 }]), "invalid_input"],
    [() => engine.quote({ lines: [{ sku: "PS5-PRO", quantity: 1.5 }] }), "invalid_input"],
    [() => engine.quote("not a cart"), "invalid_input"],
    [() => new Engine({ ...snapshot, currency: "XXX" }), "snapshot_invalid"],
  ];
  for (const [run, code] of cases) {
    assert.throws(run, (e) => e instanceof Error && e.code === code && e.message.length > 0, code);
  }
  const err = (() => { try { engine.applyOps({ lines: [] }, [{ op: "add", sku: "PS5-PRO", quantity: 1 }, { op: "remove", sku: "NOPE" }]); } catch (e) { return e; } })();
  assert.equal(err.opIndex, 1);
});

test("quote takes a context: who is buying, where and when", () => {
  const engine = new Engine(snapshot);
  const cart = { lines: [{ sku: "NRD-LED-43", quantity: 1 }] };
  const context = { segments: ["vip"], now: new Date(Date.UTC(2026, 10, 22, 12)).toISOString() };
  const quote = engine.quote(cart, context);
  // 379.00 less the members' 5% (18.95)
  assert.equal(quote.total.amount, "360.05");
  assert.ok(quote.applied.some((a) => a.promotion_id === "vip-5" && a.amount.amount === "18.95"));
  assert.equal(engine.quote(cart).total.amount, "379.00", "no context: no member price");
  assert.throws(() => engine.quote(cart, { channel: "mars" }), (e) => e.code === "invalid_input");
});
