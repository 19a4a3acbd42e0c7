// Checkout in the page against the real server: the phone places an order with a test card and
// the laptop of the same customer sees the empty cart and the order; a declined card is
// explained and keeps the cart and what was typed (a guest, whose order opens by its token); a
// price change between review and placement (the page shown an old price) is the server's
// `price_changed`, shown and confirmed; a double tap and a lost answer make one order with one
// idempotency key; a card whose bank asks for a confirmation opens it as a dialog: cancelled
// (Escape), nothing is charged and the cart and the typed fields are kept; confirmed, after an
// answer lost on the way, the retry with the same key places one order. Every test signs up a customer of its own (an order changes a customer's
// first-order promotions) or checks out as a guest.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, LAPTOP, PHONE, addToCart, launch, saved, signIn, text, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

const CARDS = { success: "4242 4242 4242 4242", declined: "4000000000000002", challenge: "4000 0027 6000 3184" };
const unique = (name) => `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
const focused = (page) => page.evaluate(() => document.activeElement?.id);

/** A new customer signed up in `context` (its cookie is that context's session). */
async function customer(context, name) {
  const email = unique(name.split(" ")[0].toLowerCase());
  const password = "correct horse battery";
  const signUp = await context.request.post(`${BASE_URL}/api/auth/sign-up`, { data: { email, password, name } });
  assert.equal(signUp.status(), 201, await signUp.text());
  return { name, email, password };
}

/** Delivery to Berlin at standard, chosen on the cart page. */
async function standardToBerlin(page) {
  await page.goto(`${BASE_URL}/cart`);
  await page.locator("#postcode").fill("10115");
  await page.getByRole("button", { name: "Check delivery" }).click();
  await page.locator("#delivery-level-standard").check();
  await saved(page);
}

async function step(page, title) {
  await until(() => text(page, "step-title"), (t) => t?.endsWith(title), `the step "${title}"`);
}

/** From the cart to the review: contact and address (what is not prefilled), delivery, card. */
async function toReview(page, { email, name, card }) {
  await page.getByRole("link", { name: "Checkout" }).click();
  await step(page, "Contact and address");
  if (email) await page.locator("#checkout-email").fill(email);
  if (name) await page.locator("#checkout-name").fill(name);
  await page.locator("#checkout-street").fill("Invalidenstr. 1");
  await page.locator("#checkout-city").fill("Berlin");
  await page.getByRole("button", { name: "Continue" }).click();
  await step(page, "Delivery");
  assert.equal(await focused(page), "step-title", "focus moves to the step's heading");
  await page.getByRole("button", { name: "Continue" }).click();
  await step(page, "Payment");
  await page.getByLabel("Card number").fill(card);
  await page.getByRole("button", { name: "Continue" }).click();
  await step(page, "Review and place order");
}

async function placed(page) {
  await page.waitForURL(/\/checkout\/placed\//);
  const number = await text(page, "order-number");
  assert.match(number, /^\d{4}-\d{4}-\d{3}$/, "a number to read out on the phone");
  return number;
}

const orders = async (context) => (await (await context.request.get(`${BASE_URL}/api/orders`)).json()).orders;

test("the phone checks out with a test card; the laptop shows the empty cart and the order", async () => {
  const phoneContext = await browser.newContext(PHONE);
  const shopper = await customer(phoneContext, "Petra Phone");
  const phone = await phoneContext.newPage();
  await addToCart(phone, "lumina-oled-c4", '55" · €1,399.00');
  await standardToBerlin(phone);
  const total = await text(phone, "cart-total");
  await phone.getByRole("link", { name: "Checkout" }).click();
  await step(phone, "Contact and address");
  assert.equal(await phone.locator("#checkout-email").inputValue(), shopper.email, "prefilled from the customer");
  assert.equal(await phone.locator("#checkout-name").inputValue(), shopper.name);
  assert.equal(await phone.locator("#checkout-postcode").inputValue(), "10115", "prefilled from the cart");
  await phone.goto(`${BASE_URL}/cart`);
  await toReview(phone, { card: CARDS.success });
  assert.equal(await text(phone, "cart-total"), total, "the review shows the engine's quote");
  await phone.getByTestId("place-order").click();
  const number = await placed(phone);
  await until(() => text(phone, "cart-count"), (n) => n === "0", "the phone's cart to be empty");

  const laptop = await (await browser.newContext(LAPTOP)).newPage();
  await signIn(laptop, shopper);
  await laptop.getByText("Your cart is empty.").waitFor();
  assert.equal(await text(laptop, "cart-count"), "0");
  await laptop.getByRole("link", { name: "My orders" }).click();
  const row = laptop.getByTestId("orders").getByRole("link", { name: new RegExp(`Order ${number}`) });
  await row.waitFor();
  assert.equal(await laptop.getByTestId("orders").locator("li").count(), 1);
  await row.click();
  assert.equal(await text(laptop, "order-total"), total);
  assert.equal(await text(laptop, "order-state"), "Placed");
  assert.match(await text(laptop, "timeline"), /placed/i);
});

test("a declined card says why and keeps the cart and what was typed; a guest's order opens by its token", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await addToCart(page, "optical-cable", "1.5 m · €9.99");
  await standardToBerlin(page);
  await toReview(page, { email: unique("guest"), name: "Gustav Guest", card: CARDS.declined });
  await page.getByTestId("place-order").click();
  await until(() => text(page, "checkout-outcome"), (t) => t.includes("declined"), "the decline");
  assert.match(await text(page, "checkout-outcome"), /the bank refused the payment/);
  assert.equal(await text(page, "cart-count"), "1", "the cart is kept");

  // A reload keeps the form (not the card: asked for again).
  await page.reload();
  await step(page, "Payment");
  assert.equal(await page.getByLabel("Card number").inputValue(), "");
  await page.getByRole("button", { name: "Back" }).click();
  await page.getByRole("button", { name: "Back" }).click();
  assert.equal(await page.locator("#checkout-name").inputValue(), "Gustav Guest");
  assert.equal(await page.locator("#checkout-street").inputValue(), "Invalidenstr. 1");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Card number").fill(CARDS.success);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByTestId("place-order").click();
  const number = await placed(page);
  await page.getByRole("link", { name: "View your order" }).click();
  await until(() => text(page, "order-state"), (t) => t === "Placed", "the guest's order page");
  assert.equal(await text(page, "cart-count"), "0");
  await page.getByRole("button", { name: "Cancel order" }).click();
  await page.getByRole("button", { name: "Yes, cancel the order" }).click();
  await until(() => text(page, "order-state"), (t) => t === "Cancelled", "the cancelled order");
  assert.ok(number);
});

test("a price change between review and placement is shown and confirmed", async () => {
  const context = await browser.newContext(PHONE);
  await customer(context, "Paula Price");
  const page = await context.newPage();
  // The page is shown an old price: its total is not the server's.
  await page.route("**/api/snapshot", async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    const variant = json.products.flatMap((p) => p.variants).find((v) => v.sku === "LUM-OLED-C4-48");
    variant.price = "999.00";
    await route.fulfill({ response, json });
  });
  await addToCart(page, "lumina-oled-c4", '48" · €999.00');
  await standardToBerlin(page);
  const seen = await text(page, "cart-total");
  await toReview(page, { card: CARDS.success });
  await page.getByTestId("place-order").click();
  const change = page.getByTestId("price-changed");
  await change.waitFor();
  const shown = await change.textContent();
  assert.ok(shown.includes(seen), `the total seen (${seen}) in "${shown}"`);
  assert.match(shown, /Lumina OLED C4[^:]*: €[\d,.]+ → €[\d,.]+/, "the line whose price changed");
  assert.equal((await orders(context)).length, 0, "nothing placed at the old price");
  const button = await text(page, "place-order");
  assert.ok(!button.includes(seen), "the button asks for the new total");
  await page.getByTestId("place-order").click();
  await placed(page);
  const [order] = await orders(context);
  assert.ok(shown.includes(`€${Number(order.total.amount).toLocaleString("en-US", { minimumFractionDigits: 2 })}`), "the new total is the order's");
});

test("a double tap and a retry after a lost answer make one order with one key", async () => {
  const context = await browser.newContext(PHONE);
  await customer(context, "Doris Double");
  const page = await context.newPage();
  await addToCart(page, "optical-cable", "1.5 m · €9.99");
  await standardToBerlin(page);
  await toReview(page, { card: CARDS.success });
  const keys = [];
  let lose = true;
  await page.route("**/api/checkout", async (route) => {
    keys.push(route.request().headers()["idempotency-key"]);
    if (lose) {
      // The server places the order; its answer never reaches the page.
      lose = false;
      await route.fetch();
      await route.abort("connectionreset");
    } else {
      await route.continue();
    }
  });
  await page.getByTestId("place-order").dblclick();
  await until(() => text(page, "checkout-outcome"), (t) => t.includes("offline"), "the lost answer");
  assert.equal(keys.length, 1, "one request for the double tap");
  await page.getByTestId("place-order").click();
  await placed(page);
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1], "the retry reuses the attempt's key");
  assert.equal((await orders(context)).length, 1, "one order");
});

test("an answer lost and the emptied cart pulled since: the same attempt asks what became of it", async () => {
  const context = await browser.newContext(PHONE);
  await customer(context, "Lars Lost");
  const page = await context.newPage();
  await addToCart(page, "optical-cable", "1.5 m · €9.99");
  await standardToBerlin(page);
  await toReview(page, { card: CARDS.success });
  const keys = [];
  await page.route("**/api/checkout", async (route) => {
    keys.push(route.request().headers()["idempotency-key"]);
    await route.fetch();
    await route.abort("connectionreset");
  });
  await page.getByTestId("place-order").click();
  await until(() => text(page, "checkout-outcome"), (t) => t.includes("offline"), "the lost answer");
  await page.unroute("**/api/checkout");
  page.on("request", (r) => {
    if (r.url().endsWith("/api/checkout")) keys.push(r.headers()["idempotency-key"]);
  });
  // A reload pulls the cart the server emptied: the page cannot place it again, and asks instead.
  await page.reload();
  await page.getByRole("button", { name: "Check my order" }).click();
  await placed(page);
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1], "the attempt's key, kept across the reload");
  assert.equal((await orders(context)).length, 1, "one order");
});

const testId = (page) => page.evaluate(() => document.activeElement?.dataset.testid);

test("the bank's confirmation cancelled with Escape: nothing charged, cart and fields kept, focus back", async () => {
  const context = await browser.newContext(PHONE);
  await customer(context, "Carla Cancel");
  const page = await context.newPage();
  await addToCart(page, "optical-cable", "1.5 m · €9.99");
  await standardToBerlin(page);
  await toReview(page, { card: CARDS.challenge });
  const total = await text(page, "cart-total");
  await page.getByTestId("place-order").click();
  const dialog = page.getByRole("dialog", { name: "Confirm with your bank" });
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute("aria-modal"), "true");
  assert.ok((await dialog.textContent()).includes(`confirm this payment of ${total}`), "the amount to confirm");
  await until(() => testId(page), (id) => id === "challenge", "focus moved into the dialog");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Cancel", "Tab stays in the dialog");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  await until(() => text(page, "checkout-outcome"), (t) => t.includes("did not confirm"), "the cancelled confirmation");
  assert.match(await text(page, "checkout-outcome"), /nothing was charged/);
  await until(() => testId(page), (id) => id === "place-order", "focus back on the button");
  assert.equal(await text(page, "cart-count"), "1", "the cart is kept");
  assert.equal((await orders(context)).length, 0, "no order");
  await page.getByRole("button", { name: "Back" }).click();
  await step(page, "Payment");
  assert.equal(await page.getByLabel("Card number").inputValue(), CARDS.challenge, "the card typed is kept");
  assert.ok((await page.locator(".test-cards").textContent()).includes("4000002760003184"), "the test card is listed");
});

test("the bank's confirmation confirmed, its answer lost and sent again with the same key: one order", async () => {
  const context = await browser.newContext(PHONE);
  await customer(context, "Conrad Confirm");
  const page = await context.newPage();
  await addToCart(page, "optical-cable", "1.5 m · €9.99");
  await standardToBerlin(page);
  await toReview(page, { card: CARDS.challenge });
  const keys = [];
  let lose = true;
  await page.route("**/api/checkout/*/complete", async (route) => {
    keys.push(route.request().headers()["idempotency-key"]);
    if (lose) {
      lose = false;
      await route.fetch();
      await route.abort("connectionreset");
    } else {
      await route.continue();
    }
  });
  await page.getByTestId("place-order").click();
  const dialog = page.getByRole("dialog", { name: "Confirm with your bank" });
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await until(() => dialog.textContent(), (t) => t.includes("offline"), "the lost answer, said in the dialog");
  assert.equal((await orders(context)).length, 1, "the server placed it");
  await dialog.getByRole("button", { name: "Confirm" }).click();
  const number = await placed(page);
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1], "the retry reuses the completion's key");
  await until(() => text(page, "cart-count"), (n) => n === "0", "the emptied cart");
  const all = await orders(context);
  assert.deepEqual(all.map((o) => o.number), [number], "one order, the one confirmed");
});
