// Delivery options and "check in store", computed by the engine in the page: from the browser's
// location when the shopper allows it, from a postcode when not; and the cart's delivery choice,
// chosen with the keyboard, priced into the total and kept in the cart across a reload.
// The clock is real, so dates are checked by shape, never by value.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, PHONE, addToCart, launch, saved, text, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

const BERLIN = { latitude: 52.52, longitude: 13.405 };
// "Today", "Tomorrow", "Tue 24 Nov", optionally with a time window.
const DATE = /\b(Today|Tomorrow|(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec))\b/;
const OPTION = /^(Standard|Express|Same day|Scheduled), /;

const texts = (locator) => locator.allInnerTexts().then((all) => all.map((t) => t.replace(/\s+/g, " ").trim()));
const cents = (money) => Math.round(Number(money.replace(/[€,]/g, "")) * 100);

test("with location allowed, the product page shows delivery options and the nearest stores", async () => {
  const context = await browser.newContext({ ...PHONE, permissions: ["geolocation"], geolocation: BERLIN });
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/product/playstation-5`);
  const delivery = page.getByTestId("delivery-options");
  await delivery.getByText("In stock", { exact: true }).waitFor();
  assert.equal(await page.getByTestId("delivery-option").count(), 0, "nothing is asked or shown before the shopper asks");

  await page.getByRole("button", { name: "Use my location" }).click();
  await page.getByTestId("destination-current").getByText("Delivering to your location").waitFor();
  const options = await until(() => texts(page.getByTestId("delivery-option")), (t) => t.length > 0, "delivery options");
  for (const option of options) {
    assert.match(option, OPTION, `an option names its level: ${option}`);
    assert.match(option, /€\d|Free/, `an option has a charge: ${option}`);
    assert.match(option, DATE, `an option has a date: ${option}`);
  }
  // Free delivery over €99: the charge before the promotion is shown struck through.
  assert.ok(await delivery.locator("s.was").count() > 0, "a promotion's saving is shown");

  const stores = page.getByTestId("store");
  const first = await until(() => texts(stores), (t) => t.length > 0, "stores").then((t) => t[0]);
  assert.match(first, /^omnicart Berlin Alexanderplatz/, "the nearest store comes first");
  assert.match(first, /\b0\.\d km\b/, "with its distance");
  assert.match(first, /5 in stock/);
  assert.match(first, new RegExp(`Ready: ${DATE.source}.* from \\d\\d:\\d\\d`));

  // Another option of the product: options and stores are worked out again for it.
  await page.getByLabel("Pro ·", { exact: false }).check();
  await until(() => delivery.getAttribute("data-sku"), (s) => s === "PS5-PRO", "options for the Pro");
  await until(() => texts(stores), (t) => /^omnicart Berlin Alexanderplatz.*Only 3 left/.test(t[0] ?? ""), "the Pro's stock in Berlin");
  assert.ok((await texts(page.getByTestId("delivery-option"))).every((t) => OPTION.test(t) && DATE.test(t)));
  await context.close();
});

test("with location off, the postcode works, and an unknown one is explained and kept", async () => {
  const context = await browser.newContext({ ...PHONE, permissions: [] });
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/product/playstation-5`);
  await page.getByRole("button", { name: "Use my location" }).click();
  await page.getByText("Location is off — enter your postcode.").waitFor();
  const postcode = page.getByLabel("Postcode");
  await until(() => page.evaluate(() => document.activeElement?.id), (id) => id === "postcode", "focus on the postcode field");

  // From here on the page prices delivery itself: no request asks the server. The postcode is
  // also a cart edit (set_address, so the shopper's other devices quote the same), synced
  // 250 ms later through /api/carts; that sync is not a question about delivery, and whether
  // it lands before the last assertion depends only on how fast this machine is.
  const requests = [];
  const asks = (url) => { const path = new URL(url).pathname; return path.startsWith("/api/") && !/^\/api\/carts(\/|$)/.test(path); };
  page.on("request", (r) => asks(r.url()) && requests.push(r.url()));
  await postcode.fill("80331");
  await page.getByRole("button", { name: "Check delivery" }).click();
  await until(() => texts(page.getByTestId("store")), (t) => /^omnicart München Kaufingerstraße/.test(t[0] ?? ""), "Munich first");
  const options = await texts(page.getByTestId("delivery-option"));
  assert.ok(options.length > 0 && options.every((t) => OPTION.test(t) && DATE.test(t)), `options: ${options}`);

  await postcode.fill("99999x");
  await postcode.press("Enter");
  await page.getByRole("alert").filter({ hasText: "We don't know the postcode" }).waitFor();
  assert.equal(await postcode.inputValue(), "99999x", "what the shopper typed stays in the field");
  assert.equal(await postcode.getAttribute("aria-invalid"), "true");
  assert.match((await texts(page.getByTestId("store")))[0], /^omnicart München/, "the last good answer stays");
  assert.deepEqual(requests, [], "delivery is never asked of the server");
  await context.close();
});

test("the cart's delivery choice is made with the keyboard, priced in and kept", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await addToCart(page, "hdmi-21-cable", "2 m · €19.99");
  await page.goto(`${BASE_URL}/cart`);
  await until(() => text(page, "cart-total"), (t) => t === "€19.99", "the cart's total");
  await page.getByLabel("Postcode").fill("10115");
  await page.getByRole("button", { name: "Check delivery" }).click();

  const fieldset = page.getByTestId("delivery-choice");
  const radios = fieldset.getByRole("radio");
  await until(() => radios.count(), (n) => n >= 3, "delivery and pickup choices");
  assert.equal(await fieldset.locator("legend").textContent(), "How would you like to get your order?");
  assert.ok(await fieldset.getByRole("radio", { name: /^Collect at omnicart Berlin Alexanderplatz/ }).count() === 1, "the nearest store");

  // Keyboard only: Space picks the focused option, the arrow moves to the next and picks it.
  await radios.nth(0).focus();
  await page.keyboard.press("Space");
  await until(() => radios.nth(0).isChecked(), (c) => c, "the first option chosen");
  await page.keyboard.press("ArrowDown");
  await until(() => radios.nth(1).isChecked(), (c) => c, "the second option chosen");
  const chosenId = await radios.nth(1).getAttribute("id");
  assert.equal(await page.evaluate(() => document.activeElement?.id), chosenId, "focus stays on the chosen option");
  assert.equal(chosenId, "delivery-level-express");

  const price = await fieldset.locator(`label[for="${chosenId}"] .choice-price`).textContent();
  assert.match(price, /^€\d+\.\d\d$/, "express is charged under €99");
  const line = page.getByTestId("delivery-line");
  await until(() => line.textContent(), (t) => t?.startsWith("Delivery (Express)") && t.endsWith(price), "the delivery line");
  const total = await text(page, "cart-total");
  assert.equal(cents(total), 1999 + cents(price), "the total includes the delivery charge");

  await saved(page);
  const cartId = await page.evaluate(() => JSON.parse(localStorage.getItem("omnicart.cart.v2")).cart_id);
  const stored = await (await page.request.get(`${BASE_URL}/api/carts/${cartId}`)).json();
  assert.deepEqual(stored.cart.delivery, { level: "express" }, "the choice is stored with the cart");

  await page.reload();
  await until(() => page.locator(`#${chosenId}`).isChecked().catch(() => false), (c) => c, "the choice after a reload");
  await until(() => text(page, "cart-total"), (t) => t === total, "the same total after a reload");
  assert.ok((await line.textContent()).startsWith("Delivery (Express)"));
  assert.equal(await page.getByLabel("Postcode").inputValue(), "10115", "the postcode is remembered");
  await context.close();
});
