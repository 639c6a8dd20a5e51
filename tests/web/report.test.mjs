// report.test.mjs - snap and report (随手拍): a volunteer photographs a
// problem and sends it (seeing a neighbour's similar report first), follows
// it in "my reports", confirms the resolution and rates it, reopens one that
// is not done; and the page's answers to a form that is not complete or a
// file that is not a picture.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, login, shot as keep, pageProblems } from "./harness.mjs";

let server, browser, here;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // A point inside the district: the centre the map document gives.
  const m = await server.call("GET", "/api/v1/map");
  here = { lat: Number(m.center.lat.toFixed(6)), lon: Number(m.center.lon.toFixed(6)) };
  await server.addUser("snap-volunteer", "volunteer", null, undefined, "王志愿");
  await server.addUser("snap-neighbour", "resident", null, undefined, "李邻居");
  await server.addUser("snap-resident", "resident", null, undefined, "赵居民");
});
after(async () => { await browser?.close(); await server?.stop(); });

/** A screenshot for the README, without the passing status message
 * (a toast that would cover part of the page). */
async function shot(page, name, opts) {
  await page.evaluate(() => { const a = document.getElementById("announce"); if (a) a.textContent = ""; });
  return keep(page, name, opts);
}

/** Notes when the page's event stream is answered: the server answers it
 * once the stream is subscribed, so events from then on reach the page.
 * (The report page shows no connection state of its own.) Answers a
 * function that waits for that. */
function watchStream(page) {
  const isStream = (r) => new URL(r.url()).pathname === "/api/v1/events" && r.ok();
  let opened;
  const open = new Promise((resolve) => { opened = resolve; });
  page.on("response", (r) => { if (isStream(r)) opened(); });
  return () => {
    // Bounded like every other wait; its failure counts only when the
    // stream has not opened by then.
    const bounded = page.waitForResponse(isStream);
    bounded.catch(() => {});
    return Promise.race([open, bounded]);
  };
}

/** Counts, from now on, the page's reads of case `id` that have come back;
 * atLeast(k) resolves once k have. */
function countReads(page, id) {
  let n = 0;
  const waiting = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname !== `/api/v1/cases/${id}`) return;
    n++;
    for (const w of waiting.filter((x) => n >= x.k)) w.resolve();
  });
  return { atLeast: (k) => (n >= k ? Promise.resolve() : new Promise((resolve) => waiting.push({ k, resolve }))) };
}

/** Metres between two {lat, lon}. */
function metres(a, b) {
  const R = 6371008.8, rad = Math.PI / 180;
  const h = Math.sin((b.lat - a.lat) * rad / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin((b.lon - a.lon) * rad / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(h));
}

/** Every case `as` reported, as the API lists them. */
async function casesOf(as) {
  return (await server.call("GET", "/api/v1/cases?mine=true&limit=100", undefined, as)).items;
}

/** A real JPEG, drawn on a canvas by the browser and exported. */
async function jpeg(page) {
  const b64 = await page.evaluate(() => {
    const c = document.createElement("canvas");
    c.width = 64; c.height = 48;
    const g = c.getContext("2d");
    g.fillStyle = "#7a5230"; g.fillRect(0, 0, 64, 48);
    g.fillStyle = "#d9c7a0"; g.fillRect(8, 10, 30, 26);
    g.fillStyle = "#2b4a6f"; g.fillRect(40, 4, 18, 40);
    return c.toDataURL("image/jpeg", 0.9).split(",")[1];
  });
  return Buffer.from(b64, "base64");
}

// The community account that handles cases of this community (made once).
const handlers = new Map();
async function handlerFor(unit) {
  if (!handlers.has(unit)) {
    const name = "snap-community-" + unit;
    await server.addUser(name, "community", unit, undefined, "社区工作人员");
    handlers.set(unit, name);
  }
  return handlers.get(unit);
}

/** Takes a case through the community's hands to resolved. */
async function resolve(c, note) {
  const staff = await handlerFor(c.unit_code);
  for (const to of ["accepted", "dispatched", "in_progress"])
    await server.call("POST", `/api/v1/cases/${c.id}/transitions`, { to }, staff);
  await server.call("POST", `/api/v1/cases/${c.id}/transitions`, { to: "resolved", note }, staff);
}

test("submit a snap report with a photo", async () => {
  // A neighbour reported the same kind of problem a few metres away.
  const near = { lat: here.lat + 0.0002, lon: here.lon + 0.0001 }; // about 24 m
  const other = await server.call("POST", "/api/v1/cases",
    { category: "corridor_clutter", title: "5号楼楼道堆放旧家具", point: near }, "snap-neighbour");
  assert.equal((await casesOf("snap-volunteer")).length, 0);

  const page = await newPage(browser, server,
    { mobile: true, geolocation: { latitude: here.lat, longitude: here.lon, accuracy: 8 } });
  const streamOpen = watchStream(page);
  await login(page, "snap-volunteer", null, "/report.html");
  await page.locator("#report-map.leaflet-container").waitFor();
  await page.locator("#category option[value=corridor_clutter]").waitFor({ state: "attached" });

  // a photo from the phone, previewed
  const photo = await jpeg(page);
  await page.getByLabel("从相册选择").setInputFiles({ name: "IMG_2041.jpg", mimeType: "image/jpeg", buffer: photo });
  const preview = page.locator("#photo-list img");
  await preview.waitFor();
  await page.waitForFunction(() => document.querySelector("#photo-list img")?.naturalWidth > 0);
  assert.match(await page.locator("#photos-hint").textContent(), /已选 1 张/);

  // where: the phone's position
  await page.getByRole("button", { name: "使用我的位置" }).click();
  await page.locator("#point-text", { hasText: "已选位置" }).waitFor();
  assert.match(await page.locator("#point-text").textContent(), /39\.\d+, 116\.\d+/);

  // the kind of problem: the neighbour's open report shows before sending
  await page.getByLabel("问题类别").selectOption("corridor_clutter");
  const item = page.locator(`#nearby-list [data-nearby-id="${other.id}"]`);
  await item.waitFor();
  const text = await item.textContent();
  assert.match(text, /5号楼楼道堆放旧家具/);
  assert.match(text, /约 2\d 米/);
  assert.match(text, /已提交/);
  await page.getByLabel("标题（选填）").fill("3号楼2单元楼道堆放纸箱");
  await page.getByLabel("问题描述").fill("楼道里堆了很多纸箱，挡住了消防通道。");
  await shot(page, "report-form-mobile");
  // the map (with the neighbour's report drawn on it) and the list, on one screen
  await page.locator("#report-map .leaflet-interactive[stroke='#8a5a00']").waitFor({ state: "attached" });
  await page.evaluate(() => document.getElementById("report-map").scrollIntoView({ block: "start" }));
  await shot(page, "report-nearby-similar", { fullPage: false });

  // a double tap sends once
  const posts = [];
  page.on("request", (r) => { if (r.method() === "POST" && r.url().endsWith("/api/v1/cases")) posts.push(r); });
  await page.getByRole("button", { name: "提交上报" }).dblclick();
  await page.locator("#report-done").waitFor();
  const number = await page.locator("#done-text").getAttribute("data-number");
  assert.match(await page.locator("#done-text").textContent(), new RegExp(number));
  assert.equal(posts.length, 1);
  assert.match(posts[0].headers()["idempotency-key"], /^[0-9a-f-]{36}$/);

  // the case as the API has it
  const mine = await casesOf("snap-volunteer");
  assert.equal(mine.length, 1);
  const c = await server.call("GET", `/api/v1/cases/${mine[0].id}`, undefined, "snap-volunteer");
  assert.equal(c.number, number);
  assert.equal(c.channel, "snap");
  assert.equal(c.category, "corridor_clutter");
  assert.equal(c.title, "3号楼2单元楼道堆放纸箱");
  assert.equal(c.photos.length, 1);
  assert.equal(c.photos[0].type, "image/jpeg");
  assert.equal(c.photos[0].width, 64);
  assert.ok(metres(c.point, here) < 3, `point ${JSON.stringify(c.point)} vs ${JSON.stringify(here)}`);

  // my reports: the case, and its detail with the photo
  await page.getByRole("link", { name: "查看这件上报" }).click();
  await page.locator("#case-detail").waitFor();
  await page.getByRole("link", { name: "我的上报" }).first().click();
  const entry = page.locator(`[data-case-number="${number}"]`);
  await entry.waitFor();
  assert.match(await entry.textContent(), /已提交.*堆物堆料/s);
  await shot(page, "report-my-list");
  await entry.click();
  await page.locator("#case-detail").waitFor();
  await page.waitForFunction(() => document.querySelector("#case-detail .case-photos img")?.naturalWidth > 0);
  assert.equal(await page.locator("#case-timeline li").count(), 1);
  assert.match(await page.locator("#case-timeline").textContent(), /提交上报/);
  await shot(page, "report-case-detail");
  // Live: the community accepts it; the open detail follows without a reload.
  await streamOpen();
  const staff = await handlerFor(c.unit_code);
  await server.call("POST", `/api/v1/cases/${c.id}/transitions`, { to: "accepted" }, staff);
  await page.locator("#case-state", { hasText: "已受理" }).waitFor();
  await page.locator("#case-timeline li[data-kind=accepted]").waitFor();
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("the reporter confirms and rates", async () => {
  const c = await server.call("POST", "/api/v1/cases",
    { category: "public_facility", title: "楼道灯不亮", description: "7号楼一层楼道灯坏了一周。", point: here },
    "snap-volunteer");
  await resolve(c, "已更换灯泡，恢复照明。");

  const page = await newPage(browser, server);
  const streamOpen = watchStream(page);
  await login(page, "snap-volunteer", null, "/report.html");
  await page.goto(server.url + "/report.html#case=" + c.id); // a case opened directly
  const detail = page.locator("#case-detail");
  await detail.waitFor();
  assert.match(await page.locator("#case-state").textContent(), /已办结/);
  const steps = await page.locator("#case-timeline li").evaluateAll((li) => li.map((e) => e.dataset.kind));
  assert.deepEqual(steps, ["submitted", "accepted", "dispatched", "in_progress", "resolved"]);
  assert.match(await page.locator("#case-timeline").textContent(), /已更换灯泡/);
  await shot(page, "report-case-resolved");

  // The step is read back twice: once after the page's own request, once on
  // the stream's event about it, in either order. Only the latest read is
  // drawn, and one that brings nothing new draws nothing: a rating being
  // chosen meanwhile stays chosen.
  await streamOpen();
  const reads = countReads(page, c.id);
  await page.getByRole("button", { name: "确认已解决" }).click();
  await page.locator("#case-state", { hasText: "已结案" }).waitFor();
  assert.equal((await server.call("GET", `/api/v1/cases/${c.id}`, undefined, "snap-volunteer")).state, "closed");
  assert.equal(await page.getByRole("button", { name: "确认已解决" }).count(), 0);

  // rating: nothing chosen is refused by the page, then a choice is stored
  await page.getByRole("button", { name: "提交评价" }).click();
  await page.getByText("请先选一项评价。").waitFor();
  assert.equal((await server.call("GET", `/api/v1/cases/${c.id}`, undefined, "snap-volunteer")).rating, null);
  await page.getByRole("radio", { name: "基本满意", exact: true }).check();
  await page.getByLabel("意见（选填）").fill("修得挺快，希望以后定期检查。");
  // Both reads have come back and been handled: the choice is still there.
  await reads.atLeast(2);
  await page.locator('#case-detail[aria-busy="false"]').waitFor();
  assert.equal(await page.getByRole("radio", { name: "基本满意", exact: true }).isChecked(), true);
  assert.equal(await page.getByLabel("意见（选填）").inputValue(), "修得挺快，希望以后定期检查。");
  await page.getByRole("button", { name: "提交评价" }).click();
  await page.locator("#my-rating").waitFor();
  assert.match(await page.locator("#my-rating").textContent(), /基本满意/);
  assert.equal(await page.getByRole("button", { name: "提交评价" }).count(), 0, "rated once");
  const after = await server.call("GET", `/api/v1/cases/${c.id}`, undefined, "snap-volunteer");
  assert.equal(after.rating.rating, "basically_satisfied");
  assert.equal(after.rating.comment, "修得挺快，希望以后定期检查。");
  const kinds = await page.locator("#case-timeline li").evaluateAll((li) => li.map((e) => e.dataset.kind));
  assert.deepEqual(kinds.slice(-2), ["closed", "rated"]);
  await shot(page, "report-case-rated");
  // the other language, on the spot
  await page.getByRole("button", { name: "English" }).click();
  await page.locator("#case-state", { hasText: "Closed" }).waitFor();
  assert.match(await page.locator("#my-rating").textContent(), /Basically satisfied/);
  assert.match(await page.locator("#case-timeline li").last().textContent(), /^Rated/);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("a resolution that is not done is reopened with a reason (in English, large text, on a phone)", async () => {
  const c = await server.call("POST", "/api/v1/cases",
    { category: "small_ads", title: "单元门小广告", point: here }, "snap-volunteer");
  await resolve(c, "已清理。");
  const page = await newPage(browser, server, { lang: "en", large: true, mobile: true });
  // Coming through the login page keeps the case asked for.
  await page.goto(server.url + "/report.html#case=" + c.id);
  await page.waitForURL((u) => u.pathname === "/");
  await login(page, "snap-volunteer", null, "/report.html");
  await page.locator("#case-detail").waitFor();
  assert.equal(await page.locator("#case-title").textContent(), "单元门小广告");
  assert.equal(await page.getByRole("button", { name: "Confirm resolved" }).count(), 1);
  assert.equal(await page.getByRole("button", { name: "Submit rating" }).count(), 1);
  assert.deepEqual(await page.getByRole("radio").evaluateAll((r) => r.map((e) => e.labels[0].textContent)),
    ["Satisfied", "Basically satisfied", "Not satisfied"]);
  // large text on a phone: nothing wider than the screen
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    "no sideways scrolling");
  await shot(page, "report-case-large-en");
  await page.getByRole("button", { name: "Not solved — reopen" }).click();
  await page.getByRole("button", { name: "Reopen", exact: true }).click();
  await page.getByText("Say what is still wrong.").waitFor();
  assert.equal((await server.call("GET", `/api/v1/cases/${c.id}`, undefined, "snap-volunteer")).state, "resolved");
  await page.getByLabel("What is still wrong?").fill("北侧单元门上的广告还在。");
  await page.getByRole("button", { name: "Reopen", exact: true }).click();
  await page.locator("#case-state", { hasText: "In progress" }).waitFor();
  const now = await server.call("GET", `/api/v1/cases/${c.id}`, undefined, "snap-volunteer");
  assert.equal(now.state, "in_progress");
  const last = now.events.at(-1);
  assert.equal(last.kind, "reopened");
  assert.equal(last.note, "北侧单元门上的广告还在。");
  assert.match(await page.locator("#case-timeline li").last().textContent(), /Reopened.*北侧单元门/s);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("what is missing is named, a file that is not a picture gets the server's answer, and a lost answer is not a second case", async () => {
  const page = await newPage(browser, server);
  await login(page, "snap-resident", null, "/report.html");
  await page.locator("#report-map.leaflet-container").waitFor();
  const submit = page.getByRole("button", { name: "提交上报" });

  // nothing chosen
  await submit.click();
  const err = page.locator("#report-error");
  await err.waitFor();
  assert.match(await err.textContent(), /请选择问题类别/);
  assert.match(await err.textContent(), /请选定位置/);
  assert.equal(await page.getByLabel("问题类别").getAttribute("aria-invalid"), "true");
  // a category but no location
  await page.getByLabel("问题类别").selectOption("sanitation");
  await submit.click();
  await err.filter({ hasNotText: "请选择问题类别" }).waitFor();
  assert.match(await err.textContent(), /请选定位置/);
  assert.equal((await casesOf("snap-resident")).length, 0);

  // the place from a click on the map
  const box = await page.locator("#report-map").boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.locator("#point-text", { hasText: "已选位置" }).waitFor();
  const shown = (await page.locator("#point-text").textContent()).match(/(\d+\.\d+), (\d+\.\d+)/);
  const picked = { lat: Number(shown[1]), lon: Number(shown[2]) };
  await page.locator("#nearby").waitFor();

  // a text file is no photo: the server says so, nothing is made
  await page.getByLabel("从相册选择").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not a picture") });
  await page.locator("#photo-list .no-preview").waitFor();
  await submit.click();
  await err.filter({ hasText: "未能提交" }).waitFor();
  const said = await err.textContent();
  assert.match(said, /not a JPEG, PNG or WebP image/);
  assert.match(said, /第 1 张照片/);
  assert.equal((await casesOf("snap-resident")).length, 0);
  await shot(page, "report-bad-photo");

  // Without the file it goes; the first answer is lost on the way back,
  // the person taps again, and the same request makes no second case.
  await page.getByRole("button", { name: "删除第 1 张照片" }).click();
  let lost = 0;
  const keys = [];
  await page.route("**/api/v1/cases", async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    keys.push(route.request().headers()["idempotency-key"]);
    if (lost++ === 0) { await route.fetch(); return route.abort("connectionreset"); }
    return route.continue();
  });
  await submit.click();
  await err.filter({ hasText: "连不上服务器" }).waitFor();
  assert.equal((await casesOf("snap-resident")).length, 1, "the first request did arrive");
  await submit.click();
  await page.locator("#report-done").waitFor();
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1]);
  const mine = await casesOf("snap-resident");
  assert.equal(mine.length, 1);
  assert.equal(await page.locator("#done-text").getAttribute("data-number"), mine[0].number);
  assert.ok(metres(mine[0].point, picked) < 2, "the point clicked on the map");
  assert.deepEqual(pageProblems(page).filter((e) => !/ERR_CONNECTION_RESET|Failed to fetch/.test(e)), []);
  await page.context().close();
});
