// After the order, in the page: a guest's order is picked, packed and shipped by the warehouse
// (the fulfilment API with the demo integration key, as a WMS calls it), and the shopper's order
// page shows the shipment's state, the carrier's tracking number and its steps; delivered, it
// says so (the order's own state following) and the payment is captured.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, INTEGRATION as KEY, PHONE, addToCart, guestCheckout, launch, moveFulfilment as move, text, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

/** A guest's order of one optical cable to Berlin, placed in the page; its number. */
async function guestOrder(page) {
  await addToCart(page, "optical-cable", "1.5 m · €9.99");
  return guestCheckout(page, { who: "Frieda Follow" });
}

test("the shopper follows the parcel: shipped with its tracking number, then delivered and captured", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const number = await guestOrder(page);
  await page.getByRole("link", { name: "View your order" }).click();
  await until(() => text(page, "shipment-state"), (t) => t === "Open", "the shipment, open");

  const found = await context.request.get(`${BASE_URL}/api/fulfilment-orders?order=${number}`, { headers: KEY });
  assert.equal(found.status(), 200, await found.text());
  const [parcel, ...more] = (await found.json()).fulfilment_orders;
  assert.equal(more.length, 0, "one cable, one parcel");
  assert.equal(parcel.order_number, number);
  const nokey = await context.request.get(`${BASE_URL}/api/fulfilment-orders?order=${number}`);
  assert.equal(nokey.status(), 401, "the warehouse's list needs the key");

  await move(context.request, parcel.id, { to: "picking" });
  await move(context.request, parcel.id, { to: "packed" });
  await move(context.request, parcel.id, { to: "shipped", carrier: "DHL", tracking_number: "JJD0001234567" });
  await page.reload();
  await until(() => text(page, "shipment-state"), (t) => t === "Shipped", "the shipment, shipped");
  assert.equal(await text(page, "order-state"), "Shipped", "the order follows its parcel");
  assert.match(await text(page, "tracking"), /DHL tracking number JJD0001234567/);
  const steps = await page.getByTestId("shipment").locator("ol li").allTextContents();
  assert.deepEqual(steps.map((s) => s.split(" · ")[0]), ["Open", "Picking", "Packed", "Shipped"]);

  await move(context.request, parcel.id, { to: "delivered" });
  await page.reload();
  await until(() => text(page, "shipment-state"), (t) => t === "Delivered", "the shipment, delivered");
  assert.equal(await text(page, "order-state"), "Delivered");
  assert.equal(await page.getByRole("button", { name: "Cancel order" }).count(), 0, "no cancel once delivered");
  assert.match(await page.locator("main").textContent(), /Payment: Captured/);
});
