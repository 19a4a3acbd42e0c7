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
