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
  // Every line carries the rate it was taxed at: German VAT on all of them, none on the gift.
  assert.deepEqual(quote.lines.map((l) => l.tax_rate), ["0.19", "0.19", "0.19", "0"]);
  assert.deepEqual(quote.applied.map((a) => [a.promotion_id, a.amount.amount]),
    [["gift-cable-1000", "19.99"], ["spend-and-save", "100.00"], ["free-delivery-99", "0.00"]]);
  assert.equal(quote.rejected.find((r) => r.promotion_id === "install-49-with-tv").code, "better_offer");
  assert.equal(quote.item_count, 4);
  assert.equal(engine.snapshotVersion, snapshot.version);
});

test("a service attached to a TV is charged per TV and quoted right after it", () => {
  const engine = new Engine(snapshot);
  const cart = engine.applyOps({ lines: [] }, [
    { op: "add", sku: "LUM-OLED-C4-55", quantity: 2 },
    { op: "attach_service", sku: "LUM-OLED-C4-55", service: "SVC-INSTALL-TV" },
  ]);
  assert.deepEqual(cart.lines, [{ sku: "LUM-OLED-C4-55", quantity: 2, services: ["SVC-INSTALL-TV"] }]);
  const quote = engine.quote(cart);
  const install = quote.lines[1];
  assert.equal(install.sku, "SVC-INSTALL-TV");
  assert.equal(install.attached_to, "LUM-OLED-C4-55");
  assert.equal(install.quantity, 2);
  // "TV installation for €49 with your TV" takes one unit (49.00); the second is 79.00.
  assert.equal(install.net.amount, "128.00");
  assert.throws(() => engine.applyOps(cart, [{ op: "attach_service", sku: "LUM-OLED-C4-55", service: "CBL-HDMI21-2M" }]),
    { code: "service_not_offered" });
  const off = engine.applyOps(cart, [{ op: "detach_service", sku: "LUM-OLED-C4-55", service: "SVC-INSTALL-TV" }]);
  assert.deepEqual(off.lines, [{ sku: "LUM-OLED-C4-55", quantity: 2 }]);
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

// Monday 23 November 2026, 10:00 in Berlin (09:00 UTC): before every cut-off.
const MONDAY = "2026-11-23T09:00:00Z";

test("availability and find in store", () => {
  const engine = new Engine(snapshot);
  const ps5 = engine.availability("PS5-PRO");
  assert.equal(ps5.sku, "PS5-PRO");
  assert.ok(ps5.available > 0 && ps5.status === "in_stock");
  assert.equal(ps5.available, ps5.locations.reduce((n, l) => n + l.available, 0), "the total is the sum of the locations");
  const sold_out = engine.availability("SORA-X95-85");
  assert.deepEqual([sold_out.status, sold_out.backorder_date], ["backorder", "2026-12-03"]);

  const stores = engine.findInStore("NSW2-MK", { lat: 52.52, lon: 13.405 }, MONDAY);
  assert.deepEqual(stores.map((s) => [s.location, s.available, s.status]), [["store-berlin-alexanderplatz", 2, "low_stock"]]);
  assert.equal(stores[0].ready_label, "Today from 11:00", "opens at 10:00, an hour to pick");
  assert.ok(stores[0].distance_m > 500 && stores[0].distance_m < 1500);
  assert.throws(() => engine.findInStore("NOPE", { postcode: "10115" }, MONDAY), { code: "unknown_sku" });
  assert.throws(() => engine.findInStore("PS5-PRO", { postcode: "99999" }, MONDAY), { code: "unknown_postcode" });
  assert.throws(() => engine.findInStore("PS5-PRO", { lat: 95, lon: 0 }, MONDAY), { code: "invalid_destination" });
});

test("delivery options for a cart, with the chosen option in the quote", () => {
  const engine = new Engine(snapshot);
  let cart = engine.applyOps({ lines: [] }, [{ op: "add", sku: "PS5-PRO", quantity: 1 }]);
  const options = engine.deliveryOptions(cart, { postcode: "80331" }, MONDAY);
  assert.deepEqual(options.options.map((o) => [o.level, o.service_id, o.total.amount, o.label]), [
    ["standard", "parcelone-standard", "0.00", "Tomorrow – Wed 25 Nov"],
    ["express", "parcelone-express", "0.00", "Tomorrow"],
  ]);
  assert.equal(options.options[1].charge.amount, "9.90", "value tier: 9.90 from 200.00");
  assert.ok(options.unavailable.some((u) => u.service_id === "citydash-same-day" && u.code === "no_stock"));
  cart = engine.applyOps(cart, [{ op: "choose_delivery", level: "express" }]);
  assert.deepEqual(cart.delivery, { level: "express" });
  const both = engine.quoteWithDelivery(cart, { postcode: "80331" }, MONDAY);
  assert.equal(both.quote.delivery.charge.amount, "9.90");
  assert.equal(both.quote.delivery.total.amount, "0.00", "free delivery over €99 takes it off");
  assert.throws(() => engine.applyOps(cart, [{ op: "choose_delivery", pickup: "wh-leipzig" }]), { code: "unknown_location" });
});

test("a replicated cart converges whatever order the operations arrive in", async () => {
  const { CartReplica } = await import("../../pkg/omnicart_wasm.js");
  const stamp = (ms, device) => ({ ms, counter: 0, device });
  const ops = [
    { id: "phone:1", stamp: stamp(10, "phone"), seen: 0, op: { op: "add", sku: "VIS-Q80-55", quantity: 1 } },
    { id: "laptop:1", stamp: stamp(11, "laptop"), seen: 0, op: { op: "add", sku: "VIS-Q80-55", quantity: 1 } },
    { id: "phone:2", stamp: stamp(12, "phone"), op: { op: "replace", sku: "VIS-Q80-55", with: "VIS-Q80-65" } },
    { id: "laptop:2", stamp: stamp(13, "laptop"), op: { op: "set_quantity", sku: "VIS-Q80-55", quantity: 2 } },
  ];
  const a = new CartReplica();
  const b = new CartReplica();
  assert.equal(a.insert(ops), 4);
  assert.equal(b.insert([...ops].reverse()), 4);
  assert.equal(b.insert(ops.slice(0, 2)), 0, "replayed operations are ignored");
  assert.deepEqual(a.cart(), b.cart());
  assert.deepEqual(a.cart().lines, [{ sku: "VIS-Q80-65", quantity: 2 }], "one TV added on two devices; the edit follows the replacement");
  assert.throws(() => a.insert([{ id: "", stamp: stamp(1, "x"), op: { op: "remove", sku: "A" } }]), { code: "invalid_operation" });
  // After the server compacts a log, a replica starts again from its base; the replacement
  // seen before the base is still followed by a later edit of the old SKU.
  const base = { cart: { lines: [{ sku: "VIS-Q80-65", quantity: 2 }] }, renamed: [["VIS-Q80-55", "VIS-Q80-65"]] };
  const c = CartReplica.fromBase(base);
  assert.equal(c.insert([{ id: "phone:3", stamp: stamp(20, "phone"), op: { op: "set_quantity", sku: "VIS-Q80-55", quantity: 3 } }]), 1);
  assert.deepEqual(c.cart().lines, [{ sku: "VIS-Q80-65", quantity: 3 }]);
  assert.throws(() => CartReplica.fromBase({ cart: { lines: [] }, renamed: 5 }), { code: "invalid_input" });
});
