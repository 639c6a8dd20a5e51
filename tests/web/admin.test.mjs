// admin.test.mjs - users and roles: an account made on the page can log in,
// gets another role and area, is disabled and then refused; bad input shows
// the server's reason by the field and creates nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, login, shot, pageProblems } from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const PW = "kommune-pw-2026";

async function openAdmin(page) {
  await login(page, "admin", null, "/admin.html");
  await page.locator("body[data-loaded=true]").waitFor({ state: "attached" });
}

/** The account named username, read through the API as admin (or null). */
async function userNamed(username) {
  const all = await server.call("GET", "/api/v1/users?limit=500", null, "admin");
  return all.items.find((u) => u.username === username) || null;
}

/** Logs in through the API; answers the HTTP status. */
async function loginStatus(username, password) {
  try {
    await server.call("POST", "/api/v1/auth/login", { username, password });
    return 200;
  } catch (e) {
    return e.status;
  }
}

test("an account made on the page logs in, changes role and area, and is refused once disabled", async () => {
  const page = await newPage(browser, server);
  await openAdmin(page);
  const form = page.locator("#create");
  await form.getByLabel("用户名").fill("nl-community-1");
  await form.getByLabel("显示名称").fill("南郎家园社区 王芳");
  await form.getByLabel("角色").selectOption("community");
  await form.getByLabel("街道").selectOption("110105001000");
  await form.getByLabel("社区", { exact: true }).selectOption("110105001024");
  await form.getByLabel("密码", { exact: true }).fill(PW);
  await form.getByLabel("再输入一次密码").fill(PW);
  await shot(page, "admin-create");
  await form.getByRole("button", { name: "创建账号" }).click();
  const row = page.locator('tr[data-user="nl-community-1"]');
  await row.waitFor();
  assert.match(await row.textContent(), /南郎家园社区居委会/);
  assert.match(await row.locator("td[data-role]").textContent(), /社区/);
  // The store holds it, and it can log in.
  let u = await userNamed("nl-community-1");
  assert.equal(u.role, "community");
  assert.equal(u.scope, "110105001024");
  assert.equal(u.display_name, "南郎家园社区 王芳");
  assert.equal(await loginStatus("nl-community-1", PW), 200);
  const oldToken = (await server.call("POST", "/api/v1/auth/login", { username: "nl-community-1", password: PW })).token;

  // A street account for the whole street.
  await row.getByRole("button", { name: "编辑" }).click();
  const dlg = page.locator("#edit");
  await dlg.waitFor();
  assert.equal(await dlg.getByLabel("社区", { exact: true }).inputValue(), "110105001024");
  await dlg.getByLabel("角色").selectOption("street");
  await dlg.getByLabel("社区", { exact: true }).selectOption("");
  await shot(page, "admin-edit");
  await dlg.getByRole("button", { name: "保存" }).click();
  await dlg.waitFor({ state: "hidden" });
  await page.locator('tr[data-user="nl-community-1"] td[data-scope="110105001000"]').waitFor();
  u = await userNamed("nl-community-1");
  assert.equal(u.role, "street");
  assert.equal(u.scope, "110105001000");
  // The change ended the session it had.
  await assert.rejects(server.call("GET", "/api/v1/me", null, null, { Authorization: "Bearer " + oldToken }), (e) => e.status === 401);

  // Disabled: the row says so in words, and its login is refused.
  await row.getByRole("button", { name: "停用" }).click();
  await row.locator(".badge.bad").filter({ hasText: "已停用" }).waitFor();
  assert.equal((await userNamed("nl-community-1")).disabled, true);
  assert.equal(await loginStatus("nl-community-1", PW), 401);
  await shot(page, "admin-list");
  // And enabled again.
  await row.getByRole("button", { name: "启用" }).click();
  await row.locator(".badge.ok").waitFor();
  assert.equal(await loginStatus("nl-community-1", PW), 200);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("bad input shows the server's reason by the field and creates nothing", async () => {
  const page = await newPage(browser, server);
  await openAdmin(page);
  const before = (await server.call("GET", "/api/v1/users?limit=500", null, "admin")).items.length;
  const form = page.locator("#create");
  // A community account without a community.
  await form.getByLabel("用户名").fill("no-scope-1");
  await form.getByLabel("角色").selectOption("community");
  await form.getByLabel("密码", { exact: true }).fill(PW);
  await form.getByLabel("再输入一次密码").fill(PW);
  await form.getByRole("button", { name: "创建账号" }).click();
  const scopeErr = page.locator("#c-scope-error");
  await scopeErr.waitFor();
  // The server's own words.
  let refused;
  try { await server.call("POST", "/api/v1/users", { username: "no-scope-1", role: "community", password: PW }, "admin"); } catch (e) { refused = e.body; }
  const scopeMsg = refused.errors.find((f) => f.field === "scope").message;
  assert.equal(await scopeErr.textContent(), scopeMsg);
  assert.match(await page.locator("#c-error").textContent(), /invalid fields/);
  await shot(page, "admin-create-errors");
  assert.equal(await userNamed("no-scope-1"), null);

  // A username that is taken.
  await form.getByLabel("用户名").fill("admin");
  await form.getByLabel("街道").selectOption("110105001000");
  await form.getByLabel("社区", { exact: true }).selectOption("110105001024");
  await form.getByLabel("密码", { exact: true }).fill(PW);
  await form.getByLabel("再输入一次密码").fill(PW);
  await form.getByRole("button", { name: "创建账号" }).click();
  const nameErr = page.locator("#c-username-error");
  await nameErr.waitFor();
  assert.equal(await nameErr.textContent(), "is taken");
  assert.equal(await page.locator("#c-username").getAttribute("aria-invalid"), "true");
  assert.ok(await scopeErr.isHidden(), "the earlier error is gone");
  assert.match(await page.locator("#c-error").textContent(), /A user named admin exists already/);
  const admin = await userNamed("admin");
  assert.equal(admin.role, "admin");

  // Two different passwords never reach the server.
  await form.getByLabel("用户名").fill("typo-1");
  await form.getByLabel("密码", { exact: true }).fill(PW);
  await form.getByLabel("再输入一次密码").fill(PW + "x");
  await form.getByRole("button", { name: "创建账号" }).click();
  await page.locator("#c-password2-error").filter({ hasText: "两次输入的密码不一样" }).waitFor();
  assert.equal(await userNamed("typo-1"), null);
  assert.equal((await server.call("GET", "/api/v1/users?limit=500", null, "admin")).items.length, before);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("a generated password is shown once and works; a reset replaces it", async () => {
  const page = await newPage(browser, server, { lang: "en", large: true });
  await openAdmin(page);
  const form = page.locator("#create");
  await form.getByLabel("Username").fill("op-generated-1");
  await form.getByLabel("Role").selectOption("operator");
  await form.getByLabel("Street").selectOption("110105000000");
  await form.getByLabel("Generate one (shown once)").check();
  await form.getByRole("button", { name: "Create account" }).click();
  const secret = page.locator("#c-secret-value");
  await secret.waitFor();
  const pw = await secret.textContent();
  assert.match(pw, /^[A-Za-z0-9]{16}$/);
  assert.equal((await userNamed("op-generated-1")).scope, "110105000000");
  assert.equal(await loginStatus("op-generated-1", pw), 200);
  await shot(page, "admin-en-large");

  // Filter by role: only operators.
  await page.getByLabel("Filter by role").selectOption("operator");
  await page.waitForFunction(() => [...document.querySelectorAll("#users-body td[data-role]")].every((td) => td.dataset.role === "operator"));
  const row = page.locator('tr[data-user="op-generated-1"]');
  await row.waitFor();
  // A typed reset that is too short: the server's reason by the field.
  await row.getByRole("button", { name: "Edit" }).click();
  const dlg = page.locator("#edit");
  await dlg.getByLabel("New password").fill("short");
  await dlg.getByLabel("Password again").fill("short");
  await dlg.getByRole("button", { name: "Reset password" }).click();
  await page.locator("#r-password-error").filter({ hasText: "at least 8" }).waitFor();
  assert.equal(await loginStatus("op-generated-1", pw), 200, "the old password still works");
  // A generated one.
  await dlg.getByLabel("Generate one (shown once)").check();
  await dlg.getByRole("button", { name: "Reset password" }).click();
  const fresh = await page.locator("#r-secret-value").textContent();
  assert.notEqual(fresh, pw);
  assert.equal(await loginStatus("op-generated-1", fresh), 200);
  assert.equal(await loginStatus("op-generated-1", pw), 401);
  await dlg.getByRole("button", { name: "Close" }).click();
  await dlg.waitFor({ state: "hidden" });
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("only admins may open it", async () => {
  await server.addUser("adm-district", "district", "110105");
  const page = await newPage(browser, server);
  await login(page, "adm-district", null, "/admin.html");
  await page.locator("main .notice.error", { hasText: "您的账号没有这项权限" }).waitFor();
  assert.equal(await page.locator("#create").count(), 0);
  await page.context().close();
});
