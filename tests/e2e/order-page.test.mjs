// The order page after placement: a guest's pickup order made ready by the store (the
// fulfilment API with the demo integration key) shows the pickup code to show at the counter,
// the code the store then collects with; and a cancel, confirmed first, announced, refused
// accessibly once the warehouse has started.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { PHONE, addToCart, fulfilmentOrders, guestCheckout, launch, moveFulfilment, text, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

/** A guest's order of one optical cable, to collect in Berlin (`pickup`) or delivered, its
 *  order page open. */
async function guestOrder(page, { pickup }) {
  await addToCart(page, "optical-cable", "1.5 m · €9.99");
  const number = await guestCheckout(page, { who: "Paula Pickup", pickup });
  await page.getByRole("link", { name: "View your order" }).click();
  await until(() => text(page, "shipment-state"), (t) => t === "Open", "the order page");
  return number;
}

async function fulfilmentOrder(request, number) {
  const [only, ...more] = await fulfilmentOrders(request, number);
  assert.equal(more.length, 0);
  return only;
}

const move = moveFulfilment;

test("a ready pickup shows its code on the order page, and the store collects with it", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const number = await guestOrder(page, { pickup: true });
  assert.equal(await page.getByTestId("pickup-code").count(), 0, "no code before it is ready");
  const pickup = await fulfilmentOrder(context.request, number);
  assert.equal(pickup.kind, "pickup");
  for (const to of ["picking", "packed", "ready_for_pickup"]) await move(context.request, pickup.id, { to });

  await page.reload();
  await until(() => text(page, "shipment-state"), (t) => t === "Ready for pickup", "ready for pickup");
  const code = await text(page, "pickup-code");
  assert.match(code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/, "eight readable characters");
  assert.match(await page.locator(".pickup-code").textContent(), /show this code at the counter/);

  const collected = await move(context.request, pickup.id, { to: "collected", pickup_code: code });
  assert.equal(collected.state, "collected", "the code shown is the one the store accepts");
  await page.reload();
  await until(() => text(page, "shipment-state"), (t) => t === "Collected", "collected");
  assert.equal(await page.getByTestId("pickup-code").count(), 0, "no code once collected");
  assert.equal(await page.getByRole("button", { name: "Cancel order" }).count(), 0, "no cancel once collected");
  await context.close();
});

test("cancel asks first, says what happened, and is refused aloud once the warehouse started", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await guestOrder(page, { pickup: false });
  await page.getByRole("button", { name: "Cancel order" }).click();
  const question = page.getByRole("group", { name: /Cancel this order\?/ });
  await question.waitFor();
  await question.getByRole("button", { name: "Keep the order" }).click();
  assert.equal(await text(page, "order-state"), "Placed", "kept");
  await page.getByRole("button", { name: "Cancel order" }).click();
  await page.getByRole("button", { name: "Yes, cancel the order" }).click();
  await until(() => text(page, "order-state"), (t) => t === "Cancelled", "the order cancelled");
  assert.equal(await page.getByRole("status").filter({ hasText: "This order is cancelled" }).count(), 1);
  assert.equal(await page.getByRole("button", { name: "Cancel order" }).count(), 0);
  assert.match(await page.locator("main").textContent(), /Payment: Voided/);

  // A second order, which the warehouse starts while the page still offers to cancel it.
  const number = await guestOrder(page, { pickup: false });
  const parcel = await fulfilmentOrder(context.request, number);
  await move(context.request, parcel.id, { to: "picking" });
  await page.getByRole("button", { name: "Cancel order" }).click();
  await page.getByRole("button", { name: "Yes, cancel the order" }).click();
  const alert = page.getByTestId("cancel-error");
  await until(() => alert.textContent(), (t) => /can no longer be cancelled/.test(t), "the refusal");
  assert.equal(await alert.getAttribute("role"), "alert");
  await page.reload();
  await until(() => text(page, "order-state"), (t) => t === "In fulfilment", "the order in fulfilment");
  assert.equal(await page.getByRole("button", { name: "Cancel order" }).count(), 0);
  await context.close();
});
