// Shared helpers for the end-to-end tests: Debian's Chromium driven by playwright-core.
import { chromium } from "playwright-core";

export const BASE_URL = process.env.OMNICART_URL ?? "http://127.0.0.1:8080";
export const MIKE = { email: "mike@demo.omnicart.dev", password: "omnicart-demo" };
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
  await until(() => text(page, "sync-state"), (t) => t === "All changes saved", "the cart to be saved");
}

export async function signIn(page, { email, password }) {
  await page.goto(`${BASE_URL}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${BASE_URL}/cart`);
  await until(() => page.getByRole("link", { name: "Mike Demo" }).count(), (n) => n === 1, "the signed-in header");
  await saved(page);
}

export async function addToCart(page, productId, variantLabel) {
  await page.goto(`${BASE_URL}/product/${productId}`);
  await page.getByLabel(variantLabel, { exact: false }).check();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart").waitFor();
  await saved(page);
}
