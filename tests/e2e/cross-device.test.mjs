// One customer, two devices: a phone adds items, a laptop sees the same cart and total, edits it
// (once while offline: the page prices the edit itself), and the phone sees the edit on reload.
// Totals include the demo promotions: "spend €500 save €25", a free cable over €1,000 and
// "HDMI cables: buy 2, get the cheapest free".
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, LAPTOP, MIKE, PHONE, addToCart, emptyCart, launch, saved, signIn, text, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

test("a cart follows the customer from phone to laptop and back", async () => {
  const phone = await (await browser.newContext(PHONE)).newPage();
  await signIn(phone, MIKE);
  // Mike is shared with sync.test.mjs: start from an empty cart whatever ran before.
  await emptyCart(phone);
  await addToCart(phone, "lumina-oled-c4", '55" · €1,399.00');
  await addToCart(phone, "hdmi-21-cable", "2 m · €19.99");
  assert.equal(await text(phone, "cart-count"), "2");
  await phone.goto(`${BASE_URL}/cart`);
  assert.equal(await text(phone, "cart-total"), "€1,393.99");

  const laptopContext = await browser.newContext(LAPTOP);
  const laptop = await laptopContext.newPage();
  await signIn(laptop, MIKE);
  await until(() => laptop.getByTestId("cart-total").count(), (n) => n === 1, "the laptop's cart");
  assert.equal(await text(laptop, "cart-total"), "€1,393.99", "same cart, same total on the laptop");
  assert.equal(await laptop.getByTestId("cart-lines").locator("li.line:not(.gift)").count(), 2);
  assert.equal(await laptop.getByTestId("cart-lines").locator("li.line.gift").count(), 1, "the free cable over €1,000");

  await laptop.getByRole("button", { name: /One more Ultra High Speed HDMI/ }).click();
  await until(() => text(laptop, "cart-total"), (t) => t === "€1,413.98", "the laptop's new total");
  await saved(laptop);

  // Offline, the page still prices the edit at once and keeps it until the connection returns.
  await laptopContext.setOffline(true);
  await laptop.getByRole("button", { name: /One more Ultra High Speed HDMI/ }).click();
  // The third cable is free (buy 2, get 1): the total stays, the savings grow.
  await until(() => text(laptop, "cart-savings"), (t) => t === "€44.99", "the offline savings");
  assert.equal(await text(laptop, "cart-total"), "€1,413.98");
  await until(() => text(laptop, "sync-state"), (t) => t.startsWith("Offline: 1 change"), "the offline notice");
  await laptopContext.setOffline(false);
  await saved(laptop);

  await phone.reload();
  await until(() => text(phone, "cart-savings"), (t) => t === "€44.99", "the phone to see the laptop's edit");
  assert.equal(await text(phone, "cart-total"), "€1,413.98");
  const quantity = await phone.getByLabel(/Quantity of Ultra High Speed HDMI/).inputValue();
  assert.equal(quantity, "3");
});
