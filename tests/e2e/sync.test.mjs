// Offline-first sync of the cart's operation log: two devices edit one cart apart and converge
// without a reload by the engine's merge rules; two tabs of one browser stay in step; edits
// made while the server cannot be reached survive a reload and are sent when it can.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  BASE_URL, KYLIE, LAPTOP, PHONE, addToCart, emptyCart, launch, saved, showsLines, signIn, stored, text, until,
} from "./helpers.mjs";

// Kylie's cart (cross-device.test.mjs edits Mike's): test files may run side by side.
const browser = await launch();
after(() => browser.close());

const A = "CBL-OPT-15"; // Optical audio cable (TOSLINK), 1.5 m
const B = "PWR-STRIP-6"; // Surge-protected power strip
const C = "PS5-DS-WHITE"; // DualSense wireless controller, White

/** Marks the page, so that a later `notReloaded` proves no navigation happened in between. */
const mark = (page) => page.evaluate(() => { window.__omnicartMark = true; });
const notReloaded = async (page) => assert.equal(await page.evaluate(() => window.__omnicartMark), true, "the page was not reloaded");

test("phone and laptop edit one cart apart and converge without a reload", async () => {
  const laptopContext = await browser.newContext(LAPTOP);
  const laptop = await laptopContext.newPage();
  await signIn(laptop, KYLIE);
  await emptyCart(laptop);
  await addToCart(laptop, "optical-cable", "1.5 m · €9.99");
  await addToCart(laptop, "power-strip", "6 outlets · €29.99");
  await laptop.goto(`${BASE_URL}/cart`);
  await showsLines(laptop, { [A]: 1, [B]: 1 }, "the laptop's cart of A and B");

  const phoneContext = await browser.newContext(PHONE);
  const phone = await phoneContext.newPage();
  await signIn(phone, KYLIE);
  await showsLines(phone, { [A]: 1, [B]: 1 }, "the same cart on the phone");
  await mark(phone);
  await mark(laptop);

  // The phone goes offline: A to 2, and C added (navigating inside the page, no network).
  await phoneContext.setOffline(true);
  await until(() => text(phone, "sync-state"), (t) => t.startsWith("Offline"), "the phone to know it is offline");
  await phone.getByRole("button", { name: /One more Optical audio cable/ }).click();
  await phone.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Shop" }).click();
  await phone.getByRole("link", { name: /DualSense wireless controller/ }).click();
  await phone.getByLabel("White", { exact: false }).check();
  await phone.getByRole("button", { name: "Add to cart" }).click();
  await phone.getByText("Added to your cart").waitFor();
  await phone.getByRole("link", { name: "View cart" }).click();
  await showsLines(phone, { [A]: 2, [B]: 1, [C]: 1 }, "the phone's offline edits, priced in the page");
  await until(() => text(phone, "sync-state"), (t) => t === "Offline: 2 changes pending", "the pending count");

  // Later, the laptop removes B and sets A to 4.
  await laptop.getByRole("button", { name: /Remove Surge-protected power strip/ }).click();
  const field = laptop.getByLabel(/Quantity of Optical audio cable/);
  await field.fill("4");
  await field.press("Enter");
  await showsLines(laptop, { [A]: 4 }, "the laptop's edits");
  await saved(laptop);

  // The phone comes back: both show the merged cart. A: the laptop's quantity (set later, last
  // writer wins); B: removed; C: added.
  await phoneContext.setOffline(false);
  const merged = { [A]: 4, [C]: 1 };
  await showsLines(phone, merged, "the merged cart on the phone");
  await saved(phone);
  await showsLines(laptop, merged, "the merged cart on the laptop, pulled without a reload");
  assert.equal(await text(laptop, "cart-count"), "5");
  assert.equal(await text(phone, "cart-count"), "5");
  assert.equal(await text(phone, "cart-total"), await text(laptop, "cart-total"), "the same total on both");
  await notReloaded(phone);
  await notReloaded(laptop);

  // The server's cart, replayed by the same engine, agrees.
  const cartId = (await stored(laptop)).cart_id;
  const server = await (await laptop.request.get(`${BASE_URL}/api/carts/${cartId}`)).json();
  assert.deepEqual(Object.fromEntries(server.cart.lines.map((l) => [l.sku, l.quantity])), merged);

  // Where to deliver is part of the cart: a postcode entered on the laptop brings the delivery
  // choices to the phone too, without a reload.
  await laptop.getByLabel("Postcode").fill("10115");
  await laptop.getByRole("button", { name: "Check delivery" }).click();
  await saved(laptop);
  const choices = phone.getByTestId("delivery-choice").getByRole("radio");
  await until(() => choices.count(), (n) => n >= 3, "the delivery choices on the phone, for the laptop's postcode");
  await notReloaded(phone);
  await phoneContext.close();
  await laptopContext.close();
});

test("an edit in one tab appears in the other without a reload", async () => {
  const context = await browser.newContext(LAPTOP);
  const first = await context.newPage();
  await addToCart(first, "optical-cable", "1.5 m · €9.99");
  const second = await context.newPage();
  await second.goto(`${BASE_URL}/cart`);
  await showsLines(second, { [A]: 1 }, "the cart in the second tab");
  await mark(second);

  await addToCart(first, "power-strip", "6 outlets · €29.99");
  await showsLines(second, { [A]: 1, [B]: 1 }, "the first tab's edit in the second");
  assert.equal(await text(second, "cart-count"), "2");

  await first.goto(`${BASE_URL}/cart`);
  await mark(first);
  await second.getByRole("button", { name: /One more Optical audio cable/ }).click();
  await showsLines(first, { [A]: 2, [B]: 1 }, "the second tab's edit in the first");
  await saved(first);
  await saved(second);
  await notReloaded(first);
  await notReloaded(second);

  // One cart, each edit stored once however many tabs pushed it.
  const [one, two] = [await stored(first), await stored(second)];
  assert.equal(one.cart_id, two.cart_id);
  assert.deepEqual(one.pending, []);
  const server = await (await first.request.get(`${BASE_URL}/api/carts/${one.cart_id}`)).json();
  assert.deepEqual(Object.fromEntries(server.cart.lines.map((l) => [l.sku, l.quantity])), { [A]: 2, [B]: 1 });
  await context.close();
});

test("edits made while the server is unreachable survive a reload and are sent later", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await addToCart(page, "optical-cable", "1.5 m · €9.99");
  await page.goto(`${BASE_URL}/cart`);
  await showsLines(page, { [A]: 1 }, "the cart");

  // The cart API cannot be reached (the page itself and the catalogue still load: there is no
  // service worker to serve them offline yet).
  await context.route("**/api/carts/**", (route) => route.abort("internetdisconnected"));
  await page.getByRole("button", { name: /One more Optical audio cable/ }).click();
  await page.getByRole("button", { name: /One more Optical audio cable/ }).click();
  await until(() => text(page, "sync-state"), (t) => t === "Offline: 2 changes pending", "the edits pending");

  await page.reload();
  await showsLines(page, { [A]: 3 }, "the pending edits after a reload");
  await until(() => text(page, "sync-state"), (t) => t === "Offline: 2 changes pending", "still pending after a reload");
  assert.equal((await stored(page)).pending.length, 2);

  // The connection is back: the browser says so, and the edits are sent.
  await context.unroute("**/api/carts/**");
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  await saved(page);
  assert.deepEqual((await stored(page)).pending, []);
  const cartId = (await stored(page)).cart_id;
  const server = await (await page.request.get(`${BASE_URL}/api/carts/${cartId}`)).json();
  assert.deepEqual(Object.fromEntries(server.cart.lines.map((l) => [l.sku, l.quantity])), { [A]: 3 });
  await context.close();
});

test("the server's answers: failures are retried, a bad operation is dropped with its reason, a cart that is gone is replaced", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await addToCart(page, "optical-cable", "1.5 m · €9.99");
  await page.goto(`${BASE_URL}/cart`);
  await showsLines(page, { [A]: 1 }, "the cart");

  // The server fails for a while: the edit is kept and retried (with backoff) until it is saved.
  const failing = (route) => route.fulfill({ status: 503, contentType: "application/json",
    body: JSON.stringify({ error: { code: "unavailable", message: "try again later" } }) });
  await context.route("**/api/carts/*/sync", failing);
  await page.getByRole("button", { name: /One more Optical audio cable/ }).click();
  await until(() => text(page, "sync-state"), (t) => t === "Couldn't save, retrying", "the retrying state");
  await context.unroute("**/api/carts/*/sync", failing);
  await saved(page);
  await showsLines(page, { [A]: 2 }, "the edit, saved after the retry");

  // An edit the server's catalogue refuses (as when a product is withdrawn while the edit waits
  // on a phone), queued with a good one.
  await page.evaluate(() => {
    const state = JSON.parse(localStorage.getItem("omnicart.cart.v2"));
    const stamp = (counter) => ({ ms: Date.now(), counter, device: state.id });
    state.pending.push(
      { id: `${state.id}.withdrawn`, stamp: stamp(0), seen: 0, op: { op: "add", sku: "WITHDRAWN-1", quantity: 1 } },
      { id: `${state.id}.good`, stamp: stamp(1), op: { op: "set_quantity", sku: "CBL-OPT-15", quantity: 3 } },
    );
    localStorage.setItem("omnicart.cart.v2", JSON.stringify(state));
    window.dispatchEvent(new Event("online"));
  });
  await page.getByRole("alert").filter({ hasText: "A change to your cart could not be saved and was undone: WITHDRAWN-1" }).waitFor();
  await showsLines(page, { [A]: 3 }, "the good edit kept");
  await saved(page);
  const cartId = (await stored(page)).cart_id;
  let server = await (await page.request.get(`${BASE_URL}/api/carts/${cartId}`)).json();
  assert.deepEqual(Object.fromEntries(server.cart.lines.map((l) => [l.sku, l.quantity])), { [A]: 3 });

  // The cart goes (it joined a customer's cart at a sign-up made elsewhere with its id): the
  // next edit lands in a new anonymous cart, and nothing pending is lost.
  const elsewhere = await browser.newContext();
  const email = `gone-${Date.now()}@example.com`;
  const signUp = await elsewhere.request.post(`${BASE_URL}/api/auth/sign-up`,
    { data: { email, password: "correct horse battery", name: "Elsewhere", cart_id: cartId } });
  assert.equal(signUp.status(), 201);
  await elsewhere.close();
  assert.equal((await page.request.get(`${BASE_URL}/api/carts/${cartId}`)).status(), 404);
  await page.getByRole("button", { name: /One more Optical audio cable/ }).click();
  await page.getByRole("alert").filter({ hasText: "Your cart was no longer available" }).waitFor();
  await saved(page);
  const state = await stored(page);
  assert.notEqual(state.cart_id, cartId);
  server = await (await page.request.get(`${BASE_URL}/api/carts/${state.cart_id}`)).json();
  assert.deepEqual(Object.fromEntries(server.cart.lines.map((l) => [l.sku, l.quantity])), { [A]: 4 }, "the pending edit, re-homed");
  await showsLines(page, { [A]: 4 }, "the page shows the new cart");
  await context.close();
});
