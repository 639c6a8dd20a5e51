// maps.test.mjs - the maps with a tile source configured that cannot be
// reached (a closed network): the tiles fail, the attribution is shown,
// and the district outline and the points still draw.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, shot } from "./harness.mjs";

// Port 9 (discard) on loopback: nothing listens there, so every tile fails.
const TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png";
let server, browser;
before(async () => {
  server = await startServer(["--map-tiles", TILES, "--map-attribution", "测试底图 Test tiles"]);
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); });

test("unreachable tiles: the outline and the points still draw", async () => {
  const m = await server.call("GET", "/api/v1/map");
  assert.deepEqual(m.tiles, { url: TILES, attribution: "测试底图 Test tiles", max_zoom: 18 });
  // A community with a meal place within 15 minutes, from the API.
  const offered = await server.call("GET", "/api/v1/facilities?service=meals&limit=50");
  let place = null;
  for (const f of offered.items.slice(0, 12)) {
    const area = await server.call("GET", "/api/v1/areas/" + f.area_code);
    if (area.level !== "community" || !area.point) continue;
    const found = await server.call("GET", `/api/v1/facilities?community=${area.code}&service=meals&minutes=15`);
    if (found.items.length) { place = { area, hits: found.items.length }; break; }
  }
  assert.ok(place, "a community with a meal place nearby");

  const page = await newPage(browser, server);
  const tileTries = [];
  const isTile = (r) => r.url().startsWith("http://127.0.0.1:9/");
  page.on("requestfailed", (r) => { if (isTile(r)) tileTries.push(r.url()); });
  await page.goto(server.url + "/finder.html");
  await page.locator(`#street option[value="${place.area.parent_code}"]`).waitFor({ state: "attached" });
  await page.selectOption("#street", place.area.parent_code);
  await page.locator(`#community option[value="${place.area.code}"]`).waitFor({ state: "attached" });
  await page.selectOption("#community", place.area.code);
  await page.selectOption("#service", "meals");
  // The map (and with it the tiles) is made by the first search. A tile's
  // failure is reported some time after its <img> is made.
  const tileFailed = page.waitForEvent("requestfailed", { predicate: isTile });
  await page.locator("#search-go").click();
  // The list is drawn before the map; the page is busy until both are.
  await page.locator('#results[aria-busy="false"]').waitFor();
  await page.locator("#results-summary").filter({ hasText: /\d/ }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll("#map .fm-origin").length === 1);
  // The tiles were asked for and failed; the map says whose they are.
  await page.waitForFunction(() => document.querySelectorAll("#map img.leaflet-tile").length > 0);
  await tileFailed;
  assert.ok(tileTries.length > 0, "the page asked for tiles");
  assert.match(await page.locator("#map .leaflet-control-attribution").textContent(), /测试底图 Test tiles/);
  // Without tiles the page does not claim to have none.
  assert.equal(await page.locator("#map.no-tiles").count(), 0);
  // The outline (an SVG path) and one marker per result and the origin are there.
  assert.ok(await page.locator("#map path.leaflet-interactive").count() >= 1, "the district outline is drawn");
  assert.equal(await page.locator("#map .fm-hit").count(), await page.locator("#result-list > li").count());
  assert.ok(await page.locator("#map .fm-hit").count() >= 1);
  await shot(page, "maps-unreachable-tiles");
  // No script error; the only failures are the tiles themselves.
  const problems = page.errors.filter((e) => !/ERR_CONNECTION_REFUSED|Failed to load resource/.test(e) &&
    !e.startsWith("request off the server: http://127.0.0.1:9/"));
  assert.deepEqual(problems, []);
  await page.context().close();
});
