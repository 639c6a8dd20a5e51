// home.test.mjs - logging in and out, the language switch, large text, and
// what the server sends with its pages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, login, shot, pageProblems } from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

test("a wrong password is refused with the server's reason and nothing else happens", async () => {
  const page = await newPage(browser, server);
  await page.goto(server.url + "/");
  await page.getByLabel("用户名").fill("admin");
  await page.getByLabel("密码").fill("not-the-password");
  await page.getByRole("button", { name: "登录" }).click();
  const err = page.locator("#login-error");
  await err.waitFor({ state: "visible" });
  assert.match(await err.textContent(), /password|密码/i);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("linli.token")), null);
  await page.context().close();
});

test("admin logs in, sees the pages of the role, switches language and text size, logs out", async () => {
  const page = await newPage(browser, server);
  await login(page, "admin");
  const tiles = await page.locator("#tiles a").allTextContents();
  assert.deepEqual(tiles, ["找服务", "随手拍", "一键呼坐席", "接诉即办", "全区看板", "用户与角色", "审计日志", "我的账号"]);
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  await shot(page, "home-zh");
  await page.getByRole("button", { name: "English" }).click();
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.deepEqual(await page.locator("#tiles a").allTextContents(),
    ["Find services", "Snap and report", "Call console", "Case desk", "District dashboard", "Users and roles",
      "Audit log", "My account"]);
  const before = await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  await page.getByRole("button", { name: "Large text" }).click();
  const larger = await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  assert.ok(larger >= before * 1.2, `large text: ${before}px -> ${larger}px`);
  // Both choices survive a reload. The page checks the session with the
  // server before it draws itself (the language with it): wait for that.
  await page.reload();
  await page.locator("#home").waitFor({ state: "visible" });
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains("large")));
  await page.getByRole("button", { name: "Log out" }).click();
  await page.locator("#login-box").waitFor({ state: "visible" });
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("a page that needs a login sends the visitor to log in and back", async () => {
  const page = await newPage(browser, server);
  await page.goto(server.url + "/admin.html");
  await page.waitForURL((u) => u.pathname === "/" && u.searchParams.get("next") === "/admin.html");
  await login(page, "admin", null, "/admin.html");
  assert.equal(new URL(page.url()).pathname, "/admin.html");
  await page.context().close();
});

test("pages come with a content security policy, and only from the web directory", async () => {
  const r = await fetch(server.url + "/");
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-security-policy"), /script-src 'self'/);
  assert.equal(r.headers.get("x-content-type-options"), "nosniff");
  const lib = await fetch(server.url + "/vendor/leaflet/leaflet.js");
  assert.equal(lib.status, 200, "Leaflet is installed by the build");
  assert.equal(lib.headers.get("cache-control"), "public, max-age=86400");
  // Pages are checked again on each visit, and answered 304 when unchanged.
  assert.equal(r.headers.get("cache-control"), "no-cache");
  const again = await fetch(server.url + "/", { headers: { "If-None-Match": r.headers.get("etag") } });
  assert.equal(again.status, 304);
  assert.equal((await again.text()).length, 0);
  const charts = await fetch(server.url + "/vendor/echarts/echarts.min.js");
  assert.equal(charts.status, 200, "ECharts is installed by the build");
  for (const bad of ["/../CMakeLists.txt", "/%2e%2e/CMakeLists.txt", "/js/../../Makefile"]) {
    const res = await fetch(server.url + bad);
    assert.ok(res.status === 400 || res.status === 404, `${bad} -> ${res.status}`);
  }
});

test("the map document gives the district outline in WGS-84 and no tiles by default", async () => {
  const m = await server.call("GET", "/api/v1/map");
  assert.equal(m.tiles, null);
  assert.equal(m.boundary.geometry.type, "MultiPolygon");
  const [lon, lat] = m.boundary.geometry.coordinates[0][0][0];
  assert.ok(lon > 116.3 && lon < 116.8 && lat > 39.7 && lat < 40.1, `${lat},${lon}`);
  assert.ok(m.center.lat > m.bounds[0][0] && m.center.lat < m.bounds[1][0]);
});
