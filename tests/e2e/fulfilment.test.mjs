// After the order, in the page: a guest's order is picked, packed and shipped by the warehouse
// (the fulfilment API with the demo integration key, as a WMS calls it), and the shopper's order
// page shows the shipment's state, the carrier's tracking number and its steps; delivered, it
// says so (the order's own state following) and the payment is captured.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, PHONE, addToCart, launch, saved, text, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

const KEY = { "x-integration-key": "omnicart-demo-integration-key" };

/** A guest's order of one optical cable to Berlin, placed in the page; its number. */
async function guestOrder(page) {
  await addToCart(page, "optical-cable", "1.5 m · €9.99");
  await page.goto(`${BASE_URL}/cart`);
  await page.locator("#postcode").fill("10115");
  await page.getByRole("button", { name: "Check delivery" }).click();
  await page.locator("#delivery-level-standard").check();
  await saved(page);
  await page.getByRole("link", { name: "Checkout" }).click();
  await page.locator("#checkout-email").fill(`fulfil-${Date.now()}@example.com`);
  await page.locator("#checkout-name").fill("Frieda Follow");
  await page.locator("#checkout-street").fill("Invalidenstr. 1");
  await page.locator("#checkout-city").fill("Berlin");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByTestId("place-order").click();
  await page.waitForURL(/\/checkout\/placed\//);
  return text(page, "order-number");
}

async function move(request, id, body) {
  const answer = await request.post(`${BASE_URL}/api/fulfilment-orders/${id}/transitions`, { headers: KEY, data: body });
  assert.equal(answer.status(), 200, await answer.text());
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
