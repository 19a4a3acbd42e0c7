// Issue 17 in the page: a guest buys a TV with its installation and, on the confirmation, books
// the installer's visit from the free slots; on the order page moves it to another time; once
// the warehouse has delivered the TV, the survey link from the mail opens the survey without
// signing in, is answered, and a second answer is refused.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, INTEGRATION as KEY, PHONE, fulfilmentOrders, guestCheckout, launch, moveFulfilment, saved, text, until } from "./helpers.mjs";

const browser = await launch();
after(() => browser.close());

async function guestOrderOfATvWithInstallation(page) {
  await page.goto(`${BASE_URL}/product/vistra-qled-q80`);
  await page.getByLabel('55" · €899.00').check();
  await page.getByLabel(/TV installation \(TVs up to 65/).check();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await saved(page);
  return guestCheckout(page, { who: "Ina Install" });
}

/** The survey link's token in the mail about `number`, once the sender has written it. */
async function surveyToken(request, number) {
  let token;
  await until(async () => {
    const list = await (await request.get(`${BASE_URL}/dev/mail`)).text();
    for (const [, file] of list.matchAll(/href="\/dev\/mail\/([^"]+)"/g)) {
      // A long line is quoted-printable: soft line breaks and "=3D" for "=".
      const raw = await (await request.get(`${BASE_URL}/dev/mail/${file}`)).text();
      const mail = raw.replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      if (mail.includes(`How was your order ${number}`)) {
        token = mail.match(/survey\?token=([A-Za-z0-9_-]+)/)?.[1];
        if (token) return token;
      }
    }
    return undefined;
  }, (t) => !!t, "the survey mail", 30000);
  return token;
}

test("an installation visit is booked at checkout, moved, and the delivered order is surveyed once", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const number = await guestOrderOfATvWithInstallation(page);

  // Booked on the confirmation from the free slots.
  const day = page.getByLabel("Day");
  await day.waitFor();
  const firstDay = await day.inputValue();
  await page.getByRole("button", { name: "Book this time" }).click();
  await until(() => text(page, "visit"), (t) => /^Booked for /.test(t ?? ""), "the booked visit");
  const booked = await text(page, "visit");
  assert.ok(booked.includes(firstDay), booked);

  // Moved on the order page to the second day offered.
  await page.getByRole("link", { name: "View your order" }).click();
  await until(() => text(page, "visit"), (t) => /^Booked for /.test(t ?? ""), "the visit on the order page");
  await page.getByText("Move visit").click();
  const options = await page.getByLabel("Day").locator("option").allTextContents();
  const secondDay = options[1];
  await page.getByLabel("Day").selectOption(secondDay);
  await page.getByRole("button", { name: "Book this time" }).click();
  await until(() => text(page, "visit"), (t) => (t ?? "").includes(secondDay), "the moved visit");

  // The warehouse ships and delivers the TV.
  for (const parcel of await fulfilmentOrders(context.request, number)) {
    for (const body of [{ to: "picking" }, { to: "packed" }, { to: "shipped", carrier: "DHL", tracking_number: `JV${Date.now()}` }, { to: "delivered" }]) {
      await moveFulfilment(context.request, parcel.id, body);
    }
  }

  // The survey, from the mail's link, in a browser that is not signed in.
  const token = await surveyToken(context.request, number);
  const stranger = await (await browser.newContext(PHONE)).newPage();
  await stranger.goto(`${BASE_URL}/survey?token=${token}`);
  await stranger.getByRole("heading", { name: "How did we do?" }).waitFor();
  await stranger.getByRole("group", { name: "The order overall" }).getByLabel("4").check();
  await stranger.getByLabel("Anything to tell us? (optional)").fill("The installer was on time.");
  await stranger.getByRole("button", { name: "Send" }).click();
  await until(() => text(stranger, "survey-done"), (t) => /Thank you/.test(t ?? ""), "the thanks");
  const again = await context.request.post(`${BASE_URL}/api/surveys/${token}`, { data: { rating: 5 } });
  assert.equal(again.status(), 409, "answered once");
  const answers = await context.request.get(`${BASE_URL}/api/integration/surveys`, { headers: KEY });
  const mine = (await answers.json()).surveys.find((s) => s.order_number === number);
  assert.equal(mine.answer.rating, 4);
  assert.equal(mine.answer.comment, "The installer was on time.");
});
