// Live cart updates (issue 19, part 4) and cross-origin use (part 5).
// Two browser contexts signed in as one new customer see each other's edits as they happen
// (server-sent events, not the 5 s poll): the propagation from a click on one to the other
// showing it is measured over 20 edits and its p95 printed (BENCHMARKS.md).
// A page on a listed second origin (OMNICART_SECOND_ORIGIN, see scripts/test) reads the
// snapshot and edits a cart with a bearer token; one on an unlisted origin cannot.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { BASE_URL, LAPTOP, PHONE, addToCart, launch, saved, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

const CABLE = "Ultra High Speed HDMI";
const quantity = (page) => page.getByLabel(new RegExp(`Quantity of ${CABLE}`)).inputValue().catch(() => "");

async function signedUp(options, account) {
  const context = await browser.newContext(options);
  const path = account.created ? "/api/auth/sign-in" : "/api/auth/sign-up";
  const data = account.created ? { email: account.email, password: account.password } : account;
  const reply = await context.request.post(`${BASE_URL}${path}`, { data });
  assert.ok(reply.ok(), `${path}: ${reply.status()} ${await reply.text()}`);
  account.created = true;
  return context.newPage();
}

test("two contexts on one cart see each other's edits within a second", async () => {
  const account = { email: `live-${Date.now()}@example.com`, password: "live-updates-1", name: "Live Test" };
  const phone = await signedUp(PHONE, account);
  const laptop = await signedUp(LAPTOP, { email: account.email, password: account.password, created: true });
  await addToCart(phone, "hdmi-21-cable", "2 m · €19.99");
  await phone.goto(`${BASE_URL}/cart`);
  await laptop.goto(`${BASE_URL}/cart`);
  await until(() => quantity(laptop), (q) => q === "1", "the laptop to show the phone's cable");
  await saved(phone);
  await saved(laptop);

  const times = [];
  for (let i = 0; i < 20; i++) {
    // Alternate the device that edits: each sees the other's.
    const [from, to] = i % 2 === 0 ? [phone, laptop] : [laptop, phone];
    const want = String(2 + i);
    const started = performance.now();
    await from.getByRole("button", { name: new RegExp(`One more ${CABLE}`) }).click();
    await until(() => quantity(to), (q) => q === want, `edit ${i + 1} on the other device`, 10000);
    times.push(performance.now() - started);
    await saved(from);
  }
  times.sort((a, b) => a - b);
  const p95 = times[Math.ceil(0.95 * times.length) - 1];
  const median = times[Math.floor(times.length / 2)];
  console.log(`live propagation over ${times.length} edits: median ${median.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, max ${times.at(-1).toFixed(0)} ms`);
  assert.ok(p95 <= 1000, `p95 ${p95.toFixed(0)} ms is over 1 s (the 5 s poll would give seconds)`);
});

/** A tiny page server on `port` whose page calls the shop at BASE_URL from its own origin. */
function pageServer(port) {
  const page = `<!doctype html><title>frontend</title><script>
    window.tryShop = async () => {
      const out = {};
      try {
        const snap = await fetch(${JSON.stringify(BASE_URL)} + "/api/snapshot");
        out.snapshot = snap.status;
        const cart = await (await fetch(${JSON.stringify(BASE_URL)} + "/api/carts", { method: "POST" })).json();
        const issued = await (await fetch(${JSON.stringify(BASE_URL)} + "/api/auth/token", {
          method: "POST", headers: { "content-type": "application/json" },
          body: JSON.stringify({ cart_id: cart.id }) })).json();
        const edit = await fetch(${JSON.stringify(BASE_URL)} + "/api/carts/" + cart.id + "/ops", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer " + issued.token },
          body: JSON.stringify({ version: cart.version, ops: [{ op: "add", sku: "CBL-HDMI21-2M", quantity: 2 }] }) });
        out.edited = (await edit.json()).cart.lines.length;
      } catch (e) { out.error = String(e); }
      return out;
    };</script>`;
  const server = http.createServer((_, res) => { res.setHeader("content-type", "text/html"); res.end(page); });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

test("a page on a listed origin reads the snapshot and edits a cart with a token; an unlisted one cannot", async () => {
  const listed = process.env.OMNICART_SECOND_ORIGIN;
  // Never skipped: scripts/test sets it and lists it in the server's OMNICART_CORS_ORIGINS.
  assert.ok(listed, "OMNICART_SECOND_ORIGIN must name an origin the server lists in OMNICART_CORS_ORIGINS");
  const listedPort = Number(new URL(listed).port);
  const servers = [await pageServer(listedPort), await pageServer(0)];
  after(() => servers.forEach((s) => s.close()));
  const unlisted = `http://127.0.0.1:${servers[1].address().port}`;
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${listed}/`);
  const allowed = await page.evaluate(() => window.tryShop());
  assert.deepEqual(allowed, { snapshot: 200, edited: 1 }, JSON.stringify(allowed));
  await page.goto(`${unlisted}/`);
  const refused = await page.evaluate(() => window.tryShop());
  assert.match(refused.error ?? "", /Failed to fetch/, JSON.stringify(refused));
});
