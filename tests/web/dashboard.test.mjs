// dashboard.test.mjs - the district dashboard: every figure on the page is
// the API's figure, formatted; a new case and a device's key press show up
// without a reload; street staff see their street; other roles are turned
// away.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { startServer, launchBrowser, newPage, login, shot, pageProblems, LINLID } from "./harness.mjs";

let server, browser;
// The facilities report is newer than the others: its checks are skipped
// only when this linlid has no such route.
const routes = execFileSync(LINLID, ["--routes"]).toString();
const HAS_FACILITIES = /^GET \/api\/v1\/reports\/facilities$/m.test(routes);

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await server.addUser("dash-street", "street", "110105001");
  await server.addUser("dash-community", "community", "110105001024");
  // One community large enough to be due for a split.
  await server.call("PATCH", "/api/v1/areas/110105001024", { households: 3456, residents: 8100, elderly: 2100 }, "admin");
  // Two cases this month, so that the case panel has a unit to rank.
  for (const title of ["楼道堆物", "单元门口堆放纸箱"]) {
    await server.call("POST", "/api/v1/cases", { category: "corridor_clutter", title, area_code: "110105001024" }, "admin");
  }
});
after(async () => { await browser?.close(); await server?.stop(); });

// Which API report each data-metric names.
const REPORTS = {
  hotline: "/api/v1/reports/hotline", facilities: "/api/v1/reports/facilities",
  coverage: "/api/v1/reports/coverage", cases: "/api/v1/reports/cases",
  recurring: "/api/v1/reports/cases/recurring", stations: "/api/v1/reports/station-coverage",
  oversized: "/api/v1/reports/oversized-communities",
};
// In a list, a step names the element whose code, unit, kind or rank is it.
const KEYS = ["code", "unit", "kind", "rank"];

function resolve(doc, steps, what) {
  let v = doc;
  for (const s of steps) {
    if (Array.isArray(v)) {
      v = v.find((e) => { const k = KEYS.find((key) => key in e); return k && String(e[k]) === s; });
    } else v = v === null || v === undefined ? undefined : v[s];
    assert.notEqual(v, undefined, `${what}: no ${s} in the API's answer`);
  }
  return v;
}

function format(v, fmt, lang) {
  if (v === null) return "—";
  const loc = lang === "en" ? "en-GB" : "zh-CN";
  if (fmt === "rate") return (v * 100).toFixed(1) + "%";
  if (fmt === "dec1") return new Intl.NumberFormat(loc, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v);
  return new Intl.NumberFormat(loc).format(v);
}

async function openDashboard(page) {
  await page.goto(page.server.url + "/dashboard.html");
  await page.locator("body[data-loaded=true]").waitFor({ state: "attached" });
  await page.locator("#coverage-map path.leaflet-interactive").first().waitFor();
}

/** Waits until the figure `metric` inside `within` no longer says `was`
 * and its panel is drawn (not busy); answers its number. A panel
 * refreshes on the event, at most every 10 s: hence the longer wait. */
async function changed(page, within, metric, panel, was) {
  await page.waitForFunction(([within, metric, panel, was]) => {
    const e = document.querySelector(`${within} [data-metric="${metric}"]`);
    return e && e.dataset.value !== String(was) &&
      document.getElementById("panel-" + panel).getAttribute("aria-busy") === "false";
  }, [within, metric, panel, was], { timeout: 30000 });
  return Number(await page.locator(`${within} [data-metric="${metric}"]`).getAttribute("data-value"));
}

/** Lists every handling unit, not only the first ones. */
async function showAllUnits(page) {
  const toggle = page.locator("#units-toggle");
  if (await toggle.count() && (await toggle.getAttribute("aria-expanded")) === "false") {
    await toggle.click();
    await page.locator('#units-toggle[aria-expanded="true"]').waitFor();
  }
}

/** Every figure on the page, with the report it came from, read in one go
 * inside the page once no panel is loading. (A live page redraws panels at
 * any time: `$$eval` finds the elements and reads them in two steps, and a
 * redraw in between left it reading figures already taken off the page.) */
async function figures(page) {
  await page.waitForFunction(() => !document.querySelector('.panel[aria-busy="true"]'));
  return page.evaluate(() => [...document.querySelectorAll("[data-metric]")].map((e) => ({
    metric: e.dataset.metric, value: e.dataset.value, format: e.dataset.format,
    text: e.textContent, source: e.closest("[data-source]")?.dataset.source ?? null,
  })));
}

/** Checks every figure against the same report read through the API as
 * `as`; answers how many figures each report gave. */
async function checkFigures(page, as, lang = "zh") {
  const figs = await figures(page);
  const answers = new Map();
  const count = {};
  for (const f of figs) {
    const [report, ...steps] = f.metric.split(".");
    assert.ok(REPORTS[report], `${f.metric}: unknown report`);
    assert.ok(f.source, `${f.metric}: no data-source above it`);
    assert.equal(f.source.split("?")[0], REPORTS[report], `${f.metric} comes from ${f.source}`);
    if (!answers.has(f.source)) answers.set(f.source, await server.call("GET", f.source, null, as));
    const want = resolve(answers.get(f.source), steps, f.metric);
    assert.ok(want === null || typeof want === "number", `${f.metric} is a number or null in the API (${want})`);
    assert.equal(f.value, want === null ? "" : String(want), `${f.metric} data-value`);
    assert.equal(f.text, format(want, f.format, lang), `${f.metric} text`);
    count[report] = (count[report] || 0) + 1;
  }
  return count;
}

test("every figure on the dashboard is the API's figure, in text as well as in the charts", async () => {
  const page = await newPage(browser, server);
  await login(page, "admin", null, "/dashboard.html");
  await openDashboard(page);
  await showAllUnits(page);
  const count = await checkFigures(page, "admin");
  for (const r of ["hotline", "coverage", "cases", "recurring", "stations", "oversized"]) assert.ok(count[r] > 0, `figures of ${r}: ${JSON.stringify(count)}`);
  // The fixed figures the panels must show.
  for (const m of ["hotline.subscribers", "hotline.proactive_services_done", "hotline.answer_time_s.p50",
    "hotline.answer_time_s.p90", "hotline.answered_within_60s", "hotline.calls.by_category.health_consultation",
    "coverage.total.share", "coverage.areas.110105001000.share", "cases.totals.response.rate",
    "cases.units.110105001024.received", "stations.totals.coverage", "stations.streets.110105001000.coverage",
    "oversized.count", "oversized.communities_total", "oversized.unknown_households",
    "oversized.items.110105001024.households"]) {
    assert.ok(await page.locator(`[data-metric="${m}"]`).count() > 0, `${m} is on the page`);
  }
  // The trend: one row per month, six of them, each from its own report.
  const months = await page.locator("#cases-trend-table tr[data-source]").evaluateAll((rows) => rows.map((r) => r.dataset.source));
  assert.equal(months.length, 6);
  assert.equal(new Set(months).size, 6);
  // 43 streets on the map's table; a circle for each one with a point.
  assert.equal(await page.locator("#coverage-table tbody tr").count(), 43);
  assert.ok(await page.locator("#coverage-map path.leaflet-interactive").count() >= 28);
  // Charts are drawn.
  for (const id of ["hotline-chart", "cases-chart", "stations-chart", "coverage-map"]) {
    assert.ok(await page.locator(`#${id} canvas, #${id} svg`).count() > 0, `${id} drew`);
  }
  // The table sorts by share, and says so.
  const shareHead = page.locator('#coverage-table th:has(button[data-sort="share"])');
  const before = await shareHead.getAttribute("aria-sort");
  await page.locator('#coverage-table button[data-sort="share"]').click();
  const after = await shareHead.getAttribute("aria-sort");
  assert.notEqual(before, after);
  const shares = await page.locator('#coverage-table [data-metric$=".share"]').evaluateAll((els) =>
    els.map((e) => e.dataset.value).filter((v) => v !== "").map(Number));
  const sorted = [...shares].sort((a, b) => (after === "ascending" ? a - b : b - a));
  assert.deepEqual(shares, sorted);
  await page.locator("#updated-at").filter({ hasText: /更新于 \d\d:\d\d:\d\d/ }).waitFor();
  await shot(page, "dashboard-zh");
  // Another need redraws the coverage from its own report.
  await page.getByLabel("服务需求").selectOption("day_care");
  await page.waitForFunction(() => document.getElementById("coverage-body").dataset.source.includes("service=day_care")
    && document.getElementById("panel-coverage").getAttribute("aria-busy") === "false");
  await checkFigures(page, "admin");
  await page.getByLabel("服务需求").selectOption("meals");
  await page.waitForFunction(() => document.getElementById("coverage-body").dataset.source.includes("service=meals"));
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("the facilities panel shows the directory's figures", { skip: !HAS_FACILITIES && "GET /api/v1/reports/facilities is not in this linlid yet" }, async () => {
  const page = await newPage(browser, server);
  await login(page, "admin", null, "/dashboard.html");
  await openDashboard(page);
  assert.ok(await page.locator("#facilities-missing").isHidden());
  const count = await checkFigures(page, "admin");
  assert.ok(count.facilities >= 3 + 7 * 5, `facility figures: ${count.facilities}`);
  const api = await server.call("GET", "/api/v1/reports/facilities", null, "admin");
  assert.equal(await page.locator('[data-metric="facilities.beds_total"]').getAttribute("data-value"), String(api.beds_total));
  assert.ok(await page.locator("#facilities-chart canvas").count() > 0);
  await page.context().close();
});

test("a new case and a change of period show on the dashboard without a reload", async () => {
  const page = await newPage(browser, server);
  await login(page, "admin", null, "/dashboard.html");
  await openDashboard(page);
  await page.locator("#live-state.ok").waitFor();
  await showAllUnits(page);
  const received = page.locator('#cases-kpis [data-metric="cases.totals.received"]');
  const was = Number(await received.getAttribute("data-value"));
  const marker = await page.evaluate(() => { window.__samePage = true; return true; });
  await server.call("POST", "/api/v1/cases", { category: "small_ads", title: "电线杆小广告", area_code: "110105001025" }, "admin");
  // The event comes at once; the dashboard refreshes at most every 10 s.
  assert.equal(await changed(page, "#cases-kpis", "cases.totals.received", "cases", was), was + 1, "the count of cases grew");
  assert.equal(await received.textContent(), String(was + 1));
  assert.ok(await page.locator('[data-metric="cases.units.110105001025.received"]').count() > 0, "the new unit is ranked");
  assert.equal(await page.evaluate(() => window.__samePage), marker, "no reload");
  await checkFigures(page, "admin");
  // This year's period: the hotline and case panels ask for it.
  await page.getByLabel("统计期间").selectOption("year");
  const year = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric" }).format(new Date());
  await page.waitForFunction((y) => {
    const h = document.getElementById("hotline-body").dataset.source || "";
    const c = document.getElementById("cases-body").dataset.source || "";
    const done = ["hotline", "cases"].every((p) => document.getElementById("panel-" + p).getAttribute("aria-busy") === "false");
    return done && h.includes("from=" + y + "-01-01") && c.includes("from=" + y + "-01-01");
  }, year);
  await checkFigures(page, "admin");
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("a key press on a call device raises the calls total without a reload", async () => {
  // A device bound to someone of the demo district, as the call centre's desk does it.
  const people = await server.call("GET", "/api/v1/people?community=110105001024&limit=1", undefined, "admin");
  assert.equal(people.items.length, 1, "the demo has someone in 110105001024");
  const dev = await server.call("POST", "/api/v1/devices", { serial: `DASH${Date.now()}`.slice(0, 32), model: "LX-5K" }, "admin");
  await server.call("POST", "/api/v1/subscriptions", { device_id: dev.id, person_id: people.items[0].id }, "admin");

  const page = await newPage(browser, server);
  await login(page, "admin", null, "/dashboard.html");
  await openDashboard(page);
  await page.locator("#live-state.ok").waitFor();
  const total = page.locator('#hotline-kpis [data-metric="hotline.calls.total"]');
  const was = Number(await total.getAttribute("data-value"));
  const marker = await page.evaluate(() => { window.__samePage = true; return true; });
  const ev = await server.deviceEvent(dev.serial, dev.secret, { event_id: "dash-key-1", type: "key", key: "health" });
  assert.ok(ev.call_id, "the key press made a call");
  // call.updated comes at once; the panel refreshes at most every 10 s (and
  // its safety refresh is minutes away, so this is the event's doing).
  assert.equal(await changed(page, "#hotline-kpis", "hotline.calls.total", "hotline", was), was + 1, "the calls total grew");
  assert.equal(await page.evaluate(() => window.__samePage), marker, "no reload");
  await checkFigures(page, "admin");
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("in English with large text the dashboard keeps its figures and layout", async () => {
  const page = await newPage(browser, server, { lang: "en", large: true });
  await login(page, "admin", null, "/dashboard.html");
  await openDashboard(page);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await page.locator("h1").textContent(), "District dashboard");
  await checkFigures(page, "admin", "en");
  // Nothing is wider than the window.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page overflows by ${overflow}px`);
  await shot(page, "dashboard-en-large");
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("street staff see their own street; a community account is turned away", async () => {
  const page = await newPage(browser, server);
  await login(page, "dash-street", null, "/dashboard.html");
  await openDashboard(page);
  await page.locator("#scope-line").filter({ hasText: "建外街道" }).waitFor();
  const count = await checkFigures(page, "dash-street");
  assert.ok(count.coverage > 0 && count.stations > 0 && count.hotline > 0);
  // Coverage by community, all of them in the street.
  const codes = await page.locator('#coverage-table [data-metric$=".share"]').evaluateAll((els) =>
    els.map((e) => e.dataset.metric.split(".")[2]));
  assert.ok(codes.length > 1);
  for (const c of codes) assert.ok(c.startsWith("110105001") && !c.endsWith("000"), c);
  await shot(page, "dashboard-street");
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();

  const other = await newPage(browser, server);
  await login(other, "dash-community", null, "/dashboard.html");
  await other.locator("main .notice.error", { hasText: "您的账号没有这项权限" }).waitFor();
  assert.equal(await other.locator("[data-metric]").count(), 0);
  await other.context().close();
});
