// Returns in the page: a guest's order ships in two parcels, the shopper follows both on the
// order page, returns one item with the page's form (a refusal announced and nothing typed
// lost), the warehouse receives it through the integration API, and the page shows the refund.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, INTEGRATION as KEY, PHONE, fulfilmentOrders, launch, moveFulfilment as move, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

async function ok(answer, status = 200) {
  assert.equal(answer.status(), status, await answer.text());
  return answer.json();
}

/** A guest's order of 32 power strips to Berlin, placed through the API: no warehouse holds
 *  32, so the plan ships two parcels. Its number and guest token. */
async function twoParcelOrder(request) {
  const cart = await ok(await request.post(`${BASE_URL}/api/carts`), 201);
  const ops = [
    { op: "add", sku: "PWR-STRIP-6", quantity: 32 },
    { op: "set_address", address: { postcode: "10115" } },
    { op: "choose_delivery", level: "standard" },
  ];
  const edited = await ok(await request.post(`${BASE_URL}/api/carts/${cart.id}/ops`, { data: { version: cart.version, ops } }));
  const placed = await ok(await request.post(`${BASE_URL}/api/checkout`, {
    headers: { "Idempotency-Key": `returns-${cart.id}` },
    data: {
      cart_id: cart.id,
      expected_total: edited.quote.total,
      contact: { email: `returns-${Date.now()}@example.com`, name: "Rita Return" },
      shipping_address: { name: "Rita Return", street: ["Invalidenstr. 1"], postcode: "10115", city: "Berlin", country: "DE" },
      payment: { provider: "test", token: "4242424242424242" },
    },
  }), 201);
  return { number: placed.order.number, token: placed.guest_token };
}

const states = (page) => page.getByTestId("shipment-state").allTextContents();

test("the order ships in two parcels, the shopper follows both, returns one item and sees the refund", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const { number, token } = await twoParcelOrder(context.request);
  const orderUrl = `${BASE_URL}/orders/${number}?token=${encodeURIComponent(token)}`;
  await page.goto(orderUrl);
  await until(() => states(page), (s) => s.join() === "Open,Open", "two open shipments");

  const parcels = await fulfilmentOrders(context.request, number);
  assert.equal(parcels.length, 2, "two locations ship it");
  for (const [i, parcel] of parcels.entries()) {
    await move(context.request, parcel.id, { to: "picking" });
    await move(context.request, parcel.id, { to: "packed" });
    await move(context.request, parcel.id, { to: "shipped", carrier: "DHL", tracking_number: `JJD00099${i}` });
    await page.reload();
    await until(() => states(page), (s) => s.filter((t) => t === "Shipped").length === i + 1, `parcel ${i + 1} shipped`);
  }
  const tracking = await page.getByTestId("tracking").allTextContents();
  assert.deepEqual(tracking.map((t) => t.match(/JJD\d+/)[0]).sort(), ["JJD000990", "JJD000991"]);
  assert.equal(await page.getByLabel("Item", { exact: true }).count(), 0, "nothing can be returned before it arrives");

  await move(context.request, parcels[0].id, { to: "delivered" });
  await move(context.request, parcels[1].id, { to: "delivered" });
  await page.reload();
  await until(() => states(page), (s) => s.join() === "Delivered,Delivered", "both delivered");

  // The form: a missing reason is announced and what was typed stays.
  await page.getByLabel("Item", { exact: true }).selectOption({ index: 1 });
  await page.getByLabel("Quantity", { exact: true }).fill("1");
  await page.getByRole("button", { name: "Request return" }).click();
  await until(() => page.getByTestId("return-error").textContent(), (t) => /why/.test(t), "the missing reason, announced");
  assert.equal(await page.getByLabel("Quantity", { exact: true }).inputValue(), "1");
  await page.getByLabel("Reason", { exact: true }).fill("One is enough");
  await page.getByRole("button", { name: "Request return" }).click();
  await until(() => page.getByTestId("return-state").allTextContents(), (s) => s.length === 1 && /^Requested/.test(s[0]), "the return, requested");

  const view = await ok(await context.request.get(`${BASE_URL}/api/orders/${number}?token=${encodeURIComponent(token)}`));
  const [ret] = view.returns;
  assert.deepEqual(ret.lines.map((l) => [l.sku, l.quantity]), [["PWR-STRIP-6", 1]]);
  const received = await ok(await context.request.post(`${BASE_URL}/api/returns/${ret.id}/receive`, {
    headers: KEY,
    data: { location: parcels[0].location, lines: [{ line: ret.lines[0].line, disposition: "restock" }] },
  }));
  assert.equal(received.state, "refunded");

  await page.reload();
  await until(() => page.getByTestId("return-state").allTextContents(), (s) => s.join() === "Refunded", "the refund, shown");
  const amount = ret.total.amount;
  assert.match(await page.getByTestId("return").textContent(), new RegExp(`refund €${amount.replace(".", "\\.")}`));
  assert.match(await page.getByTestId("refunded").textContent(), new RegExp(`Refunded: €${amount.replace(".", "\\.")}`));
  await context.close();
});
