// The storefront's basic journey and its handling of bad input, in a phone-sized Chromium.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, PHONE, launch, saved, text, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

test("a guest browses, adds, replaces and removes; the cart survives a reload", async () => {
  const page = await (await browser.newContext(PHONE)).newPage();
  await page.goto(BASE_URL);
  const cards = page.getByTestId("product-grid").locator("li");
  await cards.first().waitFor();
  assert.ok((await cards.count()) >= 10, "the catalogue lists the demo products");
  await page.getByRole("link", { name: /Vistra QLED Q80/ }).click();
  await page.waitForURL(/\/product\/vistra-qled-q80$/);
  await page.getByLabel('55" · €899.00').check();
  await until(() => text(page, "product-price"), (t) => t === "€899.00", "the 55\" price");
  // A service ticked before adding is attached to the TV's line when it is added.
  await page.getByLabel(/TV installation \(TVs up to 65/).check();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await saved(page);

  await page.goto(`${BASE_URL}/cart`);
  // 899.00 + installation at €49 with a TV (79.00 − 30.00), less €25 (spend €500)
  await until(() => text(page, "cart-total"), (t) => t === "€923.00", "the total with promotions");
  await page.getByLabel("Option").first().selectOption({ label: '65"' });
  await until(() => text(page, "cart-total"), (t) => t === "€1,223.00", "the total after replacing 55\" by 65\"");
  const firstLine = await page.getByTestId("cart-lines").locator("li.line").first().getAttribute("data-sku");
  assert.equal(firstLine, "VIS-Q80-65", "a replaced line keeps its position");
  const installation = page.locator('li.service-line[data-for="VIS-Q80-65"]');
  await installation.waitFor();
  assert.equal(await installation.getAttribute("data-sku"), "SVC-INSTALL-TV", "the installation follows the replaced TV");

  const field = page.getByLabel(/Quantity of Vistra QLED Q80/);
  await field.fill("1000");
  await field.press("Enter");
  await page.getByText("At most 999 per order.").waitFor();
  assert.equal(await field.inputValue(), "1000", "what the shopper typed stays in the field");
  assert.equal(await text(page, "cart-total"), "€1,223.00", "an invalid quantity changes nothing");

  await saved(page);
  await page.reload();
  await until(() => text(page, "cart-total"), (t) => t === "€1,223.00", "the cart after a reload");
  // A service is charged per unit of its line.
  await page.getByRole("button", { name: /One more Vistra QLED Q80/ }).click();
  await until(() => installation.locator(".line-unit").textContent(), (t) => t === "2 × €79.00", "two installations for two TVs");
  await page.getByRole("button", { name: /One fewer Vistra QLED Q80/ }).click();
  await until(() => text(page, "cart-total"), (t) => t === "€1,223.00", "back to one TV");
  await page.getByRole("button", { name: /Remove TV installation/ }).click();
  await until(() => text(page, "cart-total"), (t) => t === "€1,174.00", "the total after removing");
  await page.locator("li.line").first().getByText("Add a service").click();
  await page.getByRole("button", { name: /Add TV installation \(TVs up to 65.*\) to Vistra/ }).click();
  await until(() => text(page, "cart-total"), (t) => t === "€1,223.00", "the installation added again from the cart");
});

test("a wrong password is explained and the typed email is kept", async () => {
  const page = await (await browser.newContext(PHONE)).newPage();
  await page.goto(`${BASE_URL}/sign-in`);
  await page.getByLabel("Email").fill("mike@demo.omnicart.dev");
  await page.getByLabel("Password").fill("wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("wrong email or password").waitFor();
  assert.equal(await page.getByLabel("Email").inputValue(), "mike@demo.omnicart.dev");
});
