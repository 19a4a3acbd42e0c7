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
  // 1399.00 + 2 × 19.99 + installation at €49 with a TV, less €25 (spend €500 save €25)
  assert.deepEqual(quote.total, { amount: "1462.98", currency: "EUR" });
  assert.equal(quote.lines.length, 4, "three lines and the free cable over €1,000");
  assert.equal(quote.lines[3].gift, true);
  assert.equal(quote.lines[1].gross.amount, "39.98");
  assert.deepEqual(quote.lines[2].adjustments.map((a) => [a.promotion_id, a.amount.amount]), [["install-49-with-tv", "30.00"]]);
  assert.equal(quote.item_count, 4);
  assert.equal(engine.snapshotVersion, "2026-11-22.1");
});

test("applyOps returns a new cart and leaves the input alone", () => {
  const engine = new Engine(snapshot);
  const before = { lines: [{ sku: "VIS-Q80-55", quantity: 1 }] };
  const after = engine.applyOps(before, [{ op: "replace", sku: "VIS-Q80-55", with: "VIS-Q80-65" }]);
  assert.deepEqual(before, { lines: [{ sku: "VIS-Q80-55", quantity: 1 }] });
  assert.deepEqual(after, { lines: [{ sku: "VIS-Q80-65", quantity: 1 }] });
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
