// web_bench.mjs - how fast the pages are ready, measured in Debian's
// Chromium (playwright-core) against a running linlid (bench/web_bench.sh
// starts it on the demo district). Not a test: nothing here passes or fails.
//
//  (a) every page, cold (a new browser context: empty cache) and warm (the
//      same context again: the libraries from cache): milliseconds from
//      navigation to the page showing its data, requests, bytes received;
//  (b) the dashboard with ECharts' "common" build (what it loads) against
//      the whole library served in its place, alternating, cold;
//  (c) the finder: from pressing "search" to the list drawn, against the same
//      API query timed from Node over one kept-alive connection.
//
// Usage: node bench/web_bench.mjs URL ADMIN_PASSWORD DEMO_PASSWORD [ROUNDS]
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const { chromium } = await import(path.join(root, "web/node_modules/playwright-core/index.mjs"));
const [url, adminPw, demoPw, roundsArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg || 7);

const browser = await chromium.launch({
  executablePath: process.env.LINLI_CHROMIUM || "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});

async function token(user, pw) {
  const r = await fetch(url + "/api/v1/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: user, password: pw }),
  });
  if (!r.ok) throw new Error(`login ${user}: ${r.status}`);
  return (await r.json()).token;
}

// A context already logged in (the token in sessionStorage, as the login page leaves it).
async function context(tok, user) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  if (tok) {
    await ctx.addInitScript(([t, u]) => {
      sessionStorage.setItem("linli.token", t);
      sessionStorage.setItem("linli.user", JSON.stringify(u));
    }, [tok, user]);
  }
  return ctx;
}

// Counts what came over the network through Chromium's own accounting
// (DevTools protocol): finished loads and the bytes received (headers and
// body as sent: a file answered from the cache or by a 304 is ~0). Event
// streams never finish, so they are not counted.
async function meter(page) {
  const m = { requests: 0, bytes: 0 };
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  cdp.on("Network.loadingFinished", (e) => { m.requests++; m.bytes += e.encodedDataLength; });
  return m;
}

const PAGES = [
  { path: "/finder.html", user: null, ready: async (p) => p.locator("#street option:nth-child(2)").waitFor({ state: "attached" }) },
  { path: "/report.html", user: "demo-resident", ready: async (p) => p.locator("#category option:nth-child(2)").waitFor({ state: "attached" }) },
  { path: "/console.html", user: "demo-operator", ready: async (p) => p.locator("#presence:not([disabled])").waitFor() },
  { path: "/desk.html", user: "demo-community", ready: async (p) => p.locator("[data-case-number]").first().waitFor() },
  { path: "/dashboard.html", user: "demo-district", ready: async (p) => p.locator("body[data-loaded=true]").waitFor({ timeout: 120000 }) },
  { path: "/admin.html", user: "admin", ready: async (p) => p.locator("table tbody tr").first().waitFor() },
];

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

async function loadOnce(ctx, pg) {
  const page = await ctx.newPage();
  const m = await meter(page);
  const t0 = performance.now();
  await page.goto(url + pg.path);
  await pg.ready(page);
  const ms = performance.now() - t0;
  await page.waitForTimeout(200); // let the last responses be counted
  await page.close();
  return { ms, ...m };
}

const out = [];
const w = (s) => { out.push(s); console.log(s); };
const tokens = {};
const users = {};
for (const pg of PAGES) {
  if (pg.user && !tokens[pg.user]) {
    tokens[pg.user] = await token(pg.user, pg.user === "admin" ? adminPw : demoPw);
    const me = await fetch(url + "/api/v1/me", { headers: { Authorization: "Bearer " + tokens[pg.user] } });
    users[pg.user] = await me.json();
  }
}

w("#### (a) pages: navigation to data shown (median of " + ROUNDS + ")");
w("");
w("| page | as | cold ms | warm ms | requests cold / warm | KB received cold / warm |");
w("|---|---|---:|---:|---:|---:|");
for (const pg of PAGES) {
  const cold = [], warm = [];
  for (let i = 0; i < ROUNDS; i++) {
    const ctx = await context(tokens[pg.user], users[pg.user]);
    cold.push(await loadOnce(ctx, pg));
    warm.push(await loadOnce(ctx, pg));
    await ctx.close();
  }
  const c = median(cold.map((x) => x.ms)), wm = median(warm.map((x) => x.ms));
  w(`| ${pg.path} | ${pg.user || "—"} | ${c.toFixed(0)} | ${wm.toFixed(0)} | ${median(cold.map((x) => x.requests))} / ${median(warm.map((x) => x.requests))} | ${(median(cold.map((x) => x.bytes)) / 1024).toFixed(0)} / ${(median(warm.map((x) => x.bytes)) / 1024).toFixed(0)} |`);
}
w("");

// (b) ECharts common vs the whole library, alternating.
const full = fs.readFileSync(path.join(root, "web/vendor/echarts/echarts.min.js"));
const dash = PAGES.find((p) => p.path === "/dashboard.html");
const res = { common: [], full: [] };
for (let i = 0; i < ROUNDS; i++) {
  for (const kind of ["common", "full"]) {
    const ctx = await context(tokens[dash.user], users[dash.user]);
    if (kind === "full")
      await ctx.route("**/vendor/echarts/echarts.common.min.js", (r) => r.fulfill({ body: full, contentType: "text/javascript" }));
    res[kind].push(await loadOnce(ctx, dash));
    await ctx.close();
  }
}
const mc = median(res.common.map((x) => x.ms)), mf = median(res.full.map((x) => x.ms));
w("#### (b) the dashboard, cold: ECharts' common build against the whole library (alternating, median of " + ROUNDS + ")");
w("");
w("| ECharts | ms to all figures | KB |");
w("|---|---:|---:|");
w(`| common (served) | ${mc.toFixed(0)} | ${(median(res.common.map((x) => x.bytes)) / 1024).toFixed(0)} |`);
w(`| whole library | ${mf.toFixed(0)} | ${(median(res.full.map((x) => x.bytes)) / 1024).toFixed(0)} |`);
w(`| whole ÷ common | **${(mf / mc).toFixed(2)}x** | |`);
w("");

// (c) the finder's search: the page against the bare API call.
const areas = await (await fetch(url + "/api/v1/areas?level=community&limit=1000")).json();
const withPoint = (areas.items || []).filter((a) => a.point || (a.lat !== undefined && a.lat !== null));
const ctx = await context(null, null);
const page = await ctx.newPage();
await page.goto(url + "/finder.html");
await PAGES[0].ready(page);
const pageMs = [], apiMs = [];
for (let i = 0; i < ROUNDS * 3; i++) {
  const a = withPoint[(i * 37) % withPoint.length];
  await page.selectOption("#street", a.parent_code || a.code.slice(0, 9) + "000");
  await page.locator(`#community option[value="${a.code}"]`).waitFor({ state: "attached" });
  await page.selectOption("#community", a.code);
  await page.selectOption("#service", "meals");
  await page.selectOption("#minutes", "15");
  // Timed inside the page: the click, the request, the list and the map
  // markers drawn, up to the next frame painted (no driver round trips).
  pageMs.push(await page.evaluate(() => new Promise((resolve) => {
    const summary = document.querySelector("#results-summary");
    summary.textContent = "";
    const t0 = performance.now();
    const obs = new MutationObserver(() => {
      if (!summary.textContent || document.querySelector("#results").hidden) return;
      obs.disconnect();
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
    });
    obs.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    document.querySelector("#search-go").click();
  })));
  const t1 = performance.now();
  const r = await fetch(`${url}/api/v1/facilities?community=${a.code}&service=meals&minutes=15&limit=50`);
  await r.json();
  apiMs.push(performance.now() - t1);
}
await ctx.close();
const mp = median(pageMs), ma = median(apiMs);
w("#### (c) the finder: pressing search to the list and map drawn, against the API query alone (median of " + pageMs.length + ")");
w("");
w("| | ms |");
w("|---|---:|");
w(`| page (request, list and map markers drawn, next frame painted; timed in the page) | ${mp.toFixed(1)} |`);
w(`| API call from Node | ${ma.toFixed(1)} |`);
w(`| page ÷ API | **${(mp / ma).toFixed(1)}x** |`);
w("");
// (d) the coverage report behind the dashboard's map: computed (a walk of
// minutes not asked before) against the same question again (kept).
const auth = { headers: { Authorization: "Bearer " + tokens[dash.user] } };
const computed = [], kept = [];
for (let i = 0; i < ROUNDS; i++) {
  const u = `${url}/api/v1/reports/coverage?service=meals&level=street&minutes=${(15 + (i + 1) / 100).toFixed(2)}`;
  for (const into of [computed, kept]) {
    const t0 = performance.now();
    const r = await fetch(u, auth);
    if (r.status !== 200) throw new Error("coverage answered " + r.status);
    await r.json();
    into.push(performance.now() - t0);
  }
}
const mcomp = median(computed), mkept = median(kept);
w("#### (d) the 15-minute coverage report per street: computed against kept (median of " + ROUNDS + ")");
w("");
w("| | ms |");
w("|---|---:|");
w(`| computed (a walk not asked before: every elderly person scanned) | ${mcomp.toFixed(1)} |`);
w(`| kept (the same question again; nothing it counts changed) | ${mkept.toFixed(1)} |`);
w(`| computed ÷ kept | **${(mcomp / mkept).toFixed(0)}x** |`);
w("");
await browser.close();
fs.mkdirSync(path.join(root, "bench/results"), { recursive: true });
fs.writeFileSync(path.join(root, "bench/results/web.md"), out.join("\n") + "\n");
