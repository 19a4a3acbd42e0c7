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
  await page.getByLabel("Vistra QLED Q80: option").first().selectOption({ label: '65"' });
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

test("the catalogue is searched by name and brand, sorted by price, and a lost shopper finds the way back", async () => {
  const page = await (await browser.newContext(PHONE)).newPage();
  await page.goto(BASE_URL);
  const grid = page.getByTestId("product-grid");
  const names = () => grid.locator(".card-name").allTextContents();
  const prices = async () => (await grid.locator(".card-price").allTextContents())
    .map((t) => Number(t.replace(/[^0-9.]/g, "")));
  await grid.locator("li").first().waitFor();
  const all = (await names()).length;

  await page.getByLabel("Search products").fill("playstation");
  const found = await until(names, (n) => n.length > 0 && n.length < all, "the search to narrow the grid");
  assert.ok(found.every((n) => /playstation/i.test(n)), JSON.stringify(found));
  // The brand counts too, and every word must match.
  await page.getByLabel("Search products").fill("vistra 65");
  await until(names, (n) => n.length === 0, "no product is named both");
  await page.getByTestId("no-results").waitFor();
  await page.getByLabel("Search products").fill("vistra");
  await until(names, (n) => n.length > 0 && n.every((x) => /vistra/i.test(x)), "Vistra's products");

  await page.getByLabel("Search products").fill("");
  await until(names, (n) => n.length === all, "the whole grid again");
  await page.getByLabel("Sort by").selectOption({ label: "Price: low to high" });
  const up = await until(prices, (p) => p.every((x, i) => i === 0 || p[i - 1] <= x), "prices ascending");
  await page.getByLabel("Sort by").selectOption({ label: "Price: high to low" });
  const down = await until(prices, (p) => p.every((x, i) => i === 0 || p[i - 1] >= x), "prices descending");
  assert.equal(up[0], down[down.length - 1]);

  // The product page leads with price, choice, "Add to cart" and delivery; offers limited to
  // other channels say so.
  await page.goto(`${BASE_URL}/product/vistra-qled-q80`);
  await page.getByTestId("offers").getByText("(in store or by phone only)").waitFor();
  const order = await page.evaluate(() => {
    const at = (el) => [...document.querySelectorAll("article.product *")].indexOf(el);
    return {
      add: at([...document.querySelectorAll("button")].find((b) => b.textContent === "Add to cart")),
      delivery: at(document.querySelector('[data-testid="delivery-options"]')),
      offers: at(document.querySelector('[data-testid="offers"]')),
      description: at(document.querySelector(".description")),
    };
  });
  assert.ok(order.add >= 0 && order.add < order.delivery && order.delivery < order.offers
    && order.offers < order.description, JSON.stringify(order));

  await page.goto(`${BASE_URL}/no/such/page`);
  await page.getByRole("heading", { name: "Page not found" }).waitFor();
  await page.getByRole("link", { name: "Back to the shop" }).click();
  await grid.locator("li").first().waitFor();
});
