// Accounts in the page: a guest's cart joins the customer's at sign-in; sign-up explains what is
// wrong field by field, keeps what was typed, and keeps the guest's cart; sign-out leaves an
// empty cart (the customer's cart stays on the server for the next sign-in).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, MIKE, PHONE, addToCart, launch, saved, showsLines, signIn, stored, text, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

const OPTICAL = "CBL-OPT-15";
const STRIP = "PWR-STRIP-6";
const PAD = "PS5-DS-BLACK";

const unique = (name) => `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
const linesOf = (cart) => Object.fromEntries(cart.lines.map((l) => [l.sku, l.quantity]));
const focused = (page) => page.evaluate(() => document.activeElement?.id);

/** A new customer, signed up through the API in a browser context of its own ("another device"),
 *  with `skus` already in their cart. */
async function customer(name, skus = []) {
  const email = unique(name.split(" ")[0].toLowerCase());
  const password = "correct horse battery";
  const device = await browser.newContext();
  const signUp = await device.request.post(`${BASE_URL}/api/auth/sign-up`, { data: { email, password, name } });
  assert.equal(signUp.status(), 201, await signUp.text());
  const { cart_id: cartId } = await signUp.json();
  const ops = skus.map((sku, i) => ({
    id: `api.${i}.${email}`.slice(0, 64), stamp: { ms: Date.now(), counter: i, device: "api" }, seen: 0,
    op: { op: "add", sku, quantity: 1 },
  }));
  const sync = await device.request.post(`${BASE_URL}/api/carts/${cartId}/sync`, { data: { cursor: 0, ops } });
  assert.equal(sync.status(), 200, await sync.text());
  await device.close();
  return { name, email, password, cartId };
}

test("a guest's cart joins the customer's cart at sign-in", async () => {
  const shopper = await customer("Gina Guest", [PAD]);
  const page = await (await browser.newContext(PHONE)).newPage();
  await addToCart(page, "optical-cable", "1.5 m · €9.99");
  await addToCart(page, "power-strip", "6 outlets · €29.99");
  const guestCart = (await stored(page)).cart_id;

  await signIn(page, shopper);
  await showsLines(page, { [OPTICAL]: 1, [STRIP]: 1, [PAD]: 1 }, "the guest's items with the customer's");
  assert.equal((await stored(page)).cart_id, shopper.cartId, "the device is on the customer's cart");
  const server = await (await page.request.get(`${BASE_URL}/api/carts/${shopper.cartId}`)).json();
  assert.deepEqual(linesOf(server.cart), { [OPTICAL]: 1, [STRIP]: 1, [PAD]: 1 });
  assert.equal((await page.request.get(`${BASE_URL}/api/carts/${guestCart}`)).status(), 404, "the guest cart is gone");
});

test("sign-up explains what is wrong, keeps what was typed, and keeps the guest's cart", async () => {
  const page = await (await browser.newContext(PHONE)).newPage();
  await addToCart(page, "optical-cable", "1.5 m · €9.99");
  await page.goto(`${BASE_URL}/sign-in`);
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.waitForURL(`${BASE_URL}/sign-up`);

  const name = page.getByLabel("Name");
  const email = page.getByLabel("Email");
  const password = page.getByLabel("Password");
  await name.fill("Sam Shopper");
  await email.fill(MIKE.email);
  await password.fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await until(() => focused(page), (id) => id === "sign-up-password", "focus on the password");
  assert.equal(await password.getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator("#sign-up-password-error").textContent(), "Choose a password of at least 8 characters.");

  await password.fill("long enough password");
  await page.getByRole("button", { name: "Create account" }).click();
  await until(() => focused(page), (id) => id === "sign-up-email", "focus on the email, which is taken");
  assert.match(await page.locator("#sign-up-email-error").textContent(), /^An account with this email exists/);
  assert.equal(await email.getAttribute("aria-invalid"), "true");
  assert.equal(await password.getAttribute("aria-invalid"), "false");
  assert.equal(await email.getAttribute("aria-describedby"), "sign-up-email-error", "the message is read with the field");
  assert.equal(await name.inputValue(), "Sam Shopper", "what was typed stays");
  assert.equal(await password.inputValue(), "long enough password");

  const address = unique("sam");
  await email.fill(address);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${BASE_URL}/cart`);
  await until(() => page.getByRole("link", { name: "Sam Shopper" }).count(), (n) => n === 1, "the signed-in header");
  await showsLines(page, { [OPTICAL]: 1 }, "the guest's cart kept");
  await saved(page);
  const me = await (await page.request.get(`${BASE_URL}/api/me`)).json();
  assert.equal(me.customer.email, address);
  assert.equal((await stored(page)).cart_id, me.cart_id);
  const server = await (await page.request.get(`${BASE_URL}/api/carts/${me.cart_id}`)).json();
  assert.deepEqual(linesOf(server.cart), { [OPTICAL]: 1 });
});

test("sign-out leaves an empty cart; the customer's cart comes back at the next sign-in", async () => {
  const shopper = await customer("Olga Out", [PAD]);
  const page = await (await browser.newContext(PHONE)).newPage();
  await signIn(page, shopper);
  await showsLines(page, { [PAD]: 1 }, "the customer's cart");

  await page.getByRole("link", { name: shopper.name }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${BASE_URL}/`);
  await until(() => page.getByRole("link", { name: "Sign in" }).count(), (n) => n === 1, "the signed-out header");
  assert.equal(await text(page, "cart-count"), "0");
  const after = await stored(page);
  assert.notEqual(after.cart_id, shopper.cartId, "a new anonymous cart");
  assert.deepEqual([after.synced, after.pending], [[], []], "a new, empty log");
  const anonymous = await (await page.request.get(`${BASE_URL}/api/carts/${after.cart_id}`)).json();
  assert.deepEqual(anonymous.cart.lines, []);
  assert.equal((await page.request.get(`${BASE_URL}/api/carts/${shopper.cartId}`)).status(), 404, "the customer's cart is theirs only");
  await page.goto(`${BASE_URL}/cart`);
  await page.getByText("Your cart is empty.").waitFor();

  await signIn(page, shopper);
  await showsLines(page, { [PAD]: 1 }, "the customer's cart after signing in again");
});

test("sign-out waits while cart changes are not saved, so none is lost", async () => {
  const shopper = await customer("Una Saved");
  const page = await (await browser.newContext(PHONE)).newPage();
  await signIn(page, shopper);
  // The server turns every sync down for now: the edit stays pending on the phone.
  await page.route("**/api/carts/*/sync", (route) => route.fulfill({ status: 503, contentType: "application/json", body: '{"error":{"code":"unavailable","message":"down"}}' }));
  await page.goto(`${BASE_URL}/product/optical-cable`);
  await page.getByLabel("1.5 m · €9.99", { exact: false }).check();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart").waitFor();
  await page.getByRole("link", { name: shopper.name }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("alert").getByText("1 change to your cart is not saved yet").waitFor();
  assert.equal(await page.getByRole("link", { name: shopper.name }).count(), 1, "still signed in");
  assert.equal((await stored(page)).pending.length, 1, "the edit is kept");
  // Once the server takes it, sign-out goes ahead and the customer's cart has the cable.
  await page.unroute("**/api/carts/*/sync");
  await page.evaluate(() => window.dispatchEvent(new Event("focus"))); // as when the shopper comes back to the tab
  await saved(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${BASE_URL}/`);
  await signIn(page, shopper);
  await showsLines(page, { [OPTICAL]: 1 }, "the cable was saved before signing out");
});
