// account.test.mjs - my account: the page shows who the server says I am;
// changing my password keeps this login, ends the others and the new password
// logs in; a wrong current password shows the server's reason by the field
// and changes nothing; a password an admin set sends its owner here first.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer, launchBrowser, newPage, login, shot, pageProblems, a11yProblems, overflowsSideways, DEMO_PASSWORD,
} from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const NEW_PW = "my-own-new-pw-2026";

async function openAccount(page, username, password = null) {
  await login(page, username, password, "/account.html");
  await page.locator("body[data-loaded=true]").waitFor({ state: "attached" });
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

/** The status of GET /api/v1/me with a token. */
async function meStatus(token) {
  try {
    await server.call("GET", "/api/v1/me", null, null, { Authorization: "Bearer " + token });
    return 200;
  } catch (e) {
    return e.status;
  }
}

test("a demo account sees who it is, changes its password here and logs in with the new one", async () => {
  // A login elsewhere, before the change: it must end.
  const elsewhere = (await server.call("POST", "/api/v1/auth/login", { username: "demo-community", password: DEMO_PASSWORD })).token;
  const me = await server.call("GET", "/api/v1/me", null, null, { Authorization: "Bearer " + elsewhere });
  assert.ok(me.scope && me.units.length > 0, "the demo community worker has an area and units");

  const page = await newPage(browser, server);
  await openAccount(page, "demo-community");
  // Who the server says this is.
  assert.equal(await page.locator("#me-username").textContent(), "demo-community");
  assert.equal(await page.locator("#me-display_name").textContent(), me.display_name || "—");
  assert.equal(await page.locator("#me-role").textContent(), "社区");
  const area = await server.call("GET", "/api/v1/areas/" + me.scope);
  const scopeText = await page.locator("#me-scope").textContent();
  assert.ok(scopeText.includes(area.name) && scopeText.includes(me.scope), scopeText);
  assert.deepEqual(await page.locator("#me-units li").evaluateAll((li) => li.map((x) => x.dataset.unit)),
    me.units.map((u) => u.code));
  assert.ok(await page.locator("#acc-must").isHidden());
  assert.equal(await page.locator('#site-header nav a[aria-current="page"]').textContent(), "我的账号");
  assert.deepEqual(await a11yProblems(page), []);

  const form = page.locator("#pw");
  await form.getByLabel("当前密码").fill(DEMO_PASSWORD);
  await form.getByLabel("新密码", { exact: true }).fill(NEW_PW);
  await form.getByLabel("再输入一次新密码").fill(NEW_PW);
  await form.getByRole("button", { name: "修改密码" }).click();
  await page.locator("#p-done").waitFor({ state: "visible" });
  assert.match(await page.locator("#p-done-text").textContent(), /密码已修改/);
  assert.equal(await form.getByLabel("当前密码").inputValue(), "", "the form is emptied");
  await shot(page, "account");

  // This login stays; the other one ended; only the new password logs in.
  await page.reload();
  await page.locator("body[data-loaded=true]").waitFor({ state: "attached" });
  assert.equal(new URL(page.url()).pathname, "/account.html");
  assert.equal(await meStatus(elsewhere), 401);
  assert.equal(await loginStatus("demo-community", DEMO_PASSWORD), 401);
  await page.getByRole("button", { name: "退出登录" }).click();
  await page.locator("#login-box").waitFor({ state: "visible" });
  await login(page, "demo-community", NEW_PW);
  assert.match(await page.locator("#hello").textContent(), /您好/);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("a wrong current password shows the server's reason by the field and changes nothing (phone, English, large text)", async () => {
  const page = await newPage(browser, server, { mobile: true, lang: "en", large: true });
  await openAccount(page, "demo-resident");
  assert.equal(await overflowsSideways(page), false, "the account page scrolls sideways on a phone");
  assert.equal(await page.locator("#me-scope").textContent(), "None");
  const form = page.locator("#pw");

  // Two new passwords that differ never reach the server.
  await form.getByLabel("Current password").fill(DEMO_PASSWORD);
  await form.getByLabel("New password", { exact: true }).fill(NEW_PW);
  await form.getByLabel("New password again").fill(NEW_PW + "x");
  await form.getByRole("button", { name: "Change password" }).click();
  await page.locator("#p-repeat-error").filter({ hasText: "The two new passwords differ." }).waitFor();
  assert.equal(await page.locator("#p-repeat").getAttribute("aria-invalid"), "true");

  // A wrong current password: the server's words, by that field.
  let refused;
  try {
    await server.call("POST", "/api/v1/me/password", { current_password: "not-my-password", new_password: NEW_PW }, "demo-volunteer");
  } catch (e) { refused = e.body; }
  const want = refused.errors.find((f) => f.field === "current_password").message;
  await form.getByLabel("Current password").fill("not-my-password");
  await form.getByLabel("New password again").fill(NEW_PW);
  await form.getByRole("button", { name: "Change password" }).click();
  const err = page.locator("#p-current_password-error");
  await err.waitFor({ state: "visible" });
  assert.equal(await err.textContent(), want);
  assert.equal(await page.locator("#p-current_password").getAttribute("aria-invalid"), "true");
  assert.ok(await page.locator("#p-repeat-error").isHidden(), "the earlier error is gone");
  assert.match(await page.locator("#p-error").textContent(), /current password is wrong/);
  assert.ok(await page.locator("#p-done").isHidden());

  // A new password that is too short: the same reason an admin's create gets.
  await form.getByLabel("Current password").fill(DEMO_PASSWORD);
  await form.getByLabel("New password", { exact: true }).fill("short");
  await form.getByLabel("New password again").fill("short");
  await form.getByRole("button", { name: "Change password" }).click();
  await page.locator("#p-new_password-error").filter({ hasText: "must be at least 8 characters" }).waitFor();
  await shot(page, "account-mobile-en-large");

  // Nothing changed: the old password logs in, the new one does not, and
  // this page is still logged in.
  assert.equal(await loginStatus("demo-resident", DEMO_PASSWORD), 200);
  assert.equal(await loginStatus("demo-resident", NEW_PW), 401);
  assert.equal(await overflowsSideways(page), false);
  assert.deepEqual(await a11yProblems(page), []);
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});

test("after an admin set the password, logging in leads here first, then on", async () => {
  const users = await server.call("GET", "/api/v1/users?limit=500", null, "admin");
  const volunteer = users.items.find((u) => u.username === "demo-volunteer");
  const given = "given-by-admin-1";
  const set = await server.call("PATCH", "/api/v1/users/" + volunteer.id, { password: given }, "admin");
  assert.equal(set.must_change_password, true);

  const page = await newPage(browser, server);
  await page.goto(server.url + "/?next=" + encodeURIComponent("/report.html"));
  await page.getByLabel("用户名").fill("demo-volunteer");
  await page.getByLabel("密码").fill(given);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL((u) => u.pathname === "/account.html");
  await page.locator("body[data-loaded=true]").waitFor({ state: "attached" });
  await page.locator("#acc-must").waitFor({ state: "visible" });

  const form = page.locator("#pw");
  await form.getByLabel("当前密码").fill(given);
  await form.getByLabel("新密码", { exact: true }).fill(NEW_PW);
  await form.getByLabel("再输入一次新密码").fill(NEW_PW);
  await form.getByRole("button", { name: "修改密码" }).click();
  await page.locator("#p-done").waitFor({ state: "visible" });
  await page.locator("#acc-must").waitFor({ state: "hidden" });
  const me = (await server.call("POST", "/api/v1/auth/login", { username: "demo-volunteer", password: NEW_PW })).user;
  assert.equal(me.must_change_password, false);
  // On to the page the person was going to.
  await page.getByRole("link", { name: "继续" }).click();
  await page.waitForURL((u) => u.pathname === "/report.html");
  assert.deepEqual(pageProblems(page), []);
  await page.context().close();
});
