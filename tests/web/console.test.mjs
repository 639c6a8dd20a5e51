// console.test.mjs - the one-key-call operator's console: a device's key
// press rings on the page live, the operator answers, sees the screen pop,
// classifies, dispatches a nearby service and follows its progress, tries a
// contact, notes and closes; the proactive task list; and a refusal from the
// server shown next to the action.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, login, shot, pageProblems } from "./harness.mjs";

let server, browser, callers;
// How long an offer rings before the server moves it on. Longer than
// linlid's default (20 s), so that a slow machine still answers in time:
// no step here waits for an offer to run out.
const OFFER_MS = 120000;

/** Polls fn until it answers something truthy (bounded). */
async function until(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Demo people with emergency contacts and an open facility offering meals
 * within a 15-minute walk of home, so that a service key's screen pop lists
 * something to dispatch. */
async function findCallers(n) {
  const found = [];
  const facilities = await server.call("GET", "/api/v1/facilities?service=meals&status=open&limit=100");
  for (const f of facilities.items) {
    if (found.length >= n) break;
    if (!/^\d{9}(?!000)\d{3}$/.test(f.area_code)) continue; // a community, not a street
    const people = await server.call("GET", `/api/v1/people?community=${f.area_code}&limit=20`, undefined, "admin");
    for (const p of people.items) {
      if (!p.home || !p.emergency_contacts.length || found.some((x) => x.id === p.id)) continue;
      const near = await server.call("GET", `/api/v1/facilities?near=${p.home.lat},${p.home.lon}&service=meals&minutes=15&limit=5`);
      if (near.items.some((x) => x.status === "open")) { found.push(p); break; }
    }
  }
  assert.equal(found.length, n, "the demo has people near a dining service");
  return found;
}

/** A call device bound to `person` (made once per person), with its secret. */
const devices = new Map();
async function giveDevice(person, tag) {
  if (devices.has(person.id)) return devices.get(person.id);
  const serial = `WEB${tag}${Date.now()}`.slice(0, 32);
  const dev = await server.call("POST", "/api/v1/devices", { serial, model: "LX-5K" }, "admin");
  assert.match(dev.secret, /^[0-9a-f]{64}$/);
  await server.call("POST", "/api/v1/subscriptions", { device_id: dev.id, person_id: person.id }, "admin");
  devices.set(person.id, dev);
  return dev;
}

async function openConsole(username) {
  const page = await newPage(browser, server);
  await login(page, username, null, "/console.html");
  await page.locator("#conn.open").waitFor();
  return page;
}

async function goAvailable(page, username) {
  await page.getByRole("radio", { name: "在岗", exact: true }).check();
  await until(async () => (await server.call("GET", "/api/v1/console/presence", undefined, username)).state === "available",
    "the operator to be available");
  await page.locator("#idle.available").waitFor();
}

/** The first facility listed in the screen pop that is open for orders. */
async function openListedFacility(page) {
  const rows = page.locator("#services li");
  await rows.first().waitFor();
  const ids = await rows.evaluateAll((ls) => ls.map((l) => Number(l.dataset.facilityId)));
  for (const id of ids) {
    const f = await server.call("GET", `/api/v1/facilities/${id}`);
    if (f.status === "open") return f;
  }
  assert.fail("no open facility among the listed services: " + ids.join(", "));
}

/** Ends the test's operator shift: away, so no later call is offered to them. */
async function goAway(page, username) {
  await server.call("PUT", "/api/v1/console/presence", { state: "away" }, username).catch(() => {});
  await page.context().close();
}

before(async () => {
  server = await startServer(["--care-tick-s", "1", "--offer-timeout-ms", String(OFFER_MS)]);
  browser = await launchBrowser();
  callers = await findCallers(2);
});
after(async () => { await browser?.close(); await server?.stop(); });

test("an operator receives a device key press live and closes the call", async () => {
  const op = await server.addUser("op-live", "operator", "110105", undefined, "王坐席");
  const person = callers[0];
  const record = await server.call("GET", `/api/v1/people/${person.id}`, undefined, "admin");
  const dev = await giveDevice(person, "A");

  const page = await openConsole("op-live");
  try {
    await goAvailable(page, "op-live");
    assert.match(await page.locator("#idle-text").textContent(), /等待来电/);
    await shot(page, "console-waiting");

    await page.evaluate(() => { window.sameDocument = true; });
    // The dispatch choices come from the pop itself: no facility is read.
    const facilityReads = [];
    page.on("request", (r) => { if (/\/api\/v1\/facilities\//.test(r.url())) facilityReads.push(r.url()); });
    const ev = await server.deviceEvent(dev.serial, dev.secret,
      { event_id: "web-key-1", type: "key", key: "service", battery: 64 });
    assert.equal(ev.status, "accepted");

    const offer = page.locator("#offer");
    await offer.waitFor({ state: "visible" });
    assert.match(await offer.textContent(), /来电.*生活服务/);
    assert.match(await offer.textContent(), new RegExp(record.name));
    assert.equal(await page.evaluate(() => window.sameDocument), true, "the offer came without a reload");
    // The queue shows it too, ringing for this operator.
    await page.locator(`#queue li[data-call-id="${ev.call_id}"]`, { hasText: "正在向您振铃" }).waitFor();
    // Nothing to close before answering.
    assert.equal(await page.getByRole("button", { name: "结束通话", exact: true }).count(), 0);
    await shot(page, "console-offer");

    await page.getByRole("button", { name: "接听", exact: true }).click();
    const name = page.locator("#pop-name");
    await name.waitFor();
    assert.equal(await name.textContent(), record.name);
    // The key press reported a battery but no signal: unknown, not a number
    // (the device's record, read after the pop, has the key press's battery).
    await page.locator(".device", { hasText: "电量64%" }).waitFor();
    assert.match(await page.locator(".device").textContent(), /电量64%.*信号未知/);
    await page.locator(`#queue li[data-call-id="${ev.call_id}"]`).waitFor({ state: "detached" });
    const contacts = page.locator("#contacts li");
    assert.equal(await contacts.count(), record.emergency_contacts.length);
    for (let i = 0; i < record.emergency_contacts.length; i++) {
      const c = record.emergency_contacts[i];
      const text = await contacts.nth(i).textContent();
      assert.ok(text.includes(c.name), `contact ${i + 1}: ${text}`);
      // The pop shows the phone whole, as a link to dial; the record is masked.
      const href = await contacts.nth(i).locator("a.tel").getAttribute("href");
      assert.match(href, /^tel:\d{11,12}$/);
      assert.equal(href.slice(-4), c.phone.slice(-4));
    }

    // Classify.
    await page.getByLabel("呼叫分类").selectOption("convenience_service");
    await page.getByRole("button", { name: "保存分类" }).click();
    await page.locator("#call-cat", { hasText: "便民服务" }).waitFor();

    // The first contact is tried and reached.
    await contacts.first().getByRole("button", { name: `${record.emergency_contacts[0].name}：联系上了` }).click();
    await contacts.first().locator(".tries .badge").waitFor();

    // Dispatch a service listed in the pop; its progress moves on live.
    const facility = await openListedFacility(page);
    await page.getByRole("button", { name: `派单：${facility.name}` }).click();
    const order = page.locator("#orders li.order");
    await order.waitFor();
    const orderText = await order.textContent();
    assert.ok(orderText.includes(facility.name) && orderText.includes("已派单"), orderText);
    await order.getByRole("button", { name: `${facility.name}：标为已接单` }).click();
    await page.locator('#orders li.order[data-state="accepted"]').waitFor();

    // A note.
    const note = "老人想订明天午餐，已告诉餐桌送到家";
    await page.getByLabel("记录内容").fill(note);
    await page.getByRole("button", { name: "添加记录" }).click();
    await page.locator("#timeline li", { hasText: note }).waitFor();
    assert.deepEqual(facilityReads, []);
    await shot(page, "console-call");

    // Close.
    await page.locator("#close-outcome").fill("已派餐桌送餐");
    await page.getByRole("button", { name: "结束通话", exact: true }).click();
    await page.locator("#last-call").waitFor({ state: "visible" });
    assert.equal(await page.locator("#call").isHidden(), true);

    const call = await server.call("GET", `/api/v1/calls/${ev.call_id}`, undefined, "admin");
    assert.equal(call.state, "closed");
    assert.equal(call.category, "convenience_service");
    assert.equal(call.operator_id, op.id);
    assert.equal(call.outcome, "已派餐桌送餐");
    const orderRow = call.actions.find((a) => a.kind === "service_order");
    assert.ok(orderRow, "a service order");
    assert.equal(orderRow.facility_id, facility.id);
    assert.equal(orderRow.state, "accepted");
    assert.ok(call.actions.some((a) => a.kind === "contact" && a.contact_position === 1 && a.state === "reached"));
    assert.ok(call.actions.some((a) => a.kind === "note" && a.note === note));
    const kinds = call.timeline.map((r) => r.kind);
    for (const k of ["created", "offered", "answered", "classified", "action", "action_updated", "closed"])
      assert.ok(kinds.includes(k), `timeline has ${k}: ${kinds.join(",")}`);
    assert.ok(call.timeline.some((r) => r.kind === "action" && r.detail.kind === "note" && r.detail.note === note));
    assert.equal(call.timeline.find((r) => r.kind === "answered").user_id, op.id);
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await goAway(page, "op-live");
  }
});

test("the task list: a planned call is claimed and finished from the page", async () => {
  const op = await server.addUser("op-tasks", "operator", "110105");
  const person = callers[0];
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
  const plan = await server.call("POST", "/api/v1/care-plans",
    { person_id: person.id, kind: "custom", interval_days: 7, time_of_day: "00:00", starts_on: today, note: "每周问候" }, "admin");
  const task = await until(async () => (await server.call("GET",
    `/api/v1/tasks?person_id=${person.id}&kind=custom_call`, undefined, "admin")).items.find((k) => k.plan_id === plan.id),
  "the scheduler to make the planned call's task");

  const page = await openConsole("op-tasks");
  try {
    await page.getByLabel("任务类型").selectOption("custom_call");
    const item = page.locator(`#tasks li[data-task-id="${task.id}"]`);
    await item.waitFor();
    assert.match(await item.textContent(), new RegExp(`定期问候.*待认领.*${person.name}`));
    await item.getByRole("button", { name: `认领：定期问候，${person.name}` }).click();
    await page.locator(`#tasks li[data-task-id="${task.id}"][data-state="claimed"]`).waitFor();
    assert.match(await item.textContent(), /由我认领/);
    // "Only tasks I claimed": the server's list of this operator's tasks.
    const mineRead = page.waitForResponse((r) => /\/api\/v1\/tasks\?.*mine=true/.test(r.url()));
    await page.getByLabel("只看我认领的").check();
    await mineRead;
    // The list is busy from the change until that answer is drawn.
    await page.locator('#tasks[aria-busy="false"]').waitFor({ state: "attached" });
    const mineApi = await server.call("GET", "/api/v1/tasks?mine=true&kind=custom_call", undefined, "op-tasks");
    assert.deepEqual(mineApi.items.map((k) => k.id), [task.id]);
    assert.deepEqual(await page.locator("#tasks li").evaluateAll((ls) =>
      ls.map((l) => [Number(l.dataset.taskId), l.dataset.state])), [[task.id, "claimed"]], "only the claimed task listed");
    await item.getByRole("button", { name: `显示 ${person.name} 的电话` }).click();
    await item.locator("a.tel").waitFor();
    await item.getByLabel("办理结果").fill("已电话问候，老人身体不错");
    await shot(page, "console-tasks");
    await item.getByRole("button", { name: "办完了" }).click();
    await item.waitFor({ state: "detached" });
    await page.locator("#tasks-empty", { hasText: "您没有认领中的任务" }).waitFor();

    const done = await server.call("GET", `/api/v1/tasks?person_id=${person.id}&state=done`, undefined, "admin");
    const row = done.items.find((k) => k.id === task.id);
    assert.ok(row, "the task is done");
    assert.equal(row.operator_id, op.id);
    assert.equal(row.outcome, "已电话问候，老人身体不错");
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await goAway(page, "op-tasks");
  }
});

test("names in the timeline; a reload during a call brings the call back", async () => {
  await server.addUser("op-first", "operator", "110105", undefined, "李坐席");
  const second = await server.addUser("op-second", "operator", "110105", undefined, "赵坐席");
  const person = callers[0];
  const record = await server.call("GET", `/api/v1/people/${person.id}`, undefined, "admin");
  const dev = await giveDevice(person, "A");
  const first = await openConsole("op-first");
  const page = await openConsole("op-second");
  try {
    // The call rings for the only available operator, who declines it; it
    // waits in the queue and the other operator takes it from there.
    await goAvailable(first, "op-first");
    const ev = await server.deviceEvent(dev.serial, dev.secret, { event_id: "web-key-3", type: "key", key: "health" });
    await first.locator("#offer").waitFor({ state: "visible" });
    await first.getByRole("button", { name: "拒接", exact: true }).click();
    await first.locator("#offer").waitFor({ state: "hidden" });
    await page.getByRole("button", { name: `接入呼叫 #${ev.call_id}（健康咨询）` }).click();
    await page.locator("#pop-name").waitFor();
    // The timeline names the other operator by their display name.
    const timeline = page.locator("#timeline");
    await timeline.locator("li[data-kind=declined]", { hasText: "李坐席拒接" }).waitFor();
    assert.match(await timeline.locator("li[data-kind=offered]").first().textContent(), /向李坐席振铃/);
    assert.match(await timeline.locator("li[data-kind=answered]").textContent(), /我接听/);
    assert.doesNotMatch(await timeline.textContent(), /坐席 #/);
    const stored = await server.call("GET", `/api/v1/calls/${ev.call_id}`, undefined, "op-second");
    assert.equal(stored.timeline.find((r) => r.kind === "declined").display_name, "李坐席");

    // A reload mid-call: console.sync names the call, and the page picks it up
    // without searching the list of calls.
    const listReads = [];
    page.on("request", (r) => { if (/\/api\/v1\/calls(\?|$)/.test(r.url())) listReads.push(r.url()); });
    await page.getByLabel("记录内容").fill("老人说头晕，已建议测血压");
    await page.getByRole("button", { name: "添加记录" }).click();
    await timeline.locator("li", { hasText: "老人说头晕" }).waitFor();
    await page.reload();
    await page.locator("#conn.open").waitFor();
    await page.locator("#call-h", { hasText: `通话 #${ev.call_id}` }).waitFor();
    await page.locator("#pop-name", { hasText: record.name }).waitFor();
    await timeline.locator("li", { hasText: "老人说头晕" }).waitFor();
    await timeline.locator("li[data-kind=declined]", { hasText: "李坐席拒接" }).waitFor();
    assert.deepEqual(listReads, []);
    await shot(page, "console-restored");

    await page.getByRole("button", { name: "结束通话", exact: true }).click();
    await page.locator("#last-call").waitFor({ state: "visible" });
    const closed = await server.call("GET", `/api/v1/calls/${ev.call_id}`, undefined, "admin");
    assert.equal(closed.state, "closed");
    assert.equal(closed.operator_id, second.id);
    assert.deepEqual(pageProblems(page), []);
    assert.deepEqual(pageProblems(first), []);
  } finally {
    await goAway(first, "op-first");
    await goAway(page, "op-second");
  }
});

test("a reload while a call rings for the operator brings the offer back with its countdown", async () => {
  const op = await server.addUser("op-ring", "operator", "110105", undefined, "孙坐席");
  const person = callers[1];
  const dev = await giveDevice(person, "B");
  // The operator's other console stays open: a reload ends this page's
  // stream, and an operator whose last console ends is set away (the
  // server notices at its next heartbeat), which would hand the offer on.
  const other = await openConsole("op-ring");
  const page = await openConsole("op-ring");
  try {
    await goAvailable(page, "op-ring");
    const ev = await server.deviceEvent(dev.serial, dev.secret, { event_id: "web-key-4", type: "key", key: "health" });
    await page.locator("#offer").waitFor({ state: "visible" });
    await other.locator("#offer").waitFor({ state: "visible" });

    await page.reload();
    await page.locator("#conn.open").waitFor();
    const offer = page.locator("#offer");
    await offer.waitFor({ state: "visible" });
    assert.match(await offer.textContent(), /来电.*健康咨询/);
    // It counts down to when the server moves the offer on: the offer
    // timeout (OFFER_MS, as linlid was started) after the call was offered.
    const left = offer.locator(".ticking[data-until]");
    await left.waitFor();
    await until(async () => {
      const call = await server.call("GET", `/api/v1/calls/${ev.call_id}`, undefined, "op-ring");
      const at = Number(await left.getAttribute("data-until"));
      return call.offered_to === op.id && at === Date.parse(call.offered_at) + OFFER_MS;
    }, "the countdown to end when the offer times out");
    // At most the whole timeout (2:00) is left.
    assert.match(await left.textContent(), /^振铃剩余 (2:00|[01]:[0-5]\d)$/);
    await shot(page, "console-offer-restored");

    await page.getByRole("button", { name: "接听", exact: true }).click();
    await page.locator("#pop-name").waitFor();
    await page.getByRole("button", { name: "结束通话", exact: true }).click();
    await page.locator("#last-call").waitFor({ state: "visible" });
    assert.equal((await server.call("GET", `/api/v1/calls/${ev.call_id}`, undefined, "admin")).state, "closed");
    assert.deepEqual(pageProblems(page), []);
    assert.deepEqual(pageProblems(other), []);
  } finally {
    await goAway(other, "op-ring");
    await goAway(page, "op-ring");
  }
});

test("refusal: a service order to a facility suspended meanwhile is refused with the server's reason", async () => {
  await server.addUser("op-refused", "operator", "110105");
  const person = callers[1];
  const dev = await giveDevice(person, "B");
  const page = await openConsole("op-refused");
  let suspended = null;
  try {
    await goAvailable(page, "op-refused");
    const ev = await server.deviceEvent(dev.serial, dev.secret, { event_id: "web-key-2", type: "key", key: "service" });
    await page.getByRole("button", { name: "接听", exact: true }).click();
    await page.locator("#pop-name").waitFor();
    const facility = await openListedFacility(page);
    // The facility stops taking orders after the pop listed it.
    await server.call("PATCH", `/api/v1/facilities/${facility.id}`, { status: "suspended" }, "admin");
    suspended = facility.id;
    await page.getByRole("button", { name: `派单：${facility.name}` }).click();
    const err = page.locator(`#services li[data-facility-id="${facility.id}"] .error`);
    await err.waitFor({ state: "visible" });
    assert.match(await err.textContent(), /suspended.*no orders/);
    assert.equal(await page.locator("#orders li.order").count(), 0, "no order shown as if sent");
    await shot(page, "console-refused");
    const call = await server.call("GET", `/api/v1/calls/${ev.call_id}`, undefined, "admin");
    assert.equal(call.actions.filter((a) => a.kind === "service_order").length, 0);

    // The call goes on: it can still be closed.
    await page.getByRole("button", { name: "结束通话", exact: true }).click();
    await page.locator("#last-call").waitFor({ state: "visible" });
    assert.equal((await server.call("GET", `/api/v1/calls/${ev.call_id}`, undefined, "admin")).state, "closed");
    assert.deepEqual(pageProblems(page), []);
  } finally {
    if (suspended) await server.call("PATCH", `/api/v1/facilities/${suspended}`, { status: "open" }, "admin");
    await goAway(page, "op-refused");
  }
});
