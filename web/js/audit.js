// audit.js - the audit log (审计日志), for auditors and admins: who did what,
// to what, when and from where, and every full read of personal data with
// its reason. The page only reads GET /api/v1/audit; the server decides what
// is valid and the page shows its reasons by the fields they are about.
import {
  addStrings, announce, api, apiAll, ApiError, currentLang, el, onLangChange, requireLogin, showError, startPage, t,
} from "./linli.js";

addStrings({
  zh: {
    aud_title: "审计日志 · 邻里", aud_heading: "审计日志",
    aud_intro: "每一次修改、每一次查看完整个人信息都记在这里，不能更改，不能删除。",
    h_filters: "查询条件", h_results: "记录", f_what: "记录类别", f_action: "或者输入动作名",
    action_hint: "例如 user.create，或以“.”结尾的前缀如 case.；填了就不看上面的类别。",
    f_from: "从哪天（北京时间）", f_to: "到哪天（含当天）", f_user: "账号（用户编号或用户名）",
    user_hint_ids: "填用户编号（数字）。", user_hint_names: "填用户编号（数字），或从列表中选一个用户名。",
    clear: "清除条件", col_time: "时间", col_user: "账号", col_action: "动作", col_object: "对象",
    col_detail: "详情", col_address: "地址", col_request: "请求编号", col_at: "时间（RFC 3339）",
    col_user_id: "用户编号", col_username: "用户名", col_action_code: "动作名",
    empty: "没有符合条件的记录。", more: "加载更多", export: "导出 CSV（已显示的记录）",
    count_more: "已显示 {n} 条，还有更早的记录。", count_all: "共 {n} 条。", count_none: "0 条。",
    exported: "已导出 {n} 条记录。", system: "系统", field_error: "请看表单中标出的问题。",
    err_action: "动作名只能有小写字母、“_”和“.”，最长 64 个字符，例如 user.create 或 case.。",
    err_range: "结束日期早于开始日期。", err_date: "请填一个完整的日期。",
    err_user_id: "用户编号须是正整数。", err_user_name: "请填用户编号，或列表中已有的用户名。",
    what_all: "全部", what_reveal: "个人信息查看", what_auth: "登录与会话", what_user: "账号",
    what_person: "居民档案", what_case: "诉求", what_case_category: "诉求类别", what_case_route: "派单规则",
    what_call: "呼叫", what_task: "主动关怀任务", what_care_plan: "照护计划", what_device: "呼叫设备",
    what_facility: "设施", what_service: "服务", what_station: "社工站", what_unit: "处置单位",
    what_volunteer_team: "志愿队", what_support_team: "支援团队", what_subscription: "订阅", what_area: "区划",
  },
  en: {
    aud_title: "Audit log · Linli", aud_heading: "Audit log",
    aud_intro: "Every change, and every full read of personal data, is kept here; nothing here can be changed or deleted.",
    h_filters: "Filters", h_results: "Entries", f_what: "Kind of entry", f_action: "Or type an action name",
    action_hint: "Such as user.create, or a prefix ending in '.', such as case. (it takes the place of the kind above).",
    f_from: "From (Beijing time)", f_to: "To (that day included)", f_user: "Account (user id or username)",
    user_hint_ids: "A user id (a number).", user_hint_names: "A user id (a number), or a username from the list.",
    clear: "Clear", col_time: "Time", col_user: "Account", col_action: "Action", col_object: "Object",
    col_detail: "Detail", col_address: "Address", col_request: "Request id", col_at: "Time (RFC 3339)",
    col_user_id: "User id", col_username: "Username", col_action_code: "Action name",
    empty: "No entries match.", more: "Load more", export: "Export CSV (the entries shown)",
    count_more: "{n} shown; there are older entries.", count_all: "{n} in all.", count_none: "0 entries.",
    exported: "{n} entries exported.", system: "System", field_error: "See the problems marked in the form.",
    err_action: "An action name holds lower-case letters, '_' and '.', at most 64 characters: user.create or case. for example.",
    err_range: "The end date is before the start date.", err_date: "Enter a whole date.",
    err_user_id: "A user id is a whole number above 0.", err_user_name: "Enter a user id, or a username from the list.",
    what_all: "All", what_reveal: "Personal data read", what_auth: "Logins and sessions", what_user: "Accounts",
    what_person: "People's records", what_case: "Cases", what_case_category: "Case categories", what_case_route: "Case routing",
    what_call: "Calls", what_task: "Proactive care tasks", what_care_plan: "Care plans", what_device: "Call devices",
    what_facility: "Facilities", what_service: "Services", what_station: "Social-work stations", what_unit: "Case units",
    what_volunteer_team: "Volunteer teams", what_support_team: "Support teams", what_subscription: "Subscriptions",
    what_area: "Areas",
  },
});

// The kinds offered in the select: an exact action or a prefix ending in '.'.
const WHAT = [
  ["", "what_all"], ["person.reveal", "what_reveal"], ["auth.", "what_auth"], ["user.", "what_user"],
  ["person.", "what_person"], ["case.", "what_case"], ["case_category.", "what_case_category"],
  ["case_route.", "what_case_route"], ["call.", "what_call"], ["task.", "what_task"],
  ["care_plan.", "what_care_plan"], ["device.", "what_device"], ["facility.", "what_facility"],
  ["service.", "what_service"], ["station.", "what_station"], ["unit.", "what_unit"],
  ["volunteer_team.", "what_volunteer_team"], ["support_team.", "what_support_team"],
  ["subscription.", "what_subscription"], ["area.", "what_area"],
];

// Readable names of the actions the server records.
const ACTIONS = {
  "auth.login": ["登录", "Logged in"], "auth.logout": ["退出登录", "Logged out"],
  "user.create": ["新建账号", "Account created"], "user.update": ["修改账号", "Account changed"],
  "user.password_change": ["修改自己的密码", "Own password changed"],
  "person.reveal": ["查看完整个人信息", "Personal data read in full"],
  "person.create": ["新建居民档案", "Person added"], "person.update": ["修改居民档案", "Person changed"],
  "person.import": ["导入居民档案", "People imported"],
  "case.create": ["新建诉求", "Case opened"], "case.transition": ["诉求流转", "Case step"],
  "case.escalate": ["诉求升级", "Case escalated"], "case.rate": ["评价诉求", "Case rated"],
  "case.note": ["诉求备注", "Case note"], "case.photo": ["诉求照片", "Case photo"],
  "case.whistle": ["吹哨", "Whistle"], "case.report_in": ["报到", "Report-in"],
  "case.export": ["导出诉求", "Cases exported"], "person.export": ["导出居民档案", "People exported"],
  "facility.create": ["新建设施", "Facility added"], "facility.update": ["修改设施", "Facility changed"],
  "station.create": ["新建社工站", "Station added"], "station.update": ["修改社工站", "Station changed"],
  "support_team.create": ["新建支援团队", "Support team added"],
  "support_team.update": ["修改支援团队", "Support team changed"],
  "support_team.assign": ["调整支援社区", "Support team communities changed"],
  "subscription.create": ["新建订阅", "Subscription added"], "subscription.end": ["结束订阅", "Subscription ended"], "case.settings": ["修改诉求设置", "Case settings changed"],
  "case_category.create": ["新建诉求类别", "Case category added"],
  "case_category.update": ["修改诉求类别", "Case category changed"],
  "case_route.create": ["新建派单规则", "Routing rule added"], "case_route.retire": ["停用派单规则", "Routing rule retired"],
  "call.answer": ["接听呼叫", "Call answered"], "call.classify": ["呼叫分类", "Call classified"],
  "call.action": ["呼叫处置", "Call action"], "call.action_update": ["更新呼叫处置", "Call action updated"],
  "call.close": ["结束呼叫", "Call closed"],
  "task.claim": ["认领任务", "Task claimed"], "task.finish": ["完成任务", "Task finished"],
  "task.cancel": ["取消任务", "Task cancelled"],
  "care_plan.create": ["新建照护计划", "Care plan added"], "care_plan.update": ["修改照护计划", "Care plan changed"],
  "care_plan.import": ["导入照护计划", "Care plans imported"],
  "device.create": ["登记呼叫设备", "Device registered"], "device.rotate_secret": ["更换设备密钥", "Device key replaced"],
  "facility.import": ["导入设施", "Facilities imported"], "service.create": ["新建服务", "Service added"],
  "station.import": ["导入社工站", "Stations imported"],
  "unit.create": ["新建处置单位", "Case unit added"], "unit.member_add": ["加入单位成员", "Unit member added"],
  "unit.member_remove": ["移出单位成员", "Unit member removed"],
  "volunteer_team.create": ["新建志愿队", "Volunteer team added"],
  "volunteer_team.member_add": ["加入志愿队员", "Volunteer added to a team"],
  "volunteer_team.member_remove": ["移出志愿队员", "Volunteer removed from a team"],
  "area.import": ["导入区划", "Areas imported"], "area.split": ["拆分社区", "Community split"],
  "area.counts": ["更新户数人数", "Area counts updated"],
};

const PAGE = 50;
const ACTION_RE = /^[a-z_]+(\.[a-z_]*)*$/;
const $ = (id) => document.getElementById(id);
const state = { query: null, entries: [], next: null, seq: 0, users: null, loaded: false };

/** The readable name of an action in the current language, or null. */
function actionLabel(action) {
  const l = ACTIONS[action];
  return l ? l[currentLang() === "en" ? 1 : 0] : null;
}

const SECONDS = new Map();
/** An RFC 3339 time from the API in Beijing time, to the second. */
function fmtSecond(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const lang = currentLang();
  if (!SECONDS.has(lang)) {
    SECONDS.set(lang, new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en-GB", {
      timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
    }));
  }
  return SECONDS.get(lang).format(d);
}

/** One value of a detail as short text: lists joined with ", ", nested
 * objects as compact JSON, null as "—". */
function valueText(v) {
  if (v === null || v === undefined) return "—";
  if (Array.isArray(v)) return v.map(valueText).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** An entry's detail as readable text, "key: value; key: value" (always
 * put into the page as text). */
function detailText(d) {
  if (d === null || d === undefined) return "";
  if (typeof d !== "object" || Array.isArray(d)) return valueText(d);
  return Object.entries(d).map(([k, v]) => k + ": " + valueText(v)).join("; ");
}

/** "2026-12-07" plus `days` days, as a date of the same form. */
function addDays(date, days) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

// ---- field errors ----

function clearErrors() {
  document.querySelectorAll('#filters [id$="-error"]').forEach((p) => { p.hidden = true; p.textContent = ""; });
  document.querySelectorAll("#filters [aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
}

/** Puts message by the field f-<name>; false when there is no such field. */
function fieldError(name, message) {
  const box = $(`f-${name}-error`);
  if (!box) return false;
  box.textContent = message;
  box.hidden = false;
  const input = $(`f-${name}`);
  if (input) input.setAttribute("aria-invalid", "true");
  return true;
}

function focusFirstInvalid() {
  const first = document.querySelector('#filters [aria-invalid="true"]');
  if (first) first.focus();
}

/** The query the form asks for ({action, user_id, since, until}, each
 * possibly absent), or null after marking each bad field by its field. */
function readForm() {
  clearErrors();
  $("f-error").hidden = true;
  const q = {};
  let bad = false;
  const typed = $("f-action").value.trim();
  if (typed) {
    if (typed.length > 64 || !ACTION_RE.test(typed)) { fieldError("action", t("err_action")); bad = true; }
    else q.action = typed;
  } else if ($("f-what").value) q.action = $("f-what").value;
  const from = $("f-from"), to = $("f-to");
  // A date input holds "" both when empty and when half typed.
  if (from.validity.badInput) { fieldError("from", t("err_date")); bad = true; }
  if (to.validity.badInput) { fieldError("to", t("err_date")); bad = true; }
  if (from.value) q.since = from.value + "T00:00:00+08:00";
  if (to.value) q.until = addDays(to.value, 1) + "T00:00:00+08:00";
  if (from.value && to.value && to.value < from.value) { fieldError("to", t("err_range")); bad = true; }
  const who = $("f-user").value.trim();
  if (who) {
    const known = state.users && state.users.find((u) => u.username === who);
    if (/^[0-9]+$/.test(who) && Number(who) > 0 && Number.isSafeInteger(Number(who))) q.user_id = String(Number(who));
    else if (known) q.user_id = String(known.id);
    else { fieldError("user", t(state.users ? "err_user_name" : "err_user_id")); bad = true; }
  }
  if (bad) {
    $("f-error").textContent = t("field_error");
    $("f-error").hidden = false;
    focusFirstInvalid();
    return null;
  }
  return q;
}

/** Shows a refusal: each field's message by its field (the server's names:
 * action, user_id, since, until), the rest in the form's box. */
function showServerError(e) {
  const box = $("f-error");
  if (!(e instanceof ApiError)) { showError(e, box); return; }
  const where = { action: $("f-action").value.trim() ? "action" : "what", user_id: "user", since: "from", until: "to" };
  const rest = [];
  let placed = 0;
  for (const f of e.errors) {
    if (f.field && where[f.field] && fieldError(where[f.field], f.message)) placed++;
    else rest.push((f.field ? f.field + ": " : "") + f.message);
  }
  box.textContent = e.status === 0 || (e.status === 403 && !e.problem.detail) ? e.explain()
    : [e.message, ...rest].join(" ") + (placed ? " " + t("field_error") : "");
  box.hidden = false;
  focusFirstInvalid();
}

// ---- the entries ----

function entryRow(e) {
  const label = actionLabel(e.action);
  const td = (key, attrs, ...kids) => el("td", Object.assign({ "data-label": t(key) }, attrs), ...kids);
  return el("tr", { "data-id": e.id, "data-action": e.action },
    td("col_time", { class: "when" }, el("time", { datetime: e.at }, fmtSecond(e.at))),
    td("col_user", { "data-user-id": e.user_id ?? "" }, e.user_id === null || e.user_id === undefined
      ? el("span", { class: "muted" }, t("system"))
      : [e.username || "—", " ", el("span", { class: "small muted" }, "#" + e.user_id)]),
    td("col_action", {}, label ? [label, el("br"), el("code", { class: "small" }, e.action)] : el("code", {}, e.action)),
    td("col_object", { class: "object" }, e.object || "—"),
    td("col_detail", { class: "detail" }, detailText(e.detail) || "—"),
    td("col_address", { class: "address" }, e.ip || "—",
      e.request_id ? [el("br"), el("span", { class: "small muted" }, t("col_request") + " " + e.request_id)] : null));
}

function paintEntries() {
  const n = state.entries.length;
  $("entries-body").replaceChildren(...state.entries.map(entryRow));
  $("entries").hidden = n === 0;
  $("empty").hidden = n !== 0 || !state.query;
  $("more").hidden = !state.next;
  $("export").hidden = n === 0;
  $("count").textContent = !state.query ? "" : n === 0 ? t("count_none")
    : t(state.next ? "count_more" : "count_all", { n });
}

/** Reads the first page of state.query, or (more) the next page after the
 * entries shown. Only the latest read is drawn; the results region is
 * aria-busy until it is. */
async function load(more = false) {
  const my = ++state.seq;
  const results = $("results");
  results.setAttribute("aria-busy", "true");
  $("more").disabled = true;
  const q = new URLSearchParams({ limit: String(PAGE) });
  for (const [k, v] of Object.entries(state.query)) q.set(k, v);
  if (more && state.next) q.set("cursor", state.next);
  try {
    const page = await api("GET", "/api/v1/audit?" + q);
    if (my !== state.seq) return;
    $("list-error").hidden = true;
    state.entries = more ? state.entries.concat(page.items) : page.items;
    state.next = page.next_cursor;
    paintEntries();
    if (more) {
      const first = document.querySelector(`#entries-body tr:nth-child(${state.entries.length - page.items.length + 1}) td`);
      if (first) { first.tabIndex = -1; first.focus(); }
    }
  } catch (e) {
    if (my !== state.seq) return;
    if (e instanceof ApiError && e.status === 422) showServerError(e);
    else showError(e, $("list-error"));
  } finally {
    if (my === state.seq) {
      $("more").disabled = false;
      results.setAttribute("aria-busy", "false");
    }
  }
}

async function onSearch(ev) {
  ev.preventDefault();
  const q = readForm();
  if (!q) return;
  state.query = q;
  state.next = null;
  await load(false);
}

function onClear() {
  $("filters").reset();
  clearErrors();
  $("f-error").hidden = true;
  state.query = {};
  state.next = null;
  load(false);
}

// ---- CSV ----

/** One CSV cell: quoted when needed, and a text a spreadsheet would take
 * for a formula (= + - @, tab, CR first) led by a single quote. */
function csvCell(v) {
  let s = v === null || v === undefined ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) || s.startsWith("'") ? '"' + s.replaceAll('"', '""') + '"' : s;
}

/** Downloads the entries shown as CSV, UTF-8 with a byte order mark so
 * spreadsheets read the Chinese right. */
function exportCsv() {
  const head = ["col_time", "col_at", "col_user_id", "col_username", "col_action_code", "col_action", "col_object",
    "col_detail", "col_address", "col_request"].map(t);
  const lines = [head, ...state.entries.map((e) => [fmtSecond(e.at), e.at, e.user_id ?? "", e.username ?? "", e.action,
    actionLabel(e.action) ?? "", e.object ?? "", detailText(e.detail), e.ip ?? "", e.request_id ?? ""])];
  const text = "\ufeff" + lines.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = el("a", { href: url, download: "audit-" + new Date().toISOString().slice(0, 10) + ".csv", hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
  announce(t("exported", { n: state.entries.length }), "ok");
}

// ---- the page ----

function fillWhat() {
  const keep = $("f-what").value;
  $("f-what").replaceChildren(...WHAT.map(([v, key]) => el("option", { value: v }, t(key) + (v ? " (" + v + ")" : ""))));
  $("f-what").value = keep;
}

/** The usernames offered in the account field, when the caller may list
 * accounts; without them the field takes ids alone. */
async function loadUsers() {
  try {
    state.users = await apiAll("/api/v1/users?limit=500", 5000);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403) throw e;
    state.users = null;
  }
  $("usernames").replaceChildren(...(state.users || []).map((u) =>
    el("option", { value: u.username }, (u.display_name || u.username) + " #" + u.id)));
  $("f-user-hint").dataset.i18n = state.users ? "user_hint_names" : "user_hint_ids";
  $("f-user-hint").textContent = t($("f-user-hint").dataset.i18n);
}

function paintAll() {
  fillWhat();
  paintEntries();
}

async function main() {
  startPage();
  await requireLogin(["admin", "auditor"]);
  fillWhat();
  $("filters").addEventListener("submit", onSearch);
  $("f-clear").addEventListener("click", onClear);
  $("more").addEventListener("click", () => load(true));
  $("export").addEventListener("click", exportCsv);
  onLangChange(paintAll);
  try {
    await loadUsers();
  } catch (e) {
    showError(e, $("list-error"));
  }
  state.query = {};
  await load(false);
  $("aud-loading").hidden = true;
  document.body.dataset.loaded = "true";
}

main().catch((e) => showError(e, $("aud-loading")));
