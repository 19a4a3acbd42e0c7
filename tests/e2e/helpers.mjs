// Shared helpers for the end-to-end tests: Debian's Chromium driven by playwright-core.
import { chromium } from "playwright-core";

export const BASE_URL = process.env.OMNICART_URL ?? "http://127.0.0.1:8080";
export const MIKE = { email: "mike@demo.omnicart.dev", password: "omnicart-demo" };
/** The other demo customer (segment `vip`): test files that edit a signed-in cart use one each. */
export const KYLIE = { email: "kylie@demo.omnicart.dev", password: "omnicart-demo", name: "Kylie Demo" };
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
export const LAPTOP = { viewport: { width: 1280, height: 800 } };

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

/** Polls `read` until it returns something `ok` accepts; fails with the last value seen. */
export async function until(read, ok, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

export const text = (page, testId) => page.getByTestId(testId).first().textContent();

export async function saved(page) {
  await until(() => text(page, "sync-state"), (t) => t === "Saved", "the cart to be saved");
}

export async function signIn(page, { email, password, name = "Mike Demo" }) {
  await page.goto(`${BASE_URL}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${BASE_URL}/cart`);
  await until(() => page.getByRole("link", { name }).count(), (n) => n === 1, "the signed-in header");
  await saved(page);
}

/** The cart page's lines (gifts left out) as { sku: quantity }. */
export function lines(page) {
  return page.evaluate(() => Object.fromEntries(
    [...document.querySelectorAll('[data-testid="cart-lines"] li.line:not(.gift)')]
      .map((li) => [li.dataset.sku, Number(li.querySelector('input[type="number"]').value)])));
}

/** Waits until the cart page shows exactly `want` ({ sku: quantity }). */
export async function showsLines(page, want, what) {
  const sorted = (o) => JSON.stringify(Object.entries(o).sort());
  await until(() => lines(page), (l) => sorted(l) === sorted(want), what);
}

/** This browser's stored cart state (see `omnicart.cart.v2` in src/store.rs). */
export const stored = (page) => page.evaluate(() => JSON.parse(localStorage.getItem("omnicart.cart.v2")));

/** Empties the cart from the cart page (a shared demo customer's cart may hold what other tests left). */
export async function emptyCart(page) {
  await page.goto(`${BASE_URL}/cart`);
  await saved(page);
  const remove = page.getByTestId("cart-lines").locator("li.line:not(.gift)").getByRole("button", { name: /^Remove / });
  while ((await remove.count()) > 0) {
    await remove.first().click();
  }
  await page.getByText("Your cart is empty.").waitFor();
  await saved(page);
}

export async function addToCart(page, productId, variantLabel) {
  await page.goto(`${BASE_URL}/product/${productId}`);
  await page.getByLabel(variantLabel, { exact: false }).check();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart").waitFor();
  await saved(page);
}

/** The demo's integration key, as a WMS, a store's tool or a call centre sends it. */
export const INTEGRATION = { "x-integration-key": "omnicart-demo-integration-key" };

/** From a filled cart: delivery to Berlin at standard or (`pickup`) collection at omnicart
 *  Berlin Alexanderplatz, then a guest's checkout paid by test card; the order number, on the
 *  confirmation page. `who` names the shopper (and makes the email unique). */
export async function guestCheckout(page, { who, pickup = false }) {
  await page.goto(`${BASE_URL}/cart`);
  await page.locator("#postcode").fill("10115");
  await page.getByRole("button", { name: "Check delivery" }).click();
  if (pickup) {
    await page.getByRole("radio", { name: /^Collect at omnicart Berlin Alexanderplatz/ }).check();
  } else {
    await page.locator("#delivery-level-standard").check();
  }
  await saved(page);
  await page.getByRole("link", { name: "Checkout" }).click();
  const tag = who.toLowerCase().replace(/[^a-z]+/g, "-");
  await page.locator("#checkout-email").fill(`${tag}-${Date.now()}@example.com`);
  await page.locator("#checkout-name").fill(who);
  if (!pickup) {
    await page.locator("#checkout-street").fill("Invalidenstr. 1");
    await page.locator("#checkout-city").fill("Berlin");
  }
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByTestId("place-order").click();
  await page.waitForURL(/\/checkout\/placed\//);
  return text(page, "order-number");
}

/** The order's fulfilment orders, as the integration API lists them. */
export async function fulfilmentOrders(request, number) {
  const found = await request.get(`${BASE_URL}/api/fulfilment-orders?order=${number}`, { headers: INTEGRATION });
  if (found.status() !== 200) throw new Error(`fulfilment orders: ${found.status()} ${await found.text()}`);
  return (await found.json()).fulfilment_orders;
}

/** Moves a fulfilment order as the warehouse does; its view. */
export async function moveFulfilment(request, id, body) {
  const answer = await request.post(`${BASE_URL}/api/fulfilment-orders/${id}/transitions`, { headers: INTEGRATION, data: body });
  if (answer.status() !== 200) throw new Error(`transition ${JSON.stringify(body)}: ${answer.status()} ${await answer.text()}`);
  return answer.json();
}
