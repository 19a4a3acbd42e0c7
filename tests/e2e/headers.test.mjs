// The Content-Security-Policy the server sends lets the real storefront run and blocks
// nothing it needs: every page of a shopper's journey loads, prices a cart and reports no
// policy violation.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, PHONE, launch, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

test("the storefront runs under its Content-Security-Policy with no violation", async () => {
  const page = await (await browser.newContext(PHONE)).newPage();
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const answer = await page.goto(BASE_URL);
  const csp = answer.headers()["content-security-policy"];
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  assert.equal(answer.headers()["x-content-type-options"], "nosniff");
  await page.getByRole("link", { name: /Lumina OLED C4/ }).first().click();
  await page.getByRole("button", { name: /Add to cart/ }).first().click();
  await page.goto(`${BASE_URL}/cart`);
  await until(() => page.getByTestId("cart-lines").locator("li.line").count(), (n) => n >= 1, "a cart line");
  for (const path of ["/", "/cart", "/sign-in", "/orders"]) {
    await page.goto(`${BASE_URL}${path}`);
    await page.locator("main").first().waitFor();
  }
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  // The policy is enforced: an inline script the server did not ship is blocked (and seen).
  const ran = await page.evaluate(async () => {
    window.__injected = false;
    const s = document.createElement("script");
    s.textContent = "window.__injected = true";
    document.body.append(s);
    await new Promise((r) => setTimeout(r, 100));
    return window.__injected;
  });
  assert.equal(ran, false);
  assert.match((await page.evaluate(() => window.__violations)).join(), /script-src/);
});
