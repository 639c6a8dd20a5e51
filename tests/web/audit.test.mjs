// audit.test.mjs - the audit log page: an auditor sees who read a person's
// phone in full, the same entries the API gives for the same query; the
// filters send the query they show, "load more" follows the cursor, bad
// input is explained by its field and sends nothing, other roles are refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { startServer, launchBrowser, newPage, login, shot, pageProblems } from "./harness.mjs";

let server, browser, revealed, auditor;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  auditor = await server.addUser("aud-1", "auditor", "110105", undefined, "审计 李明");
  // A full read of a person's phone by a community worker: the entry to find.
  const people = await server.call("GET", "/api/v1/people?limit=1", null, "demo-community");
  revealed = people.items[0];
  await server.call("GET", `/api/v1/people/${revealed.id}?reveal=phone`, null, "demo-community");
  // The auditor's token for the API reads below is taken now, so its login
  // entry is not written in the middle of a comparison.
  await server.token("aud-1");
});
after(async () => { await browser?.close(); await server?.stop(); });

/** The day in Beijing (YYYY-MM-DD) of an RFC 3339 time. */
function beijingDay(iso) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date(iso));
}

function nextDay(date) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** Logs in as username on the audit page and waits for its first read drawn. */
async function openAudit(page, username = "aud-1") {
  await login(page, username, null, "/audit.html");
  await page.locator("body[data-loaded=true]").waitFor({ state: "attached" });
  await page.locator('#results[aria-busy="false"]').waitFor({ state: "attached" });
}

/** Runs act (a click) and answers the URL of the audit read it caused,
 * once that read is drawn. */
async function auditRead(page, act) {
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/audit");
  await act();
  const r = await answered;
  await page.locator('#results[aria-busy="false"]').waitFor({ state: "attached" });
  return new URL(r.url());
}

/** The ids of the rows drawn, in order. */
async function rowIds(page) {
  return page.locator("#entries-body tr").evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.id)));
}

test("an auditor sees who read a person's phone, as the API says", async () => {
  const page = await newPage(browser, server);
  await openAudit(page);
  // The header offers the page.
  await page.locator('.site-header nav a[href="/audit.html"]', { hasText: "审计日志" }).waitFor();
  const url = await auditRead(page, async () => {
    await page.getByLabel("记录类别").selectOption("person.reveal");
    await page.getByRole("button", { name: "查询" }).click();
  });
  assert.deepEqual(Object.fromEntries(url.searchParams), { limit: "50", action: "person.reveal" });
  const api = await server.call("GET", "/api/v1/audit?limit=50&action=person.reveal", null, "aud-1");
  assert.ok(api.items.length >= 1);
  assert.deepEqual(await rowIds(page), api.items.map((e) => e.id));
  const mine = api.items.find((e) => e.object === `person:${revealed.id}` && e.username === "demo-community");
  assert.ok(mine, "the reveal is in the log");
  const row = page.locator(`#entries-body tr[data-id="${mine.id}"]`);
  const cells = await row.locator("td").allTextContents();
  assert.match(cells[1], new RegExp(`demo-community\\s*#${mine.user_id}`));
  assert.match(cells[2], /查看完整个人信息/);
  assert.match(cells[2], /person\.reveal/);
  assert.equal(cells[3], `person:${revealed.id}`);
  assert.equal(cells[4], "fields: phone");
  assert.match(cells[5], new RegExp(mine.ip.replaceAll(".", "\\.")));
  assert.equal(await row.locator("time").getAttribute("datetime"), mine.at);
  assert.equal(await page.locator("#count").textContent(), api.next_cursor ? `已显示 ${api.items.length} 条，还有更早的记录。` : `共 ${api.items.length} 条。`);
  await shot(page, "audit");
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("the filters send the query they show and the page shows exactly the API's answer", async () => {
  const page = await newPage(browser, server);
  await openAudit(page);
  const community = (await server.call("GET", "/api/v1/users?limit=500", null, "aud-1")).items
    .find((u) => u.username === "demo-community");
  // The day of the reveal (not the clock's today: the test may cross midnight).
  const reveal = (await server.call("GET", "/api/v1/audit?action=person.reveal&limit=1000", null, "aud-1")).items
    .find((e) => e.object === `person:${revealed.id}`);
  const today = beijingDay(reveal.at);
  // A kind, a day and an account picked by its username.
  let url = await auditRead(page, async () => {
    await page.getByLabel("记录类别").selectOption("person.");
    await page.getByLabel("从哪天").fill(today);
    await page.getByLabel("到哪天").fill(today);
    await page.getByLabel("账号（用户编号或用户名）").fill("demo-community");
    await page.getByRole("button", { name: "查询" }).click();
  });
  const want = {
    limit: "50", action: "person.", since: `${today}T00:00:00+08:00`, until: `${nextDay(today)}T00:00:00+08:00`,
    user_id: String(community.id),
  };
  assert.deepEqual(Object.fromEntries(url.searchParams), want);
  let api = await server.call("GET", "/api/v1/audit?" + new URLSearchParams(want), null, "aud-1");
  assert.ok(api.items.some((e) => e.object === `person:${revealed.id}`));
  assert.ok(api.items.every((e) => e.user_id === community.id && e.action.startsWith("person.")));
  assert.deepEqual(await rowIds(page), api.items.map((e) => e.id));

  // A typed action takes the place of the kind; the id is taken as typed.
  url = await auditRead(page, async () => {
    await page.getByLabel("或者输入动作名").fill("auth.login");
    await page.getByLabel("账号（用户编号或用户名）").fill(String(auditor.id));
    await page.getByRole("button", { name: "查询" }).click();
  });
  const want2 = { ...want, action: "auth.login", user_id: String(auditor.id) };
  assert.deepEqual(Object.fromEntries(url.searchParams), want2);
  api = await server.call("GET", "/api/v1/audit?" + new URLSearchParams(want2), null, "aud-1");
  assert.ok(api.items.length >= 1, "the auditor's own logins are there");
  assert.deepEqual(await rowIds(page), api.items.map((e) => e.id));
  assert.match(await page.locator("#entries-body tr td").nth(1).textContent(), /aud-1/);

  // Days with nothing in them: said so.
  url = await auditRead(page, async () => {
    await page.getByLabel("或者输入动作名").fill("");
    await page.getByLabel("记录类别").selectOption("");
    await page.getByLabel("账号（用户编号或用户名）").fill("");
    await page.getByLabel("从哪天").fill("2020-01-01");
    await page.getByLabel("到哪天").fill("2020-01-02");
    await page.getByRole("button", { name: "查询" }).click();
  });
  assert.equal(url.searchParams.get("until"), "2020-01-03T00:00:00+08:00");
  await page.locator("#empty", { hasText: "没有符合条件的记录" }).waitFor();
  assert.equal(await page.locator("#entries-body tr").count(), 0);
  assert.equal(await page.locator("#count").textContent(), "0 条。");
  assert.ok(await page.locator("#more").isHidden());
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("load more appends the next page the cursor names", async () => {
  const page = await newPage(browser, server, { lang: "en" });
  await openAudit(page);
  // The demo's history is far longer than a page: the first read has a cursor.
  assert.equal(await page.locator("#entries-body tr").count(), 50);
  const first = await rowIds(page);
  await page.getByRole("button", { name: "Load more" }).waitFor();
  const url = await auditRead(page, () => page.getByRole("button", { name: "Load more" }).click());
  const cursor = url.searchParams.get("cursor");
  assert.ok(cursor, "the second read names a cursor");
  assert.deepEqual(Object.fromEntries(url.searchParams), { limit: "50", cursor });
  const next = await server.call("GET", "/api/v1/audit?limit=50&cursor=" + encodeURIComponent(cursor), null, "aud-1");
  assert.equal(next.items.length, 50);
  assert.ok(next.items[0].id < first[first.length - 1], "the next page is older");
  assert.deepEqual(await rowIds(page), [...first, ...next.items.map((e) => e.id)]);
  assert.equal(await page.locator("#count").textContent(), "100 shown; there are older entries.");

  // The rows shown, as CSV that spreadsheets read as UTF-8.
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: /Export CSV/ }).click();
  const file = await (await download).path();
  const text = fs.readFileSync(file, "utf8");
  assert.ok(text.startsWith("\ufeff"), "a byte order mark first");
  const lines = text.slice(1).trimEnd().split("\r\n");
  assert.equal(lines.length, 101);
  assert.match(lines[0], /^Time,Time \(RFC 3339\),User id,Username,Action name,Action,Object,Detail,Address,Request id$/);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("what an entry holds is shown as text, and a cell a spreadsheet would run is guarded in the CSV", async () => {
  const page = await newPage(browser, server);
  // The server never writes such entries from the form's routes; the test
  // puts them into the answer to see what the page makes of them.
  await page.route((u) => u.pathname === "/api/v1/audit", async (route) => {
    const r = await route.fetch();
    const body = await r.json();
    body.items[0] = Object.assign({}, body.items[0], {
      object: '=HYPERLINK("http://example.invalid","x")', username: "@sum",
      detail: { note: '<img src=x id="injected">', reason: "-2+3", fields: ["phone", "id_number"] },
    });
    await route.fulfill({ response: r, json: body });
  });
  await openAudit(page);
  const row = page.locator("#entries-body tr").first();
  const cells = await row.locator("td").allTextContents();
  assert.equal(cells[3], '=HYPERLINK("http://example.invalid","x")');
  assert.equal(cells[4], 'note: <img src=x id="injected">; reason: -2+3; fields: phone, id_number');
  assert.equal(await page.locator("#injected").count(), 0, "no HTML from an entry");
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: /导出 CSV/ }).click();
  const lines = fs.readFileSync(await (await download).path(), "utf8").slice(1).split("\r\n");
  assert.match(lines[0], /^时间,/);
  const cols = lines[1];
  assert.ok(cols.includes(`"'=HYPERLINK(""http://example.invalid"",""x"")"`), cols);
  assert.ok(cols.includes(`"'@sum"`), cols);
  assert.ok(cols.includes(`"note: <img src=x id=""injected"">; reason: -2+3; fields: phone, id_number"`), cols);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("bad input is explained by its field and sends nothing; the server's reasons go by the fields too", async () => {
  const page = await newPage(browser, server, { mobile: true, large: true });
  await openAudit(page);
  let reads = 0;
  page.on("request", (r) => { if (new URL(r.url()).pathname === "/api/v1/audit") reads++; });
  await page.getByLabel("从哪天").fill("2026-12-07");
  await page.getByLabel("到哪天").fill("2026-12-01");
  await page.getByLabel("账号（用户编号或用户名）").fill("nobody-like-this");
  await page.getByLabel("或者输入动作名").fill("User.Create");
  await page.getByRole("button", { name: "查询" }).click();
  await page.locator("#f-to-error", { hasText: "结束日期早于开始日期" }).waitFor();
  await page.locator("#f-user-error", { hasText: "请填用户编号，或列表中已有的用户名" }).waitFor();
  await page.locator("#f-action-error", { hasText: "动作名只能有小写字母" }).waitFor();
  assert.equal(await page.locator("#f-to").getAttribute("aria-invalid"), "true");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "f-action");
  await shot(page, "audit-errors-mobile", { fullPage: false });
  assert.equal(reads, 0, "nothing was sent");

  // A date the server cannot read (a six-digit year): its own words by the field.
  await page.getByLabel("或者输入动作名").fill("");
  await page.getByLabel("账号（用户编号或用户名）").fill("");
  await page.getByLabel("到哪天").fill("");
  await page.getByLabel("从哪天").fill("275760-01-01");
  await auditRead(page, () => page.getByRole("button", { name: "查询" }).click());
  let refused;
  try {
    await server.call("GET", "/api/v1/audit?limit=50&since=" + encodeURIComponent("275760-01-01T00:00:00+08:00"), null, "aud-1");
  } catch (e) { refused = e.body; }
  const msg = refused.errors.find((f) => f.field === "since").message;
  await page.locator("#f-from-error", { hasText: msg }).waitFor();
  assert.match(await page.locator("#f-error").textContent(), /请看表单中标出的问题/);
  assert.equal(reads, 1);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("other roles are refused", async () => {
  for (const who of ["demo-resident", "demo-community"]) {
    const page = await newPage(browser, server);
    await login(page, who, null, "/audit.html");
    await page.locator("main .notice.error", { hasText: "您的账号没有这项权限" }).waitFor();
    assert.equal(await page.locator("#filters").count(), 0);
    assert.equal(await page.locator('.site-header nav a[href="/audit.html"]').count(), 0);
    await page.context().close();
  }
  await assert.rejects(server.call("GET", "/api/v1/audit", null, "demo-community"), (e) => e.status === 403);
});
