// Promotions in the page: an upsell hint added in one click, a coupon refused with its reason,
// an unknown code kept in the field to be corrected, and a coupon that beats another offer.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, PHONE, launch, saved, text, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

test("hints, coupons and the best combination for the shopper", async () => {
  const page = await (await browser.newContext(PHONE)).newPage();
  await page.goto(`${BASE_URL}/product/nordline-led-4k`);
  // The product page tells the shopper about offers before anything is in the cart.
  await page.getByTestId("offers").getByText("20% off any PlayStation 5 with your TV").waitFor();
  await page.getByLabel('43" · €379.00').check();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await saved(page);
  await page.goto(`${BASE_URL}/cart`);

  // "20% off any PlayStation 5 with your TV": the cheapest PS5 is suggested, with the saving.
  const hints = page.getByTestId("hints");
  await hints.getByText("Add PlayStation 5 Slim – Digital edition: save €90.00 more").waitFor();
  await hints.getByRole("button", { name: /Add PlayStation 5 Slim – Digital edition to cart/ }).click();
  // 379.00 + 449.99 − 90.00, less €25 (spend €500 save €25)
  await until(() => text(page, "cart-total"), (t) => t === "€713.99", "the total with the PlayStation offer");
  const ps5 = page.locator('li.line[data-sku="PS5-SLIM-DIGITAL"]');
  await ps5.getByText("20% off any PlayStation 5 with your TV").waitFor();

  const code = page.getByRole("textbox", { name: "Discount code" });
  await code.fill("stream20");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByTestId("coupons").getByText("STREAM20 · This offer ended on 1 Nov 2026.").waitFor();
  assert.equal(await text(page, "cart-total"), "€713.99", "an expired code changes nothing");

  await code.fill("nope");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByText("We don't know the code NOPE; check it for typos").waitFor();
  assert.equal(await code.inputValue(), "nope", "the mistyped code stays in the field");

  // WELCOME10 (10% of 738.99 = 73.90) does not combine with spend-and-save (25.00): the better wins.
  await code.fill("welcome10");
  await page.getByRole("button", { name: "Apply" }).click();
  await until(() => text(page, "cart-total"), (t) => t === "€665.09", "the total with WELCOME10");
  await page.getByTestId("coupons").getByText("WELCOME10 · Applied").waitFor();
  assert.equal(await text(page, "cart-savings"), "€163.90");
  await saved(page);

  // The server stored the codes with the cart and prices it the same way.
  const cartId = await page.evaluate(() => JSON.parse(localStorage.getItem("omnicart.cart.v2")).cart_id);
  const stored = await (await page.request.get(`${BASE_URL}/api/carts/${cartId}`)).json();
  assert.deepEqual(stored.cart.coupons, ["STREAM20", "WELCOME10"]);
  assert.equal(stored.quote.total.amount, "665.09");
});
