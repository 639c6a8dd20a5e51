// harness.mjs - what the browser tests share: a real linlid on a copy of the
// demo district, Debian's Chromium driven by playwright-core, logins, calls
// to the API from the test's side, and screenshots kept as artifacts.
//
// Environment (set by tests/CMakeLists.txt): LINLID, LINLI_CLI,
// LINLI_SOURCE_DIR, LINLI_WEB_DEMO (the demo database the web.demo step
// built), LINLI_WEB_ARTIFACTS (where screenshots go).

import { spawn, execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE = process.env.LINLI_SOURCE_DIR || path.resolve(here, "../..");
export const LINLID = process.env.LINLID || path.join(SOURCE, "build/dev/linlid");
export const CLI = process.env.LINLI_CLI || path.join(SOURCE, "build/dev/linli");
export const DEMO_DB = process.env.LINLI_WEB_DEMO || path.join(SOURCE, "build/dev/web-demo/demo.db");
export const ARTIFACTS = process.env.LINLI_WEB_ARTIFACTS || path.join(SOURCE, "build/dev/web-artifacts");
export const ADMIN_PASSWORD = "admin-web-test-pw-1";
export const DEMO_PASSWORD = "demo-web-test-pw-1";
export const CHROMIUM = process.env.LINLI_CHROMIUM || "/usr/bin/chromium";

const { chromium } = await import(path.join(SOURCE, "web/node_modules/playwright-core/index.mjs"));

/** Environment for a child: no LINLI_* settings from outside. */
function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("LINLI_")) env[k] = v;
  env.ASAN_OPTIONS = env.ASAN_OPTIONS || "detect_leaks=1";
  return Object.assign(env, extra);
}

/** Builds the demo database the tests copy: init, then the demo at a small
 * scale (about 30,000 older people) with the demo accounts' password known. */
export function buildDemo(dbPath, scale = "0.05") {
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  for (const f of [dbPath, dbPath + "-wal", dbPath + "-shm"]) fs.rmSync(f, { force: true });
  const env = childEnv({ LINLI_ADMIN_PASSWORD: ADMIN_PASSWORD, LINLI_DEMO_PASSWORD: DEMO_PASSWORD });
  const opts = { env, cwd: SOURCE, stdio: ["ignore", "pipe", "pipe"] };
  // Built under a name of its own, then renamed: a test never copies half a demo.
  const part = `${dbPath}.${process.pid}.part`;
  execFileSync(CLI, ["--db", part, "init"], opts);
  execFileSync(CLI, ["--db", part, "demo", "--seed", "7", "--scale", scale], opts);
  fs.renameSync(part, dbPath);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A linlid on a fresh copy of the demo database, serving web/ on a free
 * loopback port. stop() ends it and fails if it did not exit cleanly. */
export async function startServer(extraArgs = [], extraEnv = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "linli-web-"));
  const db = path.join(dir, "linli.db");
  fs.copyFileSync(DEMO_DB, db);
  let lastErr = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const errPath = path.join(dir, `linlid-${attempt}.stderr`);
    const errFd = fs.openSync(errPath, "w");
    const args = ["--db", db, "--listen", `127.0.0.1:${port}`, "--static-dir", path.join(SOURCE, "web"),
      "--photo-dir", path.join(dir, "photos"), "--sse-heartbeat", "1", "--stop-grace", "5",
      "--log-requests=false", ...extraArgs];
    const proc = spawn(LINLID, args, {
      cwd: SOURCE, env: childEnv(Object.assign({ LINLI_DEVICE_SILENT_S: "0" }, extraEnv)),
      stdio: ["ignore", "ignore", errFd],
    });
    fs.closeSync(errFd);
    let exited = false;
    proc.on("exit", () => { exited = true; });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 300 && !exited; i++) {
      try {
        const r = await fetch(url + "/healthz");
        if (r.ok) {
          const srv = new Server(proc, url, db, dir, errPath);
          return srv;
        }
      } catch { /* not yet */ }
      await sleep(100);
    }
    if (!exited) proc.kill("SIGKILL");
    lastErr = fs.readFileSync(errPath, "utf8");
    if (!lastErr.includes("cannot listen")) break;
  }
  throw new Error("linlid did not start:\n" + lastErr.slice(-4000));
}

export class Server {
  constructor(proc, url, db, dir, errPath) {
    Object.assign(this, { proc, url, db, dir, errPath });
    this.tokens = new Map();
  }

  stderr() { return fs.readFileSync(this.errPath, "utf8"); }

  /** A token for username (the demo accounts' password unless given). */
  async token(username, password) {
    if (this.tokens.has(username)) return this.tokens.get(username);
    const pw = password || (username === "admin" ? ADMIN_PASSWORD : DEMO_PASSWORD);
    const r = await this.call("POST", "/api/v1/auth/login", { username, password: pw });
    this.tokens.set(username, r.token);
    return r.token;
  }

  /** Calls the API as `as` (a username, or null for no token); answers
   * the parsed body and throws on a status other than 2xx. */
  async call(method, p, body, as = null, headers = {}) {
    const h = Object.assign({}, headers);
    if (as) h.Authorization = "Bearer " + (await this.token(as));
    let payload;
    if (body !== undefined && body !== null) {
      if (body instanceof FormData || typeof body === "string" || body instanceof Uint8Array) payload = body;
      else { h["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    }
    const r = await fetch(this.url + p, { method, headers: h, body: payload });
    const text = await r.text();
    let data = text;
    try { data = JSON.parse(text); } catch { /* text */ }
    if (!r.ok) {
      const e = new Error(`${method} ${p} -> ${r.status}: ${text.slice(0, 500)}`);
      e.status = r.status;
      e.body = data;
      throw e;
    }
    return data;
  }

  /** Makes an account through the API as admin; answers the user. */
  async addUser(username, role, scope, password = DEMO_PASSWORD, displayName = null) {
    const body = { username, role, password, display_name: displayName || username };
    if (scope) body.scope = scope;
    return this.call("POST", "/api/v1/users", body, "admin");
  }

  /** Runs the linli command on this server's database. */
  cli(args, input) {
    return execFileSync(CLI, ["--db", this.db, ...args], {
      env: childEnv(), cwd: SOURCE, input, stdio: ["pipe", "pipe", "pipe"],
    }).toString();
  }

  /** Signs and sends one device event through the HTTP door, as a device
   * would (docs/devices.md). */
  async deviceEvent(serial, secret, event) {
    const body = JSON.stringify(event);
    const ts = String(Math.floor(Date.now() / 1000));
    const key = /^[0-9a-f]{64}$/i.test(secret) ? Buffer.from(secret, "hex") : Buffer.from(secret);
    const sig = createHmac("sha256", key).update(ts + "." + body).digest("hex");
    const r = await fetch(this.url + "/api/v1/device-events", {
      method: "POST", body,
      headers: { "Content-Type": "application/json", "X-Linli-Device": serial, "X-Linli-Timestamp": ts, "X-Linli-Signature": sig },
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`device event -> ${r.status}: ${text}`);
    return JSON.parse(text);
  }

  /** SIGTERM; fails on an unclean exit or a sanitizer report. */
  async stop() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const done = new Promise((r) => this.proc.once("exit", (code, sig) => r({ code, sig })));
      this.proc.kill("SIGTERM");
      const res = await Promise.race([done, sleep(20000).then(() => null)]);
      if (!res) { this.proc.kill("SIGKILL"); throw new Error("linlid did not stop within 20 s"); }
      const text = this.stderr();
      for (const mark of ["AddressSanitizer", "runtime error", "LeakSanitizer"])
        if (text.includes(mark)) throw new Error("linlid stderr has a sanitizer report:\n" + text.slice(-6000));
      if (res.code !== 0) throw new Error(`linlid exited with ${res.code} (${res.sig}):\n` + text.slice(-3000));
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Debian's Chromium, headless, with nothing reaching out to the network.
 * Playwright gives every launch a new, empty profile directory. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-dev-shm-usage"],
  });
}

/** A new page (its own context: its own session storage) that fails the
 * test on any script error or failed request to our server. Options:
 * lang ("zh"|"en"), mobile (a phone's viewport), large (large text). */
export async function newPage(browser, server, opts = {}) {
  const ctx = await browser.newContext({
    viewport: opts.mobile ? { width: 390, height: 844 } : { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
    geolocation: opts.geolocation,
    permissions: opts.geolocation ? ["geolocation"] : [],
  });
  ctx.setDefaultTimeout(15000);
  const page = await ctx.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") page.errors.push("console: " + m.text()); });
  // Nothing leaves loopback: a page that asks for anything else is wrong.
  await ctx.route(/^(?!http:\/\/127\.0\.0\.1)/, (route) => {
    page.errors.push("request off the server: " + route.request().url());
    return route.abort();
  });
  await ctx.addInitScript(([lang, large]) => {
    if (lang) localStorage.setItem("linli.lang", lang);
    if (large) localStorage.setItem("linli.large", "1");
  }, [opts.lang || null, !!opts.large]);
  page.server = server;
  return page;
}

/** The page's own problems so far (script errors, console errors), to
 * assert empty. Expected API refusals (4xx answers) appear as console
 * errors in Chromium, so those are left out. */
export function pageProblems(page) {
  return page.errors.filter((e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e));
}

/** Logs in through the login page, as a person would. */
export async function login(page, username, password, next = null) {
  const pw = password || (username === "admin" ? ADMIN_PASSWORD : DEMO_PASSWORD);
  await page.goto(page.server.url + "/" + (next ? "?next=" + encodeURIComponent(next) : ""));
  await page.getByLabel(/用户名|Username/).fill(username);
  await page.getByLabel(/密码|Password/).fill(pw);
  await page.getByRole("button", { name: /^(登录|Log in)$/ }).click();
  if (next) await page.waitForURL((u) => u.pathname === next.split(/[?#]/)[0]);
  else await page.locator("#home").waitFor({ state: "visible" });
}

/** Keeps a screenshot of the page as a test artifact: ARTIFACTS/name.png. */
export async function shot(page, name, opts = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name + ".png");
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? true });
  return file;
}

/** What a screen reader or keyboard user would trip over on the page as it
 * stands: form fields without a label, buttons and links without a name,
 * images without alt text, repeated ids, no page language. Hidden parts
 * are left out. Answers a list of descriptions (empty = none found). */
export async function a11yProblems(page) {
  return page.evaluate(() => {
    const out = [];
    const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length) &&
      getComputedStyle(e).visibility !== "hidden";
    const named = (e) => {
      if ((e.getAttribute("aria-label") || "").trim()) return true;
      const by = e.getAttribute("aria-labelledby");
      if (by && by.split(/\s+/).some((id) => (document.getElementById(id)?.textContent || "").trim())) return true;
      if ((e.getAttribute("title") || "").trim()) return true;
      return false;
    };
    const describe = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
      (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "");
    if (!document.documentElement.lang) out.push("the page has no lang");
    for (const e of document.querySelectorAll("input, select, textarea")) {
      if (e.type === "hidden" || !visible(e)) continue;
      if (!(e.labels && e.labels.length) && !named(e)) out.push("no label: " + describe(e));
    }
    for (const e of document.querySelectorAll("button, a[href], [role=button]")) {
      if (!visible(e)) continue;
      const text = (e.textContent || "").trim() || [...e.querySelectorAll("img[alt]")].map((i) => i.alt).join("");
      if (!text && !named(e)) out.push("no name: " + describe(e));
    }
    for (const e of document.querySelectorAll("img")) {
      if (!e.hasAttribute("alt") && !e.closest(".leaflet-pane, .leaflet-control-container")) out.push("no alt: " + describe(e));
    }
    const seen = new Map();
    for (const e of document.querySelectorAll("[id]")) seen.set(e.id, (seen.get(e.id) || 0) + 1);
    for (const [id, n] of seen) if (n > 1) out.push(`id "${id}" used ${n} times`);
    return out;
  });
}

/** Whether the page is wider than its window (sideways scrolling on a phone). */
export async function overflowsSideways(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}
