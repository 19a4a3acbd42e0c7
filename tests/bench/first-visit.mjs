// The shopper's first minute on a phone, measured in headless Chromium (issue 18, part 6):
// for each link profile (DevTools network throttling) with 4× CPU slowdown, the time to first
// content and until a product page shows its price, cold (a new browser profile) and warm
// (the same profile's second visit), the median of RUNS, and the bytes transferred.
// Usage: OMNICART_URL=http://127.0.0.1:8080 node tests/bench/first-visit.mjs
// (scripts/bench-first-visit starts a server and runs it).
import { chromium } from "playwright-core";

const BASE = process.env.OMNICART_URL ?? "http://127.0.0.1:8080";
const RUNS = Number(process.env.RUNS ?? 5);
const PRODUCT = process.env.PRODUCT ?? "playstation-5";
const kbit = (k) => (k * 1000) / 8; // bytes per second
const PROFILES = [
  { name: "slow (1.6 Mbit/s, 300 ms RTT)", down: kbit(1600), up: kbit(750), latency: 300 },
  { name: "fast 4G (9 Mbit/s, 150 ms RTT)", down: kbit(9000), up: kbit(9000), latency: 150 },
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});

async function visit(context, profile, path, until) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false, latency: profile.latency, downloadThroughput: profile.down, uploadThroughput: profile.up,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  let bytes = 0;
  cdp.on("Network.loadingFinished", (e) => { bytes += e.encodedDataLength; });
  const start = Date.now();
  await page.goto(BASE + path, { waitUntil: "commit" });
  await until(page);
  const shown = Date.now() - start;
  const fcp = await page.evaluate(() =>
    performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null);
  await page.close();
  return { shown, fcp, bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const price = (page) => page.getByTestId("product-price").first().waitFor({ timeout: 60000 });
const rows = [];
for (const profile of PROFILES) {
  const cold = [], warm = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
    });
    cold.push(await visit(context, profile, `/product/${PRODUCT}`, price));
    warm.push(await visit(context, profile, `/product/${PRODUCT}`, price));
    await context.close();
  }
  for (const [kind, runs] of [["cold", cold], ["warm", warm]]) {
    rows.push({
      profile: profile.name, visit: kind,
      "first content ms": Math.round(median(runs.map((r) => r.fcp))),
      "price shown ms": median(runs.map((r) => r.shown)),
      "bytes transferred": median(runs.map((r) => r.bytes)),
    });
  }
}
await browser.close();
console.log(`median of ${RUNS}, 4× CPU slowdown, phone viewport, ${BASE}/product/${PRODUCT}`);
console.table(rows);
