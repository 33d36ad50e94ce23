// The portal in a real browser (headless Chromium through playwright-core): a citizen
// logs in through the development identity provider, sees a status, creates a proof; a
// museum's application verifies it by code and by the credential of its QR code; the
// citizen finds both checks under "who consulted my data". Screenshots go to OUT.
// Run by internal/portal/e2e_test.go, which starts the hub and passes:
//   BASE, PERSON, RIGHT, CLIENT_ID, CLIENT_SECRET, OUT, CHROMIUM,
//   GRANTOR_ID, GRANTOR_SECRET (an application of RIGHT's granting institution), FROM (a
//   day PERSON holds RIGHT), ADMIN_TOKEN (an administrator's, for the console)
// PERSON holds RIGHT (a right of the rights engine, granted by its decision) and the
// old-age pension (a programme of the beneficiary registry, no decision covers it).
import { chromium } from "playwright-core";
import path from "node:path";

const { BASE, PERSON, RIGHT, CLIENT_ID, CLIENT_SECRET, OUT, GRANTOR_ID, GRANTOR_SECRET, FROM, ADMIN_TOKEN } = process.env;
const shot = (page, name) => page.screenshot({ path: path.join(OUT, name + ".png"), fullPage: true });
const fail = (msg) => { throw new Error(msg); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const violations = [];
const watch = (page) => page.on("console", (m) => {
  if (m.type() === "error") { violations.push(m.text()); }
});
const result = {};
try {
  // A phone-sized citizen, in English.
  const citizen = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "en-GB" });
  const c = await citizen.newPage();
  watch(c);
  await c.goto(BASE + "/portal/");
  await shot(c, "01-login");
  await c.click("#login-eid");
  await c.waitForURL(/\/devidp\/authorize/);
  await c.fill("#person", PERSON);
  await shot(c, "02-dev-idp");
  await c.click("#login");
  await c.waitForURL(BASE + "/portal/");
  const card = c.locator('[data-status="programme:old-age-pension"]');
  if (!(await card.isVisible())) fail("the statuses page does not show the old-age pension");
  // The right, from the engine's decision, with its explanation: the rule in words and
  // the facts with their source and date.
  const right = c.locator(`li.card.holds[data-status="right:${RIGHT}"]`);
  if (!(await right.isVisible())) fail("the statuses page does not show the right " + RIGHT + " as held");
  const decision = (await right.locator(".decision").textContent()).trim();
  if (!/granted, from \d{4}-\d{2}-\d{2}/.test(decision)) fail("the right's decision reads: " + decision);
  await right.locator("details.explanation summary").click(); // opened from the keyboard's element
  const readable = (await right.locator(".readable").textContent()).trim();
  if (!readable.startsWith("alive and")) fail("the rule in words reads: " + readable);
  const facts = await right.locator("table.facts tbody tr").evaluateAll((rows) =>
    rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent.trim())));
  if (!facts.length || facts.some((f) => f.length !== 4 || !f[2] || !/^\d{4}-\d{2}-\d{2}$/.test(f[3]))) {
    fail("the right's facts lack a source or a date: " + JSON.stringify(facts));
  }
  result.right = { decision, readable, facts: facts.length };
  await right.screenshot({ path: path.join(OUT, "03-right-explained.png") });
  await shot(c, "03-statuses");

  // My data: every source listed answers for a normal person; the rights decisions are
  // a link to the statuses page.
  await c.click('a[href="/portal/data"]');
  const failing = await c.locator(".source-error").count();
  if (failing || (await c.getByText("could not answer").count())) fail(failing + " sources on the data page could not answer");
  if (!(await c.locator('a.elsewhere[href="/portal/statuses"]').count())) fail("the data page does not link the rights decisions to the statuses page");
  result.sources = await c.locator("section.source").count();
  await shot(c, "03-data");

  await c.click('a[href="/portal/proof"]');
  await c.selectOption("#status", "right:" + RIGHT);
  await c.click("#create-proof");
  const code = (await c.textContent("#proof-code")).trim();
  const jwt = (await c.inputValue("#jwt")).trim();
  const qr = await c.locator("img.qr").evaluate((img) => img.complete && img.naturalWidth);
  if (!code || !jwt || !qr) fail("no proof: code " + code + ", credential " + jwt.length + " bytes, QR " + qr);
  result.credentialBytes = jwt.length;
  await shot(c, "04-proof");

  // The museum's desk, in French.
  const desk = await browser.newContext({ locale: "fr-BE" });
  const d = await desk.newPage();
  watch(d);
  await d.goto(BASE + "/portal/pro");
  await d.fill("#client_id", CLIENT_ID);
  await d.fill("#client_secret", CLIENT_SECRET);
  await d.click('button[type="submit"]:not(.logout button)');
  await d.waitForSelector("#verify");
  await d.fill("#pcode", code.toLowerCase());
  await d.click("#check");
  await d.waitForSelector("#verdict");
  if (!(await d.locator("#verdict.valid").count())) fail("the code was not valid: " + (await d.textContent("#verdict")));
  if ((await d.getAttribute("#verdict-status", "data-status")) !== "right:" + RIGHT) fail("the verdict is not about " + RIGHT);
  result.codeName = (await d.textContent("#verdict-name")).trim();
  await shot(d, "05-verify-code");
  await d.fill("#credential", jwt);
  await d.click("#check");
  await d.waitForSelector("#verdict");
  if (!(await d.locator("#verdict.valid").count())) fail("the credential was not valid: " + (await d.textContent("#verdict")));
  await shot(d, "06-verify-credential");

  await c.click('a[href="/portal/consultations"]');
  const rows = await c.locator("#consultations tbody tr", { hasText: "MUSEUM" }).count();
  if (rows < 2) fail("who consulted my data shows " + rows + " checks by the museum; want 2");
  result.museumRows = rows;
  await shot(c, "07-consultations");
  await c.click("#lang");
  if ((await c.getAttribute("html", "lang")) !== "fr") fail("the language switch did not give French");
  await shot(c, "08-consultations-fr");
  await c.click('a[href="/portal/transparency"]');
  await c.fill("#q", "pension");
  await c.press("#q", "Enter"); // the keyboard submits the search
  await c.waitForSelector("#authorizations");
  if (!(await c.locator("#authorizations tbody tr").count())) fail("the transparency page lists no authorization for pension");
  await shot(c, "09-transparency-fr");

  // The granting body reports the benefit it granted, on the professional page.
  const grantor = await browser.newContext({ locale: "en-GB" });
  const g = await grantor.newPage();
  watch(g);
  await g.goto(BASE + "/portal/pro");
  await g.fill("#client_id", GRANTOR_ID);
  await g.fill("#client_secret", GRANTOR_SECRET);
  await g.click('button[type="submit"]:not(.logout button)');
  await g.waitForSelector("#benefit");
  await g.selectOption("#b-action", "report");
  await g.fill("#b-person", PERSON);
  await g.selectOption("#b-right", RIGHT);
  await g.fill("#b-benefit", "Social energy tariff applied");
  await g.fill("#b-reference", "E2E-1");
  await g.fill("#b-from", FROM);
  await g.click("#report");
  await g.waitForSelector("#benefit-result");
  if ((await g.textContent("#benefit-ref").catch(() => "")).trim() !== "E2E-1") fail("the report was not recorded: " + (await g.textContent("#benefit-result")));
  await shot(g, "10-benefit-reported");
  // The citizen finds it on the statuses page, under the right, with who reported it.
  await c.goto(BASE + "/portal/statuses");
  const benefit = c.locator(`li.card[data-status="right:${RIGHT}"] li.benefit[data-reference="E2E-1"]`);
  if (!(await benefit.isVisible())) fail("the citizen's statuses page does not show the benefit reported");
  result.benefitBy = (await benefit.locator(".reporter").textContent()).trim();
  await benefit.screenshot({ path: path.join(OUT, "11-benefit-seen.png") });

  // The operators' console draws its charts from the hub's own metrics.
  const ops = await browser.newContext({ locale: "en-GB" });
  const o = await ops.newPage();
  watch(o);
  await o.goto(BASE + "/portal/admin");
  await o.fill("#token", ADMIN_TOKEN);
  await o.click('button[type="submit"]:not(.logout button)');
  await o.waitForSelector("#chart-throughput");
  for (const id of ["#chart-throughput", "#chart-errors"]) {
    const w = await o.locator(id).evaluate((img) => img.complete && img.naturalWidth);
    if (!w) fail("the console's chart " + id + " did not load");
  }
  result.consoleTables = await o.locator("#authorizations tbody tr").count();
  await o.locator("figure.chart").first().screenshot({ path: path.join(OUT, "12-console-chart.png") });
  await shot(o, "13-console");
  if (violations.length) fail("console errors (CSP?): " + violations.join(" | "));
  result.ok = true;
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
