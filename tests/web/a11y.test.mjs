// a11y.test.mjs - every page, in both languages and with large text: labels,
// names, alt text, unique ids, and the resident pages on a phone without
// sideways scrolling; the login done with the keyboard alone.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, login, a11yProblems, overflowsSideways, pageProblems, ADMIN_PASSWORD } from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

// Each page and what is there once it has loaded its data and drawn it,
// waited for in turn: the check reads the page as its user would see it,
// not a page still half drawn.
const PAGES = [
  ["/finder.html", ["#street option:nth-child(2)", "#m-needs input"]],
  ["/report.html", ["#category option:nth-child(2)", "#report-map.leaflet-container"]],
  // Live (console.sync drawn), and the task list read.
  ["/console.html", ["#conn.open", '#tasks[aria-busy="false"]']],
  // Live, and the list read again on connecting.
  ["/desk.html", ["#live-state[data-state=open]", "#list-summary[data-state=ready]"]],
  ["/dashboard.html", ["body[data-loaded=true]", "#coverage-map path.leaflet-interactive"]],
  ["/admin.html", ["body[data-loaded=true]"]],
  // The first page of entries drawn.
  ["/audit.html", ["body[data-loaded=true]", '#results[aria-busy="false"]']],
  ["/account.html", ["body[data-loaded=true]"]],
];

/** Opens path and waits for each of the ready selectors in turn. */
async function open(page, path, ready) {
  await page.goto(page.server.url + path);
  for (const sel of ready) await page.locator(sel).first().waitFor({ state: "attached" });
}

for (const lang of ["zh", "en"]) {
  test(`every page names its controls (${lang}, large text)`, async () => {
    const page = await newPage(browser, server, { lang, large: true });
    await login(page, "admin");
    const found = [];
    for (const [path, ready] of PAGES) {
      await open(page, path, ready);
      for (const p of await a11yProblems(page)) found.push(`${path}: ${p}`);
      assert.equal(await page.getAttribute("html", "lang"), lang === "zh" ? "zh-CN" : "en", path);
    }
    assert.deepEqual(found, []);
    assert.deepEqual(pageProblems(page), []);
    await page.context().close();
  });
}

test("the check itself finds what it should", async () => {
  const page = await newPage(browser, server);
  await page.goto(server.url + "/finder.html");
  await page.evaluate(() => {
    const box = document.createElement("div");
    box.innerHTML = '<input id="x1"><button></button><img src="/vendor/leaflet/images/layers.png"><span id="x1"></span>';
    document.body.append(box);
  });
  const found = await a11yProblems(page);
  assert.equal(found.length, 4, found.join("; "));
  await page.context().close();
});

test("the resident pages fit a phone with large text", async () => {
  const page = await newPage(browser, server, { mobile: true, large: true });
  await login(page, "demo-resident");
  for (const [path, ready] of PAGES.slice(0, 2)) {
    await open(page, path, ready);
    assert.equal(await overflowsSideways(page), false, `${path} scrolls sideways on a phone`);
    assert.deepEqual(await a11yProblems(page), [], path);
  }
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("logging in works with the keyboard alone", async () => {
  const page = await newPage(browser, server);
  await page.goto(server.url + "/");
  // Tab from the top of the page until the username field has the focus.
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement?.id === "username")) break;
  }
  assert.equal(await page.evaluate(() => document.activeElement?.id), "username");
  await page.keyboard.type("admin");
  await page.keyboard.press("Tab");
  await page.keyboard.type(ADMIN_PASSWORD);
  await page.keyboard.press("Enter");
  await page.locator("#home").waitFor({ state: "visible" });
  // The first tile is reachable and opens with Enter.
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement?.closest("#tiles") !== null)) break;
  }
  const href = await page.evaluate(() => document.activeElement?.getAttribute("href"));
  assert.equal(href, "/finder.html");
  await page.keyboard.press("Enter");
  await page.waitForURL((u) => u.pathname === "/finder.html");
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});
