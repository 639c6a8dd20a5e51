// desk.test.mjs - the case desk (接诉即办工作台): a community worker takes a
// resident's case from submission to resolution and the reporter confirms
// it; a street whistles and a department reports in; refusals are shown and
// change nothing; a case is marked a duplicate by its number; the list is
// the server's deadline order page by page, and its overdue list; a new
// case appears without a reload.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { SOURCE, startServer, launchBrowser, newPage, login, shot, pageProblems } from "./harness.mjs";

const C = "110105001024";       // 南郎家园社区, a demo community with a centre point
const STREET = "110105001000";  // 建外街道, the street above it
const OTHER = "110105001025";   // 北郎家园社区, a neighbour
const PAGING = "110105001026";  // 永安里社区: many cases, for the list's pages

let server, browser, centre;
const ids = {};

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const area = await server.call("GET", `/api/v1/areas/${C}`, null, "admin");
  centre = area.point;
  for (const [name, role, scope] of [
    ["desk-resident", "resident", null],
    ["desk-community", "community", C],
    ["desk-street", "street", STREET],
    ["desk-other", "community", OTHER],
    ["desk-dept", "district", "110105"],
    ["desk-paging", "community", PAGING],
    ["desk-district", "district", "110105"],
  ]) ids[name] = (await server.addUser(name, role, scope)).id;
  await server.call("POST", "/api/v1/units/dept-cgj/members", { user_id: ids["desk-dept"] }, "admin");
});
after(async () => { await browser?.close(); await server?.stop(); });

let seq = 0;
/** A resident's case in community C, through the API. */
async function newCase(title) {
  seq++;
  return server.call("POST", "/api/v1/cases", {
    category: "corridor_clutter", title, description: `3号楼${seq}单元楼道堆放杂物，影响通行`,
    area_code: C, point: { lat: centre.lat + seq * 0.0004, lon: centre.lon - seq * 0.0003 },
    address: `南郎家园${seq}号楼`,
  }, "desk-resident");
}

/** A small PNG (a green square), for a photo of the result. */
function png(size = 16) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4); sum.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const raw = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) raw.set([40, 140, 70], y * (1 + size * 3) + 1 + x * 3);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

const getCase = (id, as = "admin") => server.call("GET", `/api/v1/cases/${id}`, null, as);

async function deskAs(username) {
  const page = await newPage(browser, server);
  await login(page, username, null, "/desk.html");
  await page.locator("#live-state[data-state=open]").waitFor();
  return page;
}

const detail = (page) => page.locator("#case-detail");
/** The list has been (re)read. A reload (a filter, a search, "load more",
 * the stream connecting) marks the summary loading at once, so after the
 * action that starts one this waits for that one. */
const listReady = (page) => page.locator("#list-summary[data-state=ready]").waitFor();
/** The case numbers of the list, top to bottom. */
const listed = (page) => page.locator("#case-rows [data-case-number]").evaluateAll((trs) => trs.map((tr) => tr.dataset.caseNumber));

/** Every case of an API list, following next_cursor (small pages, so the
 * cursor is used). */
async function readAll(path, as) {
  const out = [];
  let cursor = null;
  do {
    const page = await server.call("GET", path + (path.includes("?") ? "&" : "?") + "limit=20" +
      (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""), null, as);
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}
async function stateIs(page, label) {
  await detail(page).locator(".detail-status .badge.state", { hasText: label }).waitFor();
}

test("a community worker resolves a case and the reporter confirms it", async () => {
  const c = await newCase("楼道堆放旧家具");
  // a utilities case (2 hours to accept: due soon), led by a department
  const water = await server.call("POST", "/api/v1/cases", {
    category: "utilities", title: "楼内停水", area_code: C,
    point: { lat: centre.lat - 0.0012, lon: centre.lon + 0.001 },
  }, "desk-resident");
  const page = await deskAs("desk-community");
  const waterRow = page.locator(`[data-case-number="${water.number}"]`);
  await waterRow.waitFor();
  assert.match(await waterRow.textContent(), /即将到期/);
  assert.match(await waterRow.textContent(), /区城市管理委员会/);
  const row = page.locator(`[data-case-number="${c.number}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /堆物堆料/);
  assert.match(await row.textContent(), /待受理/);
  assert.match(await row.textContent(), /剩余 \d+ 小时/);
  assert.match(await row.textContent(), /南郎家园社区居委会/);
  // the map draws the cases with a legend in words
  await page.locator("#case-map .leaflet-interactive").first().waitFor();
  assert.match(await page.locator("#map-legend").textContent(), /已超期.*即将到期.*未到期/);
  await shot(page, "desk-list");

  await row.click();
  await detail(page).locator("#detail-heading", { hasText: c.number }).waitFor();
  assert.equal(new URL(page.url()).hash, `#case=${c.id}`);
  await stateIs(page, "待受理");
  // the reporter's contact details are not on the page
  assert.match(await detail(page).textContent(), /反映人未公开/);

  await page.getByRole("button", { name: "受理", exact: true }).click();
  await stateIs(page, "已受理");
  await page.getByRole("button", { name: "派遣", exact: true }).click();
  await page.getByRole("dialog").getByRole("button", { name: "确认派遣" }).click();
  await stateIs(page, "已派遣");
  await page.getByRole("button", { name: "开始处理", exact: true }).click();
  await stateIs(page, "处理中");
  await page.getByRole("button", { name: "办结", exact: true }).click();
  const dlg = page.getByRole("dialog");
  await dlg.getByLabel(/办结说明/).fill("已联系物业清理楼道，现场已恢复通行");
  await dlg.getByLabel(/办结照片/).setInputFiles({ name: "after.png", mimeType: "image/png", buffer: png() });
  await dlg.getByRole("button", { name: "确认办结" }).click();
  await stateIs(page, "已办结");
  await detail(page).locator("#case-timeline li[data-kind=resolved]", { hasText: "已联系物业清理楼道" }).waitFor();
  // the list follows: the row shows the new state
  await page.locator(`[data-case-number="${c.number}"]`, { hasText: "已办结" }).waitFor();
  // the photo of the result, fetched behind the login
  await page.waitForFunction(() => {
    const img = document.querySelector("#case-photos img");
    return img && img.complete && img.naturalWidth === 16;
  });
  await shot(page, "desk-detail");

  // the store: resolved, each step by the community worker
  const after1 = await getCase(c.id);
  assert.equal(after1.state, "resolved");
  assert.equal(after1.photos.length, 1);
  assert.equal(after1.photos[0].type, "image/png");
  for (const kind of ["accepted", "dispatched", "in_progress", "resolved"]) {
    const ev = after1.events.find((e) => e.kind === kind);
    assert.ok(ev, `event ${kind}`);
    assert.equal(ev.actor.id, ids["desk-community"], `${kind} by the community worker`);
  }

  // The reporter confirms: on the report page when it is there with its
  // contract, else through the API (the report page's own test covers the
  // page side then).
  const reportJs = path.join(SOURCE, "web/js/report.js");
  if (fs.existsSync(path.join(SOURCE, "web/report.html")) && fs.existsSync(reportJs) &&
      fs.readFileSync(reportJs, "utf8").includes("确认已解决")) {
    const res = await newPage(browser, server);
    await login(res, "desk-resident", null, "/report.html");
    await res.goto(server.url + `/report.html#case=${c.id}`);
    const confirm = res.getByRole("button", { name: "确认已解决" });
    await confirm.waitFor();
    await confirm.click();
    // The report page shows the case closed once the server has answered.
    await res.locator("#case-state", { hasText: "已结案" }).waitFor();
    assert.deepEqual(pageProblems(res), []);
    await res.context().close();
  } else {
    await server.call("POST", `/api/v1/cases/${c.id}/transitions`, { to: "closed" }, "desk-resident");
  }
  assert.equal((await getCase(c.id)).state, "closed");
  // the open desk hears of it without a reload
  await stateIs(page, "已结案");
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("whistle and report-in", async () => {
  const c = await newCase("楼道堆物占用消防通道");
  const page = await deskAs("desk-street");
  const row = page.locator(`[data-case-number="${c.number}"]`);
  await row.waitFor();
  await row.locator("a").press("Enter");
  await detail(page).locator("#detail-heading", { hasText: c.number }).waitFor();
  // the street does not handle the community's case, but may whistle
  assert.equal(await page.getByRole("button", { name: "受理", exact: true }).count(), 0);
  await page.getByRole("button", { name: "吹哨", exact: true }).click();
  const dlg = page.getByRole("dialog");
  await dlg.getByLabel("区城管执法局").check();
  await dlg.getByLabel(/情况说明/).fill("堆物堵塞消防通道，请城管执法到场");
  await shot(page, "desk-whistle", { fullPage: false });
  await dlg.getByRole("button", { name: "确认吹哨" }).click();
  await detail(page).locator("#case-timeline li[data-kind=whistle]", { hasText: "区城管执法局" }).waitFor();
  await page.context().close();

  // a member of the department reports in from the desk, opened on the case
  const dept = await newPage(browser, server);
  await login(dept, "desk-dept", null, "/desk.html");
  await dept.goto(server.url + `/desk.html#case=${c.id}`);
  await detail(dept).locator("#detail-heading", { hasText: c.number }).waitFor();
  // department staff see their department's cases first
  assert.equal(await dept.locator("#f-view").inputValue(), "mine");
  await dept.locator(`[data-case-number="${c.number}"]`).waitFor();
  await dept.getByRole("button", { name: "报到", exact: true }).click();
  await dept.getByRole("dialog").getByLabel(/到场情况/).fill("执法队员已到场");
  await dept.getByRole("dialog").getByRole("button", { name: "确认报到" }).click();
  await detail(dept).locator("#case-timeline li[data-kind=report_in]", { hasText: "执法队员已到场" }).waitFor();
  assert.match(await detail(dept).locator("#case-timeline").textContent(), /吹哨[\s\S]*报到/);
  assert.equal(await dept.getByRole("button", { name: "报到", exact: true }).count(), 0);

  const stored = await getCase(c.id);
  const link = stored.units.find((u) => u.unit === "dept-cgj" && u.link === "summoned");
  assert.ok(link && link.reported_at, "dept-cgj summoned and reported in");
  const whistle = stored.events.find((e) => e.kind === "whistle");
  const reportIn = stored.events.find((e) => e.kind === "report_in");
  assert.equal(whistle.actor.id, ids["desk-street"]);
  assert.equal(reportIn.actor.id, ids["desk-dept"]);
  assert.equal(reportIn.unit, "dept-cgj");
  assert.deepEqual(pageProblems(dept), []);
  await dept.context().close();
});

test("refusals are shown and change nothing", async () => {
  const c = await newCase("小区门口堆放建筑垃圾");
  const page = await deskAs("desk-community");
  await page.goto(server.url + `/desk.html#case=${c.id}`);
  await detail(page).locator("#detail-heading", { hasText: c.number }).waitFor();
  await page.getByRole("button", { name: "驳回", exact: true }).click();
  const dlg = page.getByRole("dialog");
  assert.match(await dlg.textContent(), /不能撤回/);
  await dlg.getByRole("button", { name: "确认驳回" }).click();
  const err = dlg.locator("#dlg-error");
  await err.waitFor({ state: "visible" });
  assert.match(await err.textContent(), /reason/);
  await dlg.getByRole("button", { name: "取消" }).click();
  await stateIs(page, "待受理");
  assert.equal((await getCase(c.id)).state, "submitted");
  assert.equal((await getCase(c.id)).events.filter((e) => e.kind === "rejected").length, 0);

  // a step taken elsewhere reaches the open page, and its buttons go
  await server.call("POST", `/api/v1/cases/${c.id}/transitions`, { to: "rejected", reason: "不属于本社区管理范围" }, "desk-community");
  await stateIs(page, "已驳回");
  assert.equal(await page.getByRole("button", { name: "受理", exact: true }).count(), 0);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();

  // another community's worker does not see the case at all
  const other = await deskAs("desk-other");
  await listReady(other);
  assert.equal(await other.locator(`[data-case-number="${c.number}"]`).count(), 0);
  await other.locator("#f-state").selectOption("");
  await listReady(other);
  assert.equal(await other.locator(`[data-case-number="${c.number}"]`).count(), 0);
  // nor finds it by its number
  await other.getByLabel(/搜索标题/).fill(c.number);
  await other.getByRole("button", { name: "查询" }).click();
  await listReady(other);
  await other.locator("#list-empty").waitFor();
  await other.goto(server.url + `/desk.html#case=${c.id}`);
  await detail(other).locator(".notice.error", { hasText: "无权查看" }).waitFor();
  assert.deepEqual(pageProblems(other), []);
  await other.context().close();
});

test("a case is marked a duplicate of another by the other's number", async () => {
  const original = await newCase("楼道堆放纸箱");
  const again = await newCase("楼道堆放纸箱（又报）");
  const page = await deskAs("desk-community");
  await page.goto(server.url + `/desk.html#case=${again.id}`);
  await detail(page).locator("#detail-heading", { hasText: again.number }).waitFor();
  await page.getByRole("button", { name: "重复", exact: true }).click();
  const dlg = page.getByRole("dialog");
  // a number nobody has: said so, nothing changes
  const missing = original.number.slice(0, 8) + "99999";
  await dlg.getByLabel("原案件编号").fill(missing);
  await dlg.getByRole("button", { name: "确认标记重复" }).click();
  await dlg.locator("#dlg-error", { hasText: `找不到编号为 ${missing} 的案件` }).waitFor();
  assert.equal((await getCase(again.id)).state, "submitted");
  const lookups = [];
  page.on("request", (r) => { if (r.url().includes("/api/v1/cases?")) lookups.push(new URL(r.url()).search); });
  await dlg.getByLabel("原案件编号").fill(original.number);
  await dlg.getByRole("button", { name: "确认标记重复" }).click();
  await stateIs(page, "重复件");
  // found by its number, exactly: no day of cases read
  assert.ok(lookups.includes(`?number=${original.number}`), lookups.join(" "));
  const stored = await getCase(again.id);
  assert.equal(stored.state, "duplicate");
  assert.equal(stored.duplicate_of, original.id);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("the list is the server's deadline order, page by page", async () => {
  // Cases of two deadline classes, made in turn: the nearest deadline is not
  // the newest case. A few accepted (their resolution deadline then counts)
  // and one resolved (no pending deadline: it comes after).
  const made = [];
  for (let i = 0; i < 56; i++) {
    made.push(await server.call("POST", "/api/v1/cases", {
      category: i % 3 === 0 ? "utilities" : "sanitation", title: `永安里${i + 1}号楼环境问题`, area_code: PAGING,
    }, "desk-resident"));
  }
  const step = (c, body) => server.call("POST", `/api/v1/cases/${c.id}/transitions`, body, "desk-paging");
  for (const c of [made[1], made[4]]) await step(c, { to: "accepted" });
  for (const body of [{ to: "accepted" }, { to: "dispatched" }, { to: "in_progress" }, { to: "resolved", note: "已清理" }])
    await step(made[2], body);
  // what the API lists for this account: by deadline, then the resolved, newest first
  const due = await readAll("/api/v1/cases?status=open&sort=due", "desk-paging");
  const resolved = await readAll("/api/v1/cases?status=resolved", "desk-paging");
  const expected = [...due, ...resolved].map((c) => c.number);
  assert.ok(expected.length > 50 && expected.length <= 100, `${expected.length} cases`);
  const newest = (await readAll("/api/v1/cases?status=open", "desk-paging")).map((c) => c.number);
  assert.notDeepEqual(expected, newest, "the deadline order is not the newest-first one");

  const page = await deskAs("desk-paging");
  const reads = [];
  page.on("request", (r) => { if (r.url().includes("/api/v1/cases?")) reads.push(new URL(r.url()).searchParams); });
  await listReady(page);
  assert.deepEqual(await listed(page), expected.slice(0, 50));
  assert.match(await page.locator("#list-summary").textContent(), /已列出 50 件，还有更多/);
  await shot(page, "desk-due-order", { fullPage: false });
  const more = page.getByRole("button", { name: "加载更多" });
  await more.click();
  await listReady(page);
  assert.deepEqual(await listed(page), expected);
  await more.waitFor({ state: "hidden" });
  assert.match(await page.locator("#list-summary").textContent(), new RegExp(`共 ${expected.length} 件`));
  // the next page came by the deadline cursor of the first
  assert.ok(reads.some((q) => q.get("sort") === "due" && q.get("cursor")), "a sort=due page with a cursor");
  // the map shows the same cases as the list
  const legend = await page.locator("#map-legend").textContent();
  const counts = [...legend.matchAll(/\((\d+)\)/g)].reduce((n, m) => n + Number(m[1]), 0);
  assert.equal(counts, expected.length);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("my units: the lists of each unit the account acts for, merged in deadline order", async () => {
  // A community worker of PAGING who is also in the department that leads
  // utilities cases: /me names both units, and "my unit" reads both.
  const u = await server.addUser("desk-two", "community", PAGING);
  await server.call("POST", "/api/v1/units/dept-cgw/members", { user_id: u.id }, "admin");
  const me = await server.call("GET", "/api/v1/me", null, "desk-two");
  assert.deepEqual(me.units.map((x) => x.code).sort(), ["dept-cgw", PAGING].sort());
  const due = (c) => Date.parse(c.state === "submitted" ? c.response_due_at : c.resolve_due_at || c.response_due_at);
  const union = async (query) => {
    const byId = new Map();
    for (const unit of ["dept-cgw", PAGING]) for (const c of await readAll(`/api/v1/cases?${query}&unit=${unit}`, "desk-two")) byId.set(c.id, c);
    return [...byId.values()];
  };
  const pending = (await union("status=open&sort=due")).sort((a, b) => due(a) - due(b) || a.id - b.id);
  const resolved = (await union("status=resolved")).sort((a, b) => b.id - a.id);
  const expected = [...pending, ...resolved].map((c) => c.number);
  assert.ok(pending.some((c) => c.area_code !== PAGING), "a department case from elsewhere");

  const page = await deskAs("desk-two");
  await listReady(page);
  assert.equal(await page.locator("#f-view").inputValue(), "mine");
  assert.deepEqual(await listed(page), expected.slice(0, 50));
  if (expected.length > 50) {
    await page.getByRole("button", { name: "加载更多" }).click();
    await listReady(page);
    assert.deepEqual(await listed(page), expected.slice(0, 100));
  }
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("overdue only: the server's overdue cases, nearest deadline first", async () => {
  const page = await deskAs("desk-district");
  await listReady(page);
  const reads = [];
  page.on("request", (r) => { if (r.url().includes("/api/v1/cases?")) reads.push(new URL(r.url()).searchParams); });
  await page.getByLabel("只看已超期").check();
  await listReady(page);
  const overdue = await readAll("/api/v1/cases?status=open&sort=due&overdue=true", "desk-district");
  assert.deepEqual(await listed(page), overdue.map((c) => c.number).slice(0, 50));
  assert.ok(reads.some((q) => q.get("overdue") === "true" && q.get("sort") === "due"), "asked the server for the overdue");
  for (const text of await page.locator("#case-rows tr").allTextContents()) assert.match(text, /已超期/);
  if (!overdue.length) await page.locator("#list-empty").waitFor();
  await shot(page, "desk-overdue");
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("live: a new case appears in the list without a reload", async () => {
  const page = await deskAs("desk-community");
  // What the live region says, kept as it is said: the page clears it again
  // after a few seconds, which a slow machine could outlast.
  await page.evaluate(() => {
    window.deskNotReloaded = true;
    window.announced = [];
    new MutationObserver(() => {
      const box = document.getElementById("announce");
      if (box && box.textContent) window.announced.push(box.textContent);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const c = await newCase("夜间楼道灯不亮");
  await page.locator(`[data-case-number="${c.number}"]`).waitFor();
  assert.equal(await page.evaluate(() => window.deskNotReloaded), true);
  // The announcement comes with the event, before the list is read again.
  assert.match((await page.evaluate(() => window.announced)).join("\n"), new RegExp(c.number));
  // searching: words of the title, then a case number; overdue only
  const rows = page.locator("#case-rows [data-case-number]");
  await page.getByLabel(/搜索标题/).fill("灯不亮");
  await page.getByRole("button", { name: "查询" }).click();
  await listReady(page);
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.first().getAttribute("data-case-number"), c.number);
  const older = await newCase("单元门禁损坏");
  await page.getByLabel(/搜索标题/).fill(older.number);
  await page.getByRole("button", { name: "查询" }).click();
  await listReady(page);
  await page.locator(`#case-rows [data-case-number="${older.number}"]`).waitFor();
  assert.equal(await rows.count(), 1);
  await page.getByLabel(/搜索标题/).fill("");
  await page.getByRole("button", { name: "查询" }).click();
  await listReady(page);
  assert.ok(await rows.count() > 2, "the whole list again");
  await page.getByLabel("只看已超期").check();
  await listReady(page);
  await page.locator("#list-empty").waitFor();
  assert.equal(await rows.count(), 0);
  await page.getByLabel("只看已超期").uncheck();
  await listReady(page);
  // the other language, on a tablet
  await page.getByRole("button", { name: "English" }).click();
  await page.getByRole("heading", { name: "Case desk" }).waitFor();
  assert.match(await page.locator(`[data-case-number="${c.number}"]`).textContent(), /Submitted.*due in \d+ h/s);
  await page.setViewportSize({ width: 820, height: 1180 });
  await shot(page, "desk-tablet-en", { fullPage: false });
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});
