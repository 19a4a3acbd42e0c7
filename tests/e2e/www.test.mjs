// The framework-free example in www/: the npm package quotes a cart in a plain page.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, LAPTOP, launch, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

test("www/ quotes a cart with the npm package, promotions included", async () => {
  const page = await (await browser.newContext(LAPTOP)).newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${BASE_URL}/www/`);
  await page.getByRole("button", { name: /Add Lumina OLED C4 48/ }).click();
  await page.getByRole("button", { name: /Add PlayStation 5 Slim Disc edition/ }).click();
  // 1099.00 + 549.99 − 20% of 549.99 (110.00) − €100 (spend €1,500)
  await until(() => page.locator("#total").textContent(), (t) => t === "€1,438.99", "the www total");
  await page.getByText("20% off any PlayStation 5 with your TV").waitFor();
  assert.deepEqual(errors, []);
});
