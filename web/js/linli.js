// linli.js - what every page shares: the session, calls to the API, the two
// languages, the large-text option, the page header, live event streams,
// photos behind a login, and a map of the district.
//
// Pages are plain ES modules with no build step. Text from the server is
// always put into the page as text (el(), textContent), never as HTML.

const TOKEN = "linli.token";
const USER = "linli.user";
const LANG = "linli.lang";
const LARGE = "linli.large";

// ---- language ----

const dict = {
  zh: {
    brand: "邻里", switch_lang: "English", large_text: "大字", normal_text: "标准字号",
    logout: "退出登录", login: "登录", loading: "正在加载…", retry: "重试",
    nav_home: "首页", nav_finder: "找服务", nav_report: "随手拍", nav_console: "一键呼坐席",
    nav_desk: "接诉即办", nav_dashboard: "全区看板", nav_admin: "用户与角色", nav_audit: "审计日志", nav_account: "我的账号",
    err_network: "连不上服务器，请检查网络后重试。", err_session: "登录已过期，请重新登录。",
    err_forbidden: "您的账号没有这项权限。", saved: "已保存", none: "无", yuan: "元",
    minutes: "分钟", walk_minutes: "步行 {n} 分钟", open_now: "营业中", closed_now: "未营业",
    unknown: "未知", close: "关闭", cancel: "取消", submit: "提交", search: "查询",
    role_admin: "管理员", role_district: "区级", role_street: "街道", role_community: "社区",
    role_operator: "坐席", role_provider: "服务商", role_volunteer: "志愿者",
    role_resident: "居民", role_auditor: "审计", map_no_tiles: "未配置底图：只画出区界和位置点。",
  },
  en: {
    brand: "Linli", switch_lang: "中文", large_text: "Large text", normal_text: "Normal text",
    logout: "Log out", login: "Log in", loading: "Loading…", retry: "Try again",
    nav_home: "Home", nav_finder: "Find services", nav_report: "Snap and report",
    nav_console: "Call console", nav_desk: "Case desk", nav_dashboard: "District dashboard",
    nav_admin: "Users and roles", nav_audit: "Audit log", nav_account: "My account",
    err_network: "Cannot reach the server. Check the connection and try again.",
    err_session: "Your session has ended. Please log in again.",
    err_forbidden: "Your account may not do this.", saved: "Saved", none: "None", yuan: "yuan",
    minutes: "min", walk_minutes: "{n} min walk", open_now: "Open now", closed_now: "Closed now",
    unknown: "Unknown", close: "Close", cancel: "Cancel", submit: "Submit", search: "Search",
    role_admin: "Administrator", role_district: "District", role_street: "Street",
    role_community: "Community", role_operator: "Operator", role_provider: "Provider",
    role_volunteer: "Volunteer", role_resident: "Resident", role_auditor: "Auditor",
    map_no_tiles: "No base map is configured: the district outline and the points only.",
  },
};

let lang = localStorage.getItem(LANG) === "en" ? "en" : "zh";
const langListeners = [];

/** Adds a page's own strings: addStrings({zh: {...}, en: {...}}). */
export function addStrings(more) {
  for (const l of ["zh", "en"]) Object.assign(dict[l], more[l] || {});
}

/** The current language, "zh" or "en". */
export function currentLang() { return lang; }

/** The text for `key` in the current language, with {name} filled from vars. */
export function t(key, vars) {
  let s = dict[lang][key] ?? dict.zh[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll("{" + k + "}", String(v));
  return s;
}

/** Picks the label of the current language from an object with zh/en
 * variants, e.g. pick(category, "name") reads name_en in English. */
export function pick(obj, field) {
  if (!obj) return "";
  if (lang === "en") return obj[field + "_en"] || obj[field] || obj[field + "_zh"] || "";
  return obj[field + "_zh"] || obj[field] || obj[field + "_en"] || "";
}

/** Fills every [data-i18n] element's text and every [data-i18n-attr]
 * ("placeholder:key;aria-label:key") attribute below root. */
export function applyI18n(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  root.querySelectorAll("[data-i18n]").forEach((e) => { e.textContent = t(e.dataset.i18n); });
  root.querySelectorAll("[data-i18n-attr]").forEach((e) => {
    for (const pair of e.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      if (attr && key) e.setAttribute(attr.trim(), t(key.trim()));
    }
  });
  const title = document.querySelector("title[data-i18n]");
  if (title) document.title = t(title.dataset.i18n);
}

/** Calls fn after every language switch (to redraw what pages built). */
export function onLangChange(fn) { langListeners.push(fn); }

export function setLang(l) {
  lang = l === "en" ? "en" : "zh";
  localStorage.setItem(LANG, lang);
  applyI18n();
  paintHeader();
  for (const fn of langListeners) fn(lang);
}

// ---- large text ----

export function setLarge(on) {
  document.documentElement.classList.toggle("large", !!on);
  localStorage.setItem(LARGE, on ? "1" : "0");
  paintHeader();
}
document.documentElement.classList.toggle("large", localStorage.getItem(LARGE) === "1");

// ---- the session ----

/** {token, user} of the logged-in account, or null. */
export function session() {
  const token = sessionStorage.getItem(TOKEN);
  if (!token) return null;
  let user = null;
  try { user = JSON.parse(sessionStorage.getItem(USER) || "null"); } catch { user = null; }
  return { token, user };
}

export function saveSession(token, user) {
  sessionStorage.setItem(TOKEN, token);
  sessionStorage.setItem(USER, JSON.stringify(user));
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(USER);
}

/** Sends the browser to the login page, coming back here afterwards. */
export function toLogin(reason) {
  const next = location.pathname + location.search + location.hash;
  const q = new URLSearchParams({ next });
  if (reason) q.set("why", reason);
  location.href = "/?" + q.toString();
}

/** For pages that need a login: the session, or a trip to the login page.
 * With roles, an account of another role sees a message instead. */
export async function requireLogin(roles) {
  const s = session();
  if (!s) { toLogin(); return new Promise(() => {}); }
  try {
    const me = await api("GET", "/api/v1/me");
    saveSession(s.token, me);
    s.user = me;
  } catch (e) {
    if (e.status === 401) { clearSession(); toLogin("expired"); return new Promise(() => {}); }
    throw e;
  }
  if (roles && !roles.includes(s.user.role)) {
    const main = document.querySelector("main");
    main.replaceChildren(el("p", { class: "notice error", role: "alert" }, t("err_forbidden")));
    paintHeader();
    return new Promise(() => {});
  }
  paintHeader();
  return s;
}

// ---- the API ----

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || "HTTP " + status);
    this.status = status;
    this.problem = problem || {};
    this.errors = (problem && problem.errors) || [];
  }
  /** The message for a person: the field errors when there are some. */
  explain() {
    if (this.status === 0) return t("err_network");
    if (this.status === 401 && this.sessionEnded) return t("err_session");
    if (this.status === 403 && !this.problem.detail) return t("err_forbidden");
    const parts = [this.message];
    for (const f of this.errors) parts.push((f.field ? f.field + ": " : "") + f.message);
    return parts.join(" ");
  }
}

/** Calls the API. body is sent as JSON unless it is FormData or
 * URLSearchParams. Answers the parsed JSON (or text); throws ApiError. */
export async function api(method, path, body, opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  const s = session();
  if (s && !opts.anonymous) headers.Authorization = "Bearer " + s.token;
  let payload;
  if (body instanceof FormData || body instanceof URLSearchParams) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, { method, headers, body: payload, signal: opts.signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, null);
  }
  const type = r.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await r.json().catch(() => null) : await r.text();
  if (!r.ok) {
    const e = new ApiError(r.status, typeof data === "object" ? data : { detail: data });
    if (r.status === 401 && s && !opts.anonymous) { clearSession(); e.sessionEnded = true; }
    throw e;
  }
  return data;
}

/** Every item of a paged list (following next_cursor), up to max items. */
export async function apiAll(path, max = 5000) {
  const out = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api("GET", path + (cursor ? sep + "cursor=" + encodeURIComponent(cursor) : ""));
    out.push(...(page.items || []));
    cursor = page.next_cursor;
  } while (cursor && out.length < max);
  return out;
}

// ---- live events: Server-Sent Events read with fetch, so the token goes
// in a header and not in a URL ----

/** Opens the event stream at path and calls onEvent(type, data, id) for
 * each event; reconnects with a growing pause. onState("open"|"closed")
 * reports the connection. Returns a function that stops it. */
export function stream(path, onEvent, onState) {
  let stopped = false;
  let ctrl = null;
  let pause = 500;
  async function run() {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const s = session();
        const r = await fetch(path, {
          headers: s ? { Authorization: "Bearer " + s.token, Accept: "text/event-stream" } : {},
          signal: ctrl.signal,
        });
        if (r.status === 401) { clearSession(); toLogin("expired"); return; }
        if (!r.ok || !r.body) throw new Error("stream " + r.status);
        pause = 500;
        if (onState) onState("open");
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut;
          while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut).replace(/^\r?\n\r?\n/, "");
            let type = "message", id = null;
            const data = [];
            for (const line of block.split(/\r?\n/)) {
              if (!line || line.startsWith(":")) continue;
              const i = line.indexOf(":");
              const k = i < 0 ? line : line.slice(0, i);
              const v = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
              if (k === "event") type = v;
              else if (k === "data") data.push(v);
              else if (k === "id") id = v;
            }
            if (!data.length) continue;
            let parsed = data.join("\n");
            try { parsed = JSON.parse(parsed); } catch { /* plain text */ }
            try { onEvent(type, parsed, id); } catch (e) { console.error(e); }
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      if (onState) onState("closed");
      if (stopped) return;
      await new Promise((res) => setTimeout(res, pause));
      pause = Math.min(pause * 2, 10000);
    }
  }
  run();
  return () => { stopped = true; if (ctrl) ctrl.abort(); };
}

// ---- photos behind a login: fetched with the token, shown from a blob ----

const photoCache = new Map();
/** An object URL for a photo route that needs the login. */
export async function photoURL(path) {
  if (photoCache.has(path)) return photoCache.get(path);
  const s = session();
  const r = await fetch(path, { headers: s ? { Authorization: "Bearer " + s.token } : {} });
  if (!r.ok) throw new ApiError(r.status, null);
  const url = URL.createObjectURL(await r.blob());
  photoCache.set(path, url);
  return url;
}

// ---- building the page ----

/** A DOM element: el("a", {href: "/", class: "x", onclick: fn}, "text", child...). */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (v === true) e.setAttribute(k, "");
    else e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** Says msg in the page's live region (read out by screen readers). */
export function announce(msg, kind = "info") {
  let box = document.getElementById("announce");
  if (!box) {
    box = el("div", { id: "announce", class: "announce", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  box.className = "announce " + kind;
  box.textContent = msg;
  clearTimeout(box._timer);
  if (msg) box._timer = setTimeout(() => { box.textContent = ""; box.className = "announce"; }, 6000);
}

/** Shows an error in `where` (an element) or in the live region. */
export function showError(e, where) {
  const msg = e instanceof ApiError ? e.explain() : String(e && e.message ? e.message : e);
  if (where) {
    where.textContent = msg;
    where.hidden = false;
  } else announce(msg, "error");
}

// Which pages each role sees in the header.
const PAGES = [
  { key: "nav_finder", href: "/finder.html", roles: null },
  { key: "nav_report", href: "/report.html", roles: "any" },
  { key: "nav_console", href: "/console.html", roles: ["operator", "admin"] },
  { key: "nav_desk", href: "/desk.html", roles: ["community", "street", "district", "admin", "provider", "auditor"] },
  { key: "nav_dashboard", href: "/dashboard.html", roles: ["district", "admin", "street", "auditor"] },
  { key: "nav_admin", href: "/admin.html", roles: ["admin"] },
  { key: "nav_audit", href: "/audit.html", roles: ["admin", "auditor"] },
  { key: "nav_account", href: "/account.html", roles: "any" },
];

/** The pages the current account may open (for the header and home). */
export function pagesFor(user) {
  return PAGES.filter((p) => p.roles === null || (user && (p.roles === "any" || p.roles.includes(user.role))));
}

function paintHeader() {
  const h = document.getElementById("site-header");
  if (!h) return;
  const s = session();
  const user = s && s.user;
  const here = location.pathname;
  const nav = el("nav", { "aria-label": lang === "zh" ? "页面" : "Pages" },
    el("ul", {}, pagesFor(user).map((p) =>
      el("li", {}, el("a", { href: p.href, "aria-current": here === p.href ? "page" : null }, t(p.key))))));
  const large = document.documentElement.classList.contains("large");
  const tools = el("div", { class: "tools" },
    el("button", { type: "button", id: "lang-switch", lang: lang === "zh" ? "en" : "zh-CN",
      onclick: () => setLang(lang === "zh" ? "en" : "zh") }, t("switch_lang")),
    el("button", { type: "button", id: "large-switch", "aria-pressed": large ? "true" : "false",
      onclick: () => setLarge(!document.documentElement.classList.contains("large")) },
      large ? t("normal_text") : t("large_text")),
    user ? el("span", { class: "who", id: "who" }, (user.display_name || user.username) + " · " + t("role_" + user.role)) : null,
    user ? el("button", { type: "button", id: "logout", onclick: logout }, t("logout"))
      : el("a", { href: "/", class: "button" }, t("login")));
  h.replaceChildren(
    el("a", { href: "/", class: "brand" }, el("span", { "aria-hidden": "true" }, "邻"), t("brand")),
    nav, tools);
}

export async function logout() {
  try { await api("POST", "/api/v1/auth/logout"); } catch { /* gone already */ }
  clearSession();
  location.href = "/";
}

/** Sets up the common parts of a page: header, skip link, language. */
export function startPage() {
  if (!document.getElementById("site-header")) {
    const h = el("header", { id: "site-header", class: "site-header" });
    document.body.prepend(h);
  }
  if (!document.querySelector(".skip")) {
    document.body.prepend(el("a", { href: "#main", class: "skip" }, lang === "zh" ? "跳到正文" : "Skip to content"));
  }
  applyI18n();
  paintHeader();
}

// ---- formats ----

const TZ = "Asia/Shanghai";
/** A time from the API (RFC 3339) in Beijing time. */
export function fmtTime(iso, withDate = true) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const opts = withDate
    ? { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }
    : { timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false };
  return new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en-GB", opts).format(d);
}

/** Yuan as the API gives them (a number), e.g. "12.50 元" / "12.50 yuan". */
export function fmtMoney(yuan) {
  if (yuan === null || yuan === undefined) return "—";
  return Number(yuan).toFixed(2) + " " + t("yuan");
}

export function fmtNumber(n) {
  if (n === null || n === undefined) return "—";
  return new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en-GB").format(n);
}

/** A rate in 0..1 as a percentage with one decimal, or "—". */
export function fmtRate(r) {
  if (r === null || r === undefined) return "—";
  return (r * 100).toFixed(1) + "%";
}

// ---- maps ----

let mapInfo = null;
/** What /api/v1/map says (tiles, outline, bounds), fetched once. */
export async function mapConfig() {
  if (!mapInfo) mapInfo = await api("GET", "/api/v1/map", undefined, { anonymous: true });
  return mapInfo;
}

/** A Leaflet map in `div` showing the district outline and, when the
 * server names a tile source, the tiles. Needs /vendor/leaflet/leaflet.js. */
export async function districtMap(div, opts = {}) {
  const L = window.L;
  const cfg = await mapConfig();
  const map = L.map(div, { zoomSnap: 0.25, scrollWheelZoom: opts.scrollWheelZoom ?? false });
  if (cfg.tiles && cfg.tiles.url) {
    L.tileLayer(cfg.tiles.url, { maxZoom: cfg.tiles.max_zoom || 18, attribution: cfg.tiles.attribution || "" }).addTo(map);
  } else {
    div.classList.add("no-tiles");
    div.setAttribute("data-no-tiles", t("map_no_tiles"));
  }
  if (cfg.boundary) {
    const outline = L.geoJSON(cfg.boundary, { style: { color: "#0b5cad", weight: 2, fillOpacity: 0.04 } }).addTo(map);
    map.fitBounds(outline.getBounds(), { padding: [8, 8] });
  } else map.setView([39.92, 116.44], 12);
  return map;
}
