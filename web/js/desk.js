// desk.js - the case desk (接诉即办工作台): the cases of the account's
// units in the server's deadline order (sort=due), page by page, the same
// cases on a map, and one case's facts, history and the workflow steps this
// account may take on it.
//
// What the page offers is worked out from the case's state and the units
// the account acts for (GET /api/v1/me), the way the server's rules read
// (docs/api.md, Cases); the server still decides, and its refusal is shown
// as it gives it.
import {
  addStrings, api, announce, ApiError, districtMap, el, fmtTime, onLangChange, photoURL, pick,
  requireLogin, startPage, stream, t,
} from "./linli.js";

addStrings({
  zh: {
    desk_title: "接诉即办工作台 · 邻里", desk_heading: "接诉即办工作台", list_heading: "案件",
    f_view: "范围", view_mine: "本单位承办", view_all: "全部可见", f_state: "状态",
    f_category: "类别", f_q: "搜索标题、描述、地址或编号", f_overdue: "只看已超期", all_states: "全部状态",
    open_states: "未结案", all_categories: "全部类别",
    col_number: "编号", col_category: "类别", col_title: "标题",
    col_area: "社区", col_state: "状态", col_deadline: "时限", col_unit: "承办单位",
    list_empty: "没有符合条件的案件。", map_heading: "案件地图", map_label: "案件地图：与列表中的案件相同",
    legend_label: "图例", summary: "共 {n} 件，已超期 {over} 件，即将到期 {soon} 件。",
    summary_more: "已列出 {n} 件，还有更多；其中已超期 {over} 件，即将到期 {soon} 件。",
    order_due: "按待办时限排列，最紧急的在前；待反映人确认和已终结的案件在后，最新的在前。",
    order_newest: "最新的在前。", list_more: "加载更多",
    caption_due: "案件列表，按待办时限排列，最紧急的在前", caption_newest: "案件列表，最新的在前",
    map_missing: "{n} 件没有位置，未在地图上标出。",
    map_same: "地图上的案件与列表相同，点击标记可打开案件。",
    live_connecting: "实时更新：正在连接…", live_open: "实时更新：已连接", live_closed: "实时更新：已断开，正在重连…",
    live_new: "新案件 {number} 已加入列表。", live_changed: "案件 {number} 有新进展。",
    urg_over: "已超期", urg_soon: "即将到期", urg_ok: "未到期", urg_none: "无待办时限",
    over_by: "超期 {d}", due_in: "剩余 {d}", d_min: "{n} 分钟", d_hour: "{n} 小时", d_day: "{n} 天",
    due_response: "受理时限", due_resolve: "办结时限", escalated_to: "已升级至 {unit}",
    st_submitted: "待受理", st_accepted: "已受理", st_dispatched: "已派遣", st_in_progress: "处理中",
    st_resolved: "已办结（待确认）", st_closed: "已结案", st_rejected: "已驳回", st_duplicate: "重复件",
    ch_snap: "随手拍", ch_hotline: "热线", ch_walk_in: "来访", ch_enterprise: "企业诉求",
    ch_deliberation: "议事厅", ch_open311: "Open311",
    pr_low: "低", pr_normal: "普通", pr_high: "高", pr_urgent: "紧急",
    ev_submitted: "提交", ev_accepted: "受理", ev_dispatched: "派遣", ev_in_progress: "开始处理",
    ev_resolved: "办结", ev_closed: "结案", ev_rejected: "驳回", ev_duplicate: "标记为重复",
    ev_reopened: "重新打开", ev_note: "备注", ev_photo: "照片", ev_whistle: "吹哨",
    ev_report_in: "报到", ev_report_in_overdue: "报到超时", ev_due_soon: "即将到期",
    ev_overdue: "已超期", ev_escalated: "升级", ev_rated: "评价",
    by_system: "系统", internal: "内部", detail_heading: "案件 {number}", close_detail: "关闭案件",
    facts: "基本情况", f_number: "编号", f_category_l: "类别", f_channel: "来源", f_priority: "紧急程度",
    f_created: "提交时间", f_area: "社区", f_address: "地址", f_point: "位置", f_reporter: "反映人",
    reporter_hidden: "未公开", f_lead: "承办单位", f_co: "协办单位", f_summoned: "吹哨召集",
    f_response_due: "受理时限", f_resolve_due: "办结时限", f_accepted: "受理时间", f_resolved: "办结时间",
    f_closed: "结案时间", f_reason: "驳回理由", f_duplicate_of: "重复于", f_rating: "评价",
    area_guessed: "（按位置推断）", description: "描述", no_description: "（无描述）", photos: "照片",
    photo_alt: "案件 {number} 的照片 {i}", photo_failed: "照片无法加载", timeline: "办理经过",
    actions_heading: "办理", no_actions: "当前状态下，您的账号在此案件上没有可办理的步骤。",
    auditor_readonly: "审计账号只能查看。",
    reported_in_at: "已报到 {time}", report_due: "应于 {time} 前报到", report_late: "超时",
    rating_satisfied: "满意", rating_basically_satisfied: "基本满意", rating_unsatisfied: "不满意",
    act_accept: "受理", act_dispatch: "派遣", act_start: "开始处理", act_resolve: "办结", act_reject: "驳回",
    act_duplicate: "重复", act_note: "添加备注", act_whistle: "吹哨", act_report_in: "报到",
    done_accept: "案件 {number} 已受理。", done_dispatch: "案件 {number} 已派遣。",
    done_start: "案件 {number} 开始处理。", done_resolve: "案件 {number} 已办结，等待反映人确认。",
    done_reject: "案件 {number} 已驳回。", done_duplicate: "案件 {number} 已标记为重复。",
    done_note: "备注已添加。", done_whistle: "已吹哨召集 {n} 个单位。", done_report_in: "已报到。",
    photo_upload_failed: "案件已办结，但照片没有上传成功：{msg}",
    note_label: "备注", note_public: "公开（反映人可见）", note_required: "请填写备注内容。",
    dlg_dispatch: "派遣案件 {number}", dlg_resolve: "办结案件 {number}", dlg_reject: "驳回案件 {number}",
    dlg_duplicate: "将案件 {number} 标记为重复", dlg_whistle: "吹哨：召集单位到案件 {number}",
    dlg_report_in: "报到：案件 {number}",
    ok_dispatch: "确认派遣", ok_resolve: "确认办结", ok_reject: "确认驳回", ok_duplicate: "确认标记重复",
    ok_whistle: "确认吹哨", ok_report_in: "确认报到",
    warn_final: "此步骤不能撤回：案件将终结。", warn_resolve: "办结后由反映人确认或重新打开，不能撤回。",
    lead_keep: "不变（{unit}）", d_lead: "承办单位", d_co: "协办单位（可多选）", d_note_opt: "说明（可选，反映人可见）",
    d_resolution: "办结说明（必填，反映人可见）", d_photo: "办结照片（可选）", d_reason: "驳回理由（必填）",
    d_dup_number: "原案件编号", d_dup_nearby: "附近同类未结案件", d_dup_none: "附近没有同类未结案件。",
    d_dup_pick: "选用", dup_not_found: "找不到编号为 {number} 的案件，或您无权查看它。",
    dup_number_bad: "请填写 13 位案件编号。",
    d_departments: "区级部门", d_communities: "本街道社区", d_whistle_note: "情况说明（可选，内部）",
    d_summoned_already: "（已召集）", whistle_pick: "请至少选择一个单位。",
    d_report_unit: "代表单位", d_report_note: "到场情况（可选，内部）",
    report_in_due: "召集单位应在 {time} 前报到。",
    not_found: "找不到这个案件，或您无权查看它。", loading_case: "正在加载案件…",
    pending_report_in: "本单位被召集到此案件，请报到。",
  },
  en: {
    desk_title: "Case desk · Linli", desk_heading: "Case desk", list_heading: "Cases",
    f_view: "Show", view_mine: "Handled by my unit", view_all: "All I can see", f_state: "State",
    f_category: "Category", f_q: "Search title, description, address or number", f_overdue: "Overdue only",
    all_states: "All states", open_states: "Not closed", all_categories: "All categories",
    col_number: "Number", col_category: "Category", col_title: "Title",
    col_area: "Community", col_state: "State", col_deadline: "Deadline", col_unit: "Lead unit",
    list_empty: "No case matches.", map_heading: "Map of the cases", map_label: "Map of the cases: the same as the list",
    legend_label: "Legend", summary: "{n} cases: {over} overdue, {soon} due soon.",
    summary_more: "{n} cases listed, more to load: {over} overdue, {soon} due soon.",
    order_due: "By pending deadline, most urgent first; cases awaiting the reporter and final ones after, newest first.",
    order_newest: "Newest first.", list_more: "Load more",
    caption_due: "Cases by pending deadline, most urgent first", caption_newest: "Cases, newest first",
    map_missing: "{n} without a location are not on the map.",
    map_same: "The map shows the cases of the list; select a marker to open its case.",
    live_connecting: "Live updates: connecting…", live_open: "Live updates: on", live_closed: "Live updates: disconnected, reconnecting…",
    live_new: "New case {number} added to the list.", live_changed: "Case {number} has news.",
    urg_over: "Overdue", urg_soon: "Due soon", urg_ok: "Not yet due", urg_none: "No pending deadline",
    over_by: "overdue by {d}", due_in: "due in {d}", d_min: "{n} min", d_hour: "{n} h", d_day: "{n} d",
    due_response: "Accept by", due_resolve: "Resolve by", escalated_to: "escalated to {unit}",
    st_submitted: "Submitted", st_accepted: "Accepted", st_dispatched: "Dispatched", st_in_progress: "In progress",
    st_resolved: "Resolved (awaiting reporter)", st_closed: "Closed", st_rejected: "Rejected", st_duplicate: "Duplicate",
    ch_snap: "Snap and report", ch_hotline: "Hotline", ch_walk_in: "Walk-in", ch_enterprise: "Enterprise",
    ch_deliberation: "Deliberation hall", ch_open311: "Open311",
    pr_low: "Low", pr_normal: "Normal", pr_high: "High", pr_urgent: "Urgent",
    ev_submitted: "Submitted", ev_accepted: "Accepted", ev_dispatched: "Dispatched", ev_in_progress: "Started",
    ev_resolved: "Resolved", ev_closed: "Closed", ev_rejected: "Rejected", ev_duplicate: "Marked duplicate",
    ev_reopened: "Reopened", ev_note: "Note", ev_photo: "Photo", ev_whistle: "Whistle",
    ev_report_in: "Reported in", ev_report_in_overdue: "Report-in late", ev_due_soon: "Due soon",
    ev_overdue: "Overdue", ev_escalated: "Escalated", ev_rated: "Rated",
    by_system: "System", internal: "Internal", detail_heading: "Case {number}", close_detail: "Close case",
    facts: "Facts", f_number: "Number", f_category_l: "Category", f_channel: "Channel", f_priority: "Priority",
    f_created: "Submitted", f_area: "Community", f_address: "Address", f_point: "Location", f_reporter: "Reporter",
    reporter_hidden: "Not public", f_lead: "Lead unit", f_co: "Co-handlers", f_summoned: "Summoned (whistle)",
    f_response_due: "Accept by", f_resolve_due: "Resolve by", f_accepted: "Accepted", f_resolved: "Resolved",
    f_closed: "Closed", f_reason: "Reason for rejecting", f_duplicate_of: "Duplicate of", f_rating: "Rating",
    area_guessed: " (guessed from the location)", description: "Description", no_description: "(no description)",
    photos: "Photos", photo_alt: "Photo {i} of case {number}", photo_failed: "The photo cannot be loaded",
    timeline: "History", actions_heading: "Handling",
    no_actions: "In this state your account has no step to take on this case.",
    auditor_readonly: "Auditor accounts read only.",
    reported_in_at: "reported in {time}", report_due: "report in by {time}", report_late: "late",
    rating_satisfied: "Satisfied", rating_basically_satisfied: "Basically satisfied", rating_unsatisfied: "Unsatisfied",
    act_accept: "Accept", act_dispatch: "Dispatch", act_start: "Start", act_resolve: "Resolve", act_reject: "Reject",
    act_duplicate: "Duplicate", act_note: "Add note", act_whistle: "Whistle", act_report_in: "Report in",
    done_accept: "Case {number} accepted.", done_dispatch: "Case {number} dispatched.",
    done_start: "Work on case {number} started.", done_resolve: "Case {number} resolved; the reporter is asked to confirm.",
    done_reject: "Case {number} rejected.", done_duplicate: "Case {number} marked as a duplicate.",
    done_note: "Note added.", done_whistle: "{n} units summoned.", done_report_in: "Reported in.",
    photo_upload_failed: "The case is resolved, but the photo was not uploaded: {msg}",
    note_label: "Note", note_public: "Public (the reporter sees it)", note_required: "Write the note first.",
    dlg_dispatch: "Dispatch case {number}", dlg_resolve: "Resolve case {number}", dlg_reject: "Reject case {number}",
    dlg_duplicate: "Mark case {number} as a duplicate", dlg_whistle: "Whistle: summon units to case {number}",
    dlg_report_in: "Report in: case {number}",
    ok_dispatch: "Confirm dispatch", ok_resolve: "Confirm resolution", ok_reject: "Confirm rejection",
    ok_duplicate: "Confirm duplicate", ok_whistle: "Blow the whistle", ok_report_in: "Confirm report-in",
    warn_final: "This cannot be undone: the case will be final.",
    warn_resolve: "Once resolved, the reporter confirms or reopens it; it cannot be undone.",
    lead_keep: "Unchanged ({unit})", d_lead: "Lead unit", d_co: "Co-handling units (any number)",
    d_note_opt: "Note (optional, the reporter sees it)", d_resolution: "How it was resolved (required; the reporter sees it)",
    d_photo: "Photo of the result (optional)", d_reason: "Reason (required)",
    d_dup_number: "Number of the original case", d_dup_nearby: "Open cases of this category nearby",
    d_dup_none: "No open case of this category nearby.", d_dup_pick: "Use",
    dup_not_found: "There is no case numbered {number}, or you may not see it.",
    dup_number_bad: "Enter a case number of 13 digits.",
    d_departments: "District departments", d_communities: "Communities of the street",
    d_whistle_note: "Situation (optional, internal)", d_summoned_already: " (summoned already)",
    whistle_pick: "Choose at least one unit.", d_report_unit: "Reporting for", d_report_note: "On site (optional, internal)",
    report_in_due: "Summoned units report in by {time}.",
    not_found: "This case does not exist, or you may not see it.", loading_case: "Loading the case…",
    pending_report_in: "Your unit was summoned onto this case: please report in.",
  },
});

// ---- state ----

const FINAL = new Set(["closed", "rejected", "duplicate"]);
const STATES = ["submitted", "accepted", "dispatched", "in_progress", "resolved", "closed", "rejected", "duplicate"];
const PAGE = 50;             // cases a page of the list ("load more" adds as many)
const SOON_MS = 2 * 3600e3;  // "due soon" when less than this remains (the server's window at most)

let me = null;               // the account with the units it acts for (GET /api/v1/me)
let units = new Map();       // code -> unit (departments and areas), for names
let categories = new Map();  // code -> category
let cases = [];              // the list as loaded, in the server's order
let pager = null;            // where the list goes on ("load more")
let listOrder = "due";       // "due" or "newest": the order of the list's first part
let current = null;          // the case open in the detail
let map = null, markers = null, mapFitted = false;
let recentlyActed = new Map(); // case id -> time of our own action (not announced again)

const $ = (id) => document.getElementById(id);

// ---- who acts for what: the server says (GET /api/v1/me, units) ----

function actsFor(unit) {
  if (!unit || !me) return false;
  if (me.all_units) return true;
  return (me.units || []).some((u) => u.code === unit);
}

/** The codes of the units the account acts for (none for admins: all). */
function myUnits() {
  if (!me || me.all_units) return [];
  return (me.units || []).map((u) => u.code);
}

/** Whether the account acts for a unit other than its own area (a
 * department, say): then its own cases are what it looks at first. */
function hasMemberships() {
  return myUnits().some((code) => code !== me.scope);
}

function areaLevel(code) {
  if (!/^\d{12}$/.test(code || "")) return -1;
  if (code.endsWith("000000")) return 0;
  if (code.endsWith("000")) return 1;
  return 2;
}
const streetOf = (code) => (areaLevel(code) === 2 ? code.slice(0, 9) + "000" : areaLevel(code) === 1 ? code : "");
const districtOf = (code) => (areaLevel(code) >= 0 ? code.slice(0, 6) + "000000" : "");

/** The unit through which the account handles the case, or null. */
function handlerUnit(c) {
  if (actsFor(c.unit_code)) return c.unit_code;
  if (c.escalated_to && actsFor(c.escalated_to)) return c.escalated_to;
  return null;
}

function mayWhistle(c) {
  if (!me || FINAL.has(c.state) || c.state === "resolved") return false;
  if (me.role === "admin") return true;
  const street = streetOf(c.area_code || ""), district = districtOf(c.area_code || "");
  if ((street && actsFor(street)) || (district && actsFor(district))) return true;
  const h = handlerUnit(c);
  return !!h && areaLevel(h) >= 0 && areaLevel(h) < 2;
}

/** Summoned units this account acts for that have not reported in. */
function pendingReportIns(c) {
  return (c.units || []).filter((u) => u.link === "summoned" && !u.reported_at && actsFor(u.unit));
}

// ---- labels ----

function unitName(code) {
  if (!code) return "—";
  const u = units.get(code) || (me && (me.units || []).find((x) => x.code === code));
  // areas have Chinese names only: English shows those too
  return u ? pick(u, "name") || u.name_zh || code : code;
}
function categoryName(code) {
  const c = categories.get(code);
  return c ? pick(c, "name") || c.name_zh : code;
}
const stateBadgeClass = { submitted: "warn", accepted: "info", dispatched: "info", in_progress: "info",
  resolved: "ok", closed: "ok", rejected: "", duplicate: "" };
function stateBadge(state) {
  return el("span", { class: "badge state " + (stateBadgeClass[state] || ""), "data-state": state }, t("st_" + state));
}

function duration(ms) {
  const m = Math.max(1, Math.round(Math.abs(ms) / 60000));
  if (m < 60) return t("d_min", { n: m });
  const h = Math.round(m / 60);
  if (h < 48) return t("d_hour", { n: h });
  return t("d_day", { n: Math.round(h / 24) });
}

/** The deadline the case is waiting on now: {kind, due (ms), level}. */
function urgency(c, now = Date.now()) {
  let kind = null, iso = null, soonFlag = false, overFlag = false;
  if (c.state === "submitted") {
    kind = "response"; iso = c.response_due_at;
    soonFlag = c.flags && c.flags.response_due_soon; overFlag = c.flags && c.flags.response_overdue;
  } else if (["accepted", "dispatched", "in_progress"].includes(c.state)) {
    kind = "resolve"; iso = c.resolve_due_at;
    soonFlag = c.flags && c.flags.resolve_due_soon; overFlag = c.flags && c.flags.resolve_overdue;
  }
  if (!kind || !iso) return { kind: null, due: null, level: "none" };
  const due = Date.parse(iso);
  let level = "ok";
  if (due <= now || overFlag) level = "over";
  else if (soonFlag || due - now < SOON_MS) level = "soon";
  return { kind, due, level };
}

function deadlineCell(c) {
  const u = urgency(c);
  if (u.level === "none") return el("span", { class: "due due-none" }, t("urg_none"));
  const left = u.due - Date.now();
  const text = left <= 0 ? t("over_by", { d: duration(left) }) : t("due_in", { d: duration(left) });
  return el("span", { class: "due due-" + u.level },
    el("span", { class: "badge " + (u.level === "over" ? "bad" : u.level === "soon" ? "warn" : "") },
      t("urg_" + u.level)),
    " ", el("span", { class: "due-text" }, text),
    el("span", { class: "small muted due-abs" }, t(u.kind === "response" ? "due_response" : "due_resolve") + " " + fmtTime(u.due)));
}

// ---- the list ----

function filters() {
  return {
    view: $("view-box").hidden ? "all" : $("f-view").value,
    state: $("f-state").value,
    category: $("f-category").value,
    q: $("f-q").value.trim(),
    overdue: $("f-overdue").checked,
  };
}

/** The deadline the case waits on now, as the server sorts by it
 * (docs/api.md, "pending deadline"), in ms; null when it waits on none. */
function pendingDue(c) {
  if (c.state === "submitted") return Date.parse(c.response_due_at);
  if (["accepted", "dispatched", "in_progress"].includes(c.state)) return Date.parse(c.resolve_due_at || c.response_due_at);
  return null;
}

/* The list is read from the server in its own order and shown as it comes:
 * a part is one order (by deadline, or newest first) over one or more API
 * lists (one per unit of "my unit", one per final state), merged by that
 * order; the parts follow each other. Each API list is read a page at a
 * time, with its next_cursor, only as far as the rows shown need. */

const BY_DUE = (c) => [pendingDue(c), c.id];
const BY_NEWEST = (c) => [-c.id, 0];
function before(a, b) { return a[0] !== b[0] ? a[0] < b[0] : a[1] < b[1]; }

function apiList(path, params) {
  return { path, params, buf: [], cursor: null, done: false };
}

async function readPage(src) {
  const q = new URLSearchParams(src.params);
  q.set("limit", String(PAGE));
  if (src.cursor) q.set("cursor", src.cursor);
  const page = await api("GET", src.path + "?" + q.toString());
  src.buf.push(...(page.items || []));
  src.cursor = page.next_cursor || null;
  src.done = !src.cursor;
}

/** Takes up to n more cases from the pager, in order, each case once. */
async function take(p, n) {
  const out = [];
  let reads = 0;
  while (out.length < n && p.part < p.parts.length) {
    const part = p.parts[p.part];
    const empty = part.lists.filter((l) => !l.buf.length && !l.done);
    // A short search reads many pages for few hits: it stops for a "load more".
    if (empty.length && reads >= 20) break;
    if (empty.length) { reads++; await Promise.all(empty.map(readPage)); continue; }
    let best = null;
    for (const l of part.lists) if (l.buf.length && (!best || before(part.key(l.buf[0]), part.key(best.buf[0])))) best = l;
    if (!best) { p.part++; continue; }
    const c = best.buf.shift();
    if (p.seen.has(c.id) || (part.keep && !part.keep(c))) continue;
    p.seen.add(c.id);
    out.push(c);
  }
  return out;
}

function hasMore(p) {
  return p.part < p.parts.length && p.parts.slice(p.part).some((part) => part.lists.some((l) => l.buf.length || !l.done));
}

const DUE_STATES = ["submitted", "accepted", "dispatched", "in_progress"];
const AFTER_STATES = ["resolved", "closed", "rejected", "duplicate"];

/** The parts of the list for the filters: what to read, in which order. */
function makePager(f) {
  const base = {};
  if (f.category) base.category = f.category;
  const forUnits = (path, params) => (f.view === "mine" && myUnits().length ? myUnits() : [null])
    .map((u) => apiList(path, Object.assign({}, base, params, u ? { unit: u } : {})));
  const parts = [];
  if (f.q) {
    // The text search lists newest first and has no overdue filter: the
    // page keeps the overdue ones itself.
    const params = f.state ? { q: f.q, status: f.state } : { q: f.q };
    parts.push({ key: BY_NEWEST, lists: forUnits("/api/v1/cases/search", params),
      keep: f.overdue ? (c) => urgency(c).level === "over" : null });
    return { parts, part: 0, seen: new Set(), order: "newest" };
  }
  // First the cases waiting on a deadline, the nearest first.
  if (!f.state || f.state === "open" || DUE_STATES.includes(f.state)) {
    const params = { sort: "due" };
    if (f.state) params.status = f.state;
    if (f.overdue) params.overdue = "true";
    parts.push({ key: BY_DUE, lists: forUnits("/api/v1/cases", params) });
  }
  // Then (not when only the overdue are asked for) those waiting on none,
  // newest first: resolved ones for "not closed", every such state for all.
  if (!f.overdue) {
    const after = !f.state ? AFTER_STATES : f.state === "open" ? ["resolved"] : AFTER_STATES.includes(f.state) ? [f.state] : [];
    if (after.length) parts.push({ key: BY_NEWEST, lists: after.flatMap((st) => forUnits("/api/v1/cases", { status: st })) });
  }
  return { parts, part: 0, seen: new Set(), order: parts.length && parts[0].key === BY_DUE ? "due" : "newest" };
}

let listSeq = 0;
function listBusy(on) {
  $("list-summary").dataset.state = on ? "loading" : "ready";
  $("list-more").disabled = on;
}

/** Reads the list from its start: at least `atLeast` cases (a live update
 * keeps the rows "load more" brought). */
async function loadList(atLeast = PAGE) {
  const seq = ++listSeq;
  const f = filters();
  const err = $("list-error");
  listBusy(true);
  try {
    // A case number typed into the search box finds that case, exactly.
    if (/^\d{13}$/.test(f.q)) {
      const r = await api("GET", "/api/v1/cases?number=" + encodeURIComponent(f.q));
      if (seq !== listSeq) return;
      cases = r.items || [];
      pager = null;
      listOrder = "newest";
    } else {
      const p = makePager(f);
      const got = await take(p, Math.max(PAGE, Math.ceil(atLeast / PAGE) * PAGE));
      if (seq !== listSeq) return; // a newer load is under way
      cases = got;
      pager = p;
      listOrder = p.order;
    }
    err.hidden = true;
    renderList();
  } catch (e) {
    if (seq !== listSeq) return;
    showProblem(e, err);
  } finally {
    if (seq === listSeq) listBusy(false);
  }
}

async function loadMore() {
  if (!pager) return;
  const seq = listSeq, p = pager;
  const err = $("list-error");
  listBusy(true);
  try {
    const got = await take(p, PAGE);
    if (seq !== listSeq || p !== pager) return;
    const first = cases.length;
    cases = cases.concat(got);
    err.hidden = true;
    renderList();
    // The keyboard goes on where the new rows start.
    const link = document.querySelectorAll("#case-rows tr")[first];
    if (link && link.querySelector("a")) link.querySelector("a").focus();
  } catch (e) {
    if (seq === listSeq) showProblem(e, err);
  } finally {
    if (seq === listSeq) listBusy(false);
  }
}

function renderList() {
  const rows = cases.map((c) => ({ c, u: urgency(c) }));
  const more = !!pager && hasMore(pager);
  const over = rows.filter((r) => r.u.level === "over").length;
  const soon = rows.filter((r) => r.u.level === "soon").length;
  // In deadline order the overdue come first, then the due soon: a count is
  // whole once a later case is listed, or when nothing is left to load.
  const whole = (levels) => !more || (listOrder === "due" && rows.some((r) => !levels.includes(r.u.level)));
  const count = (n, levels) => String(n) + (whole(levels) ? "" : "+");
  const focusedNumber = document.activeElement && document.activeElement.closest &&
    document.activeElement.closest("[data-case-number]") ? document.activeElement.closest("[data-case-number]").dataset.caseNumber : null;
  const body = $("case-rows");
  body.replaceChildren(...rows.map(({ c }) => caseRow(c)));
  $("list-empty").hidden = rows.length > 0;
  $("list-more").hidden = !more;
  $("case-caption").textContent = t(listOrder === "due" ? "caption_due" : "caption_newest");
  $("list-summary").replaceChildren(t(more ? "summary_more" : "summary",
    { n: rows.length, over: count(over, ["over"]), soon: count(soon, ["over", "soon"]) }),
  rows.length > 1 ? el("span", { class: "order-note" }, " " + t(listOrder === "due" ? "order_due" : "order_newest")) : "");
  if (focusedNumber) {
    const link = body.querySelector(`[data-case-number="${CSS.escape(focusedNumber)}"] a`);
    if (link) link.focus();
  }
  drawMarkers(cases);
}

function caseRow(c) {
  const open = () => { location.hash = "case=" + c.id; };
  const lead = el("span", {}, unitName(c.unit_code));
  const row = el("tr", {
    "data-case-number": c.number, "data-case-id": c.id, tabindex: "-1",
    class: current && current.id === c.id ? "selected" : null,
    "aria-current": current && current.id === c.id ? "true" : null,
    onclick: (ev) => { if (!ev.target.closest("a")) open(); },
    onkeydown: (ev) => { if (ev.key === "Enter" && ev.target === row) { ev.preventDefault(); open(); } },
  },
  el("td", { class: "num-cell", "data-label": t("col_number") }, el("a", { href: "#case=" + c.id }, c.number)),
  el("td", { "data-label": t("col_category") }, categoryName(c.category)),
  el("td", { "data-label": t("col_title") }, c.title),
  el("td", { "data-label": t("col_area") }, c.area_code ? unitName(c.area_code) : "—"),
  el("td", { "data-label": t("col_state") }, stateBadge(c.state)),
  el("td", { "data-label": t("col_deadline") }, deadlineCell(c)),
  el("td", { "data-label": t("col_unit") }, lead, c.escalated_to ? el("div", { class: "small" }, "↑ " + t("escalated_to", { unit: unitName(c.escalated_to) })) : null));
  return row;
}

// ---- the map ----

const COLOURS = { over: "#a40000", soon: "#b36b00", ok: "#0b5cad", none: "#5f6670" };
const RADIUS = { over: 10, soon: 9, ok: 7, none: 6 };

async function setupMap() {
  if (!window.L) { $("map-card").hidden = true; return; }
  try {
    map = await districtMap($("case-map"));
    markers = window.L.layerGroup().addTo(map);
  } catch (e) {
    $("map-note").textContent = e instanceof ApiError ? e.explain() : String(e.message || e);
  }
  renderLegend();
  if (cases.length) drawMarkers(cases);
}

function renderLegend(counts = {}) {
  $("map-legend").replaceChildren(...["over", "soon", "ok", "none"].map((lvl) =>
    el("li", {}, el("span", { class: "swatch swatch-" + lvl, "aria-hidden": "true" }),
      t("urg_" + lvl) + (counts[lvl] !== undefined ? ` (${counts[lvl]})` : ""))));
}

function drawMarkers(list) {
  const counts = { over: 0, soon: 0, ok: 0, none: 0 };
  let missing = 0;
  if (markers) markers.clearLayers();
  for (const c of list) {
    const u = urgency(c);
    counts[u.level]++;
    if (!c.point) { missing++; continue; }
    if (!markers) continue;
    const m = window.L.circleMarker([c.point.lat, c.point.lon], {
      radius: RADIUS[u.level], color: "#fff", weight: 2, fillColor: COLOURS[u.level], fillOpacity: 0.9,
      dashArray: u.level === "none" ? "3 3" : null,
    });
    const due = u.level === "none" ? t("urg_none")
      : (u.due - Date.now() <= 0 ? t("over_by", { d: duration(u.due - Date.now()) }) : t("due_in", { d: duration(u.due - Date.now()) }));
    // As a text node: Leaflet would read a string as HTML, and titles are residents' words.
    m.bindTooltip(document.createTextNode(`${c.number} ${c.title} — ${t("urg_" + u.level)}: ${due}`));
    m.on("click", () => { location.hash = "case=" + c.id; });
    markers.addLayer(m);
  }
  renderLegend(counts);
  // The first time there are cases, the map shows them rather than the whole district.
  // Without tiles the outline is the only landmark, so the whole district stays in view.
  if (map && !mapFitted && markers.getLayers().length && !$("case-map").classList.contains("no-tiles")) {
    mapFitted = true;
    const b = window.L.featureGroup(markers.getLayers()).getBounds();
    map.fitBounds(b.pad(0.3), { maxZoom: 15 });
  }
  $("map-note").textContent = t("map_same") + (missing ? " " + t("map_missing", { n: missing }) : "");
}

// ---- one case ----

async function openFromHash() {
  const m = /^#case=(\d+)$/.exec(location.hash);
  if (!m) { closeDetail(false); return; }
  await openCase(Number(m[1]), true);
}

let caseSeq = 0;         // the latest read of the open case; an older answer is not drawn
let focusWanted = false; // a read superseded before it was drawn hands its focus on

/** Reads case `id` and shows it in the detail (with the focus on its
 * heading when `focus`). Reads may overlap (the hash, a live event, a
 * note): only the answer to the latest is drawn, so an older state never
 * replaces a newer one. */
async function openCase(id, focus) {
  const box = $("case-detail");
  const my = ++caseSeq;
  if (focus) focusWanted = true;
  box.hidden = false;
  if (!current || current.id !== id) box.replaceChildren(el("p", { class: "muted" }, t("loading_case")));
  try {
    const c = await api("GET", "/api/v1/cases/" + id);
    if (my !== caseSeq) return;
    current = c;
    renderDetail();
    markSelected();
    if (focusWanted) {
      focusWanted = false;
      box.scrollIntoView({ block: "start" });
      const h = $("detail-heading");
      if (h) h.focus();
    }
  } catch (e) {
    if (my !== caseSeq) return;
    focusWanted = false;
    current = null;
    const p = el("p", { class: "notice error", role: "alert" }, e.status === 404 ? t("not_found") : explain(e));
    box.replaceChildren(p);
    markSelected();
  }
}

function closeDetail(clearHash = true) {
  const id = current && current.id;
  caseSeq++; // a read still on its way does not open it again
  focusWanted = false;
  current = null;
  $("case-detail").hidden = true;
  $("case-detail").replaceChildren();
  markSelected();
  if (clearHash && location.hash) history.replaceState(null, "", location.pathname + location.search);
  const link = id && document.querySelector(`tr[data-case-id="${id}"] a`);
  if (link) link.focus();
}

function markSelected() {
  document.querySelectorAll("#case-rows tr").forEach((tr) => {
    const on = current && String(current.id) === tr.dataset.caseId;
    tr.classList.toggle("selected", !!on);
    if (on) tr.setAttribute("aria-current", "true"); else tr.removeAttribute("aria-current");
  });
}

function fact(label, ...value) {
  return [el("dt", {}, label), el("dd", {}, ...value)];
}

function renderDetail() {
  const c = current;
  if (!c) return;
  const box = $("case-detail");
  // A note being written survives a redraw (a live update, the language).
  const oldText = $("note-text"), oldPub = $("note-public");
  const keep = oldText && box.dataset.caseId === String(c.id)
    ? { text: oldText.value, pub: oldPub.checked, focused: document.activeElement === oldText } : null;
  box.dataset.caseId = String(c.id);
  const u = urgency(c);
  const head = el("div", { class: "detail-head" },
    el("h2", { id: "detail-heading", tabindex: "-1" }, t("detail_heading", { number: c.number }), " · ", c.title),
    el("div", { class: "detail-status" }, stateBadge(c.state), " ", u.level !== "none" ? deadlineCell(c) : null),
    el("button", { type: "button", class: "secondary close", onclick: () => closeDetail(true) }, t("close_detail")));

  const facts = el("dl", { class: "facts" },
    fact(t("f_number"), c.number),
    fact(t("f_category_l"), categoryName(c.category)),
    fact(t("f_channel"), t("ch_" + c.channel)),
    fact(t("f_priority"), t("pr_" + c.priority)),
    fact(t("f_created"), fmtTime(c.created_at)),
    fact(t("f_area"), c.area_code ? unitName(c.area_code) : "—", c.area_from_point ? t("area_guessed") : ""),
    c.address ? fact(t("f_address"), c.address) : [],
    c.point ? fact(t("f_point"), `${c.point.lat.toFixed(5)}, ${c.point.lon.toFixed(5)}`) : [],
    // Only what the reporter made public: the name when they agreed to it.
    fact(t("f_reporter"), c.reporter && c.reporter.public && c.reporter.name ? c.reporter.name : t("reporter_hidden")),
    fact(t("f_lead"), unitName(c.unit_code), c.escalated_to ? el("div", { class: "small" }, "↑ " + t("escalated_to", { unit: unitName(c.escalated_to) })) : null),
    coUnits(c), summoned(c),
    fact(t("f_response_due"), fmtTime(c.response_due_at)),
    c.accepted_at ? fact(t("f_accepted"), fmtTime(c.accepted_at)) : [],
    c.resolve_due_at ? fact(t("f_resolve_due"), fmtTime(c.resolve_due_at)) : [],
    c.resolved_at ? fact(t("f_resolved"), fmtTime(c.resolved_at)) : [],
    c.closed_at ? fact(t("f_closed"), fmtTime(c.closed_at)) : [],
    c.reason ? fact(t("f_reason"), c.reason) : [],
    c.duplicate_of ? fact(t("f_duplicate_of"), el("a", { href: "#case=" + c.duplicate_of }, "#" + c.duplicate_of)) : [],
    c.rating ? fact(t("f_rating"), t("rating_" + c.rating.rating), c.rating.comment ? " — " + c.rating.comment : "") : []);

  const photos = el("div", { class: "photos", id: "case-photos" });
  (c.photos || []).forEach((p, i) => {
    const img = el("img", { alt: t("photo_alt", { number: c.number, i: i + 1 }), loading: "lazy" });
    photos.append(el("a", { href: "#", class: "photo-link", onclick: (ev) => { ev.preventDefault(); if (img.src) window.open(img.src, "_blank"); } }, img));
    photoURL(p.url).then((url) => { img.src = url; }).catch(() => { img.replaceWith(el("span", { class: "small muted" }, t("photo_failed"))); });
  });

  const left = el("div", { class: "detail-main" },
    el("section", { "aria-labelledby": "actions-heading", class: "actions-box" },
      el("h3", { id: "actions-heading" }, t("actions_heading")), actionsBar(c)),
    el("h3", {}, t("facts")), facts,
    el("h3", {}, t("description")), el("p", { class: "description" }, c.description || t("no_description")),
    (c.photos || []).length ? [el("h3", {}, t("photos")), photos] : null);

  const right = el("div", { class: "detail-side" },
    el("h3", { id: "timeline-heading" }, t("timeline")),
    el("ol", { class: "timeline", id: "case-timeline", "aria-labelledby": "timeline-heading" },
      (c.events || []).map(eventItem)),
    noteForm(c));

  box.replaceChildren(head, el("div", { class: "detail-cols" }, left, right));
  const text = $("note-text");
  if (keep && text) {
    text.value = keep.text;
    $("note-public").checked = keep.pub;
    if (keep.focused) text.focus();
  }
}

function coUnits(c) {
  const co = (c.units || []).filter((x) => x.link === "co");
  return co.length ? fact(t("f_co"), co.map((x) => unitName(x.unit)).join("、")) : [];
}

function summoned(c) {
  const s = (c.units || []).filter((x) => x.link === "summoned");
  if (!s.length) return [];
  return fact(t("f_summoned"), el("ul", { class: "plain summoned" }, s.map((x) =>
    el("li", {}, unitName(x.unit), " — ",
      x.reported_at ? el("span", { class: "badge ok" }, "✓ " + t("reported_in_at", { time: fmtTime(x.reported_at) }))
        : el("span", { class: "badge warn" }, t("report_due", { time: fmtTime(x.due_at) })),
      x.late ? [" ", el("span", { class: "badge bad" }, t("report_late"))] : null))));
}

function eventItem(e) {
  const who = e.actor ? e.actor.name : (e.actor === null ? t("by_system") : "");
  const d = e.detail || {};
  const extra = [];
  if (e.kind === "dispatched" && d.unit) extra.push("→ " + unitName(d.unit));
  if (e.kind === "dispatched" && d.co_units) extra.push(t("f_co") + ": " + d.co_units.map(unitName).join("、"));
  if (e.kind === "whistle" && d.units) extra.push("→ " + d.units.map(unitName).join("、") + " · " + t("report_in_due", { time: fmtTime(d.due_at) }));
  if ((e.kind === "report_in" || e.kind === "report_in_overdue") && d.unit && !e.unit) extra.push(unitName(d.unit));
  if (e.kind === "report_in" && d.late) extra.push(t("report_late"));
  if (e.kind === "rejected" && d.reason) extra.push(t("f_reason") + ": " + d.reason);
  if (e.kind === "duplicate" && d.duplicate_of_number) extra.push(t("f_duplicate_of") + " " + d.duplicate_of_number);
  if (e.kind === "escalated" && d.to) extra.push(unitName(d.from) + " → " + unitName(d.to));
  if ((e.kind === "due_soon" || e.kind === "overdue") && d.deadline) extra.push(t(d.deadline === "response" ? "due_response" : "due_resolve") + " " + fmtTime(d.due_at));
  if (e.kind === "rated" && d.rating) extra.push(t("rating_" + d.rating));
  return el("li", { "data-kind": e.kind },
    el("div", {},
      el("time", { datetime: e.at, class: "small muted" }, fmtTime(e.at)), " ",
      el("strong", {}, t("ev_" + e.kind)),
      who ? " · " + who : "", e.unit ? " · " + unitName(e.unit) : "",
      !e.public && e.note ? [" ", el("span", { class: "badge" }, t("internal"))] : null),
    extra.length ? el("div", { class: "small" }, extra.join(" · ")) : null,
    e.note ? el("p", { class: "ev-note" }, e.note) : null);
}

// ---- actions ----

function actionsBar(c) {
  const bar = el("div", { class: "actions", id: "case-actions" });
  const err = el("p", { class: "notice error", id: "action-error", role: "alert", hidden: true });
  const box = el("div", {}, bar, err);
  if (me.role === "auditor") { bar.append(el("p", { class: "muted" }, t("auditor_readonly"))); return box; }
  const h = handlerUnit(c);
  const btn = (key, fn, cls) => el("button", { type: "button", class: cls || null, "data-action": key, onclick: fn }, t("act_" + key));
  if (h) {
    if (c.state === "submitted") bar.append(btn("accept", () => quick(c, { to: "accepted" }, "done_accept", err), "ok"));
    if (c.state === "accepted") bar.append(btn("dispatch", () => dispatchDialog(c)));
    if (c.state === "dispatched") bar.append(btn("start", () => quick(c, { to: "in_progress" }, "done_start", err), "ok"));
    if (c.state === "in_progress") bar.append(btn("resolve", () => resolveDialog(c), "ok"));
    if (c.state === "submitted" || c.state === "accepted") {
      bar.append(btn("reject", () => rejectDialog(c), "danger"));
      bar.append(btn("duplicate", () => duplicateDialog(c), "secondary"));
    }
  }
  if (mayWhistle(c)) bar.append(btn("whistle", () => whistleDialog(c), "secondary"));
  const pending = pendingReportIns(c);
  if (pending.length) {
    bar.append(btn("report_in", () => reportInDialog(c, pending)));
    box.prepend(el("p", { class: "notice warn" }, t("pending_report_in")));
  }
  if (!bar.children.length) bar.append(el("p", { class: "muted" }, t("no_actions")));
  return box;
}

function explain(e) {
  if (e instanceof ApiError) return e.explain();
  return String(e && e.message ? e.message : e);
}
function showProblem(e, where) {
  where.textContent = explain(e);
  where.hidden = false;
}

/** After a change: show the case as the server answered it, and the list. */
function changed(c, msgKey, vars = {}) {
  recentlyActed.set(c.id, Date.now());
  // The server's answer is newer than any read still on its way: those are dropped.
  if (current && current.id === c.id) { caseSeq++; focusWanted = false; current = c; renderDetail(); }
  announce(t(msgKey, Object.assign({ number: c.number }, vars)), "ok");
  loadList(cases.length);
}

async function quick(c, body, msgKey, errBox) {
  errBox.hidden = true;
  const buttons = $("case-actions").querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const updated = await api("POST", `/api/v1/cases/${c.id}/transitions`, body);
    changed(updated, msgKey);
  } catch (e) {
    buttons.forEach((b) => { b.disabled = false; });
    showProblem(e, errBox);
  }
}

function noteForm(c) {
  if (me.role === "auditor" || FINAL.has(c.state)) return null;
  const err = el("p", { class: "notice error", role: "alert", hidden: true });
  const text = el("textarea", { id: "note-text", maxlength: "1000", rows: "3" });
  const pub = el("input", { type: "checkbox", id: "note-public" });
  const go = el("button", { type: "submit", "data-action": "note" }, t("act_note"));
  const form = el("form", { id: "note-form", class: "note-form", novalidate: true },
    el("label", { for: "note-text" }, t("note_label")), text,
    el("label", { class: "check", for: "note-public" }, pub, t("note_public")),
    el("div", { class: "actions" }, go), err);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    if (!text.value.trim()) { err.textContent = t("note_required"); err.hidden = false; text.focus(); return; }
    go.disabled = true;
    try {
      await api("POST", `/api/v1/cases/${c.id}/notes`, { text: text.value.trim(), public: pub.checked });
      recentlyActed.set(c.id, Date.now());
      text.value = "";
      pub.checked = false;
      announce(t("done_note"), "ok");
      await openCase(c.id, false);
      const again = $("note-text");
      if (again) again.focus();
    } catch (e) {
      go.disabled = false;
      showProblem(e, err);
    }
  });
  return form;
}

// ---- the dialog every confirmed step uses ----

let dialogSubmit = null;
let dialogOpener = null;

function openDialog({ title, ok, okClass, warning, body, submit }) {
  const dlg = $("action-dialog");
  $("dlg-heading").textContent = title;
  const w = $("dlg-warning");
  w.textContent = warning || "";
  w.hidden = !warning;
  $("dlg-body").replaceChildren(...body);
  $("dlg-error").hidden = true;
  const okBtn = $("dlg-ok");
  okBtn.textContent = ok;
  okBtn.className = okClass || "";
  okBtn.disabled = false;
  dialogSubmit = submit;
  dialogOpener = document.activeElement;
  dlg.showModal();
  const first = $("dlg-body").querySelector("input, select, textarea");
  (first || okBtn).focus();
}

function closeDialog() {
  const dlg = $("action-dialog");
  if (dlg.open) dlg.close();
  dialogSubmit = null;
}

function dialogError(msg) {
  const e = $("dlg-error");
  e.textContent = msg;
  e.hidden = false;
}

function setupDialog() {
  const dlg = $("action-dialog");
  $("dlg-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!dialogSubmit) return;
    $("dlg-error").hidden = true;
    const ok = $("dlg-ok");
    ok.disabled = true;
    try {
      const done = await dialogSubmit();
      if (done !== false) closeDialog();
    } catch (e) {
      dialogError(explain(e));
    } finally {
      ok.disabled = false;
    }
  });
  $("dlg-cancel").addEventListener("click", closeDialog);
  dlg.addEventListener("close", () => {
    dialogSubmit = null;
    const back = dialogOpener && document.contains(dialogOpener) ? dialogOpener : $("detail-heading");
    if (back) back.focus();
  });
}

function field(id, label, input) {
  input.id = id;
  return el("div", { class: "field" }, el("label", { for: id }, label), input);
}

async function transition(c, body) {
  return api("POST", `/api/v1/cases/${c.id}/transitions`, body);
}

function dispatchDialog(c) {
  const lead = el("select", {},
    el("option", { value: "" }, t("lead_keep", { unit: unitName(c.unit_code) })),
    dispatchTargets(c).filter((code) => code !== c.unit_code).map((code) => el("option", { value: code }, unitName(code))));
  const co = departments().filter((code) => code !== c.unit_code && !(c.units || []).some((x) => x.unit === code && x.link === "co"));
  const coBox = el("fieldset", { class: "checks" }, el("legend", {}, t("d_co")),
    co.map((code, i) => el("label", { class: "check", for: "dco-" + i },
      el("input", { type: "checkbox", id: "dco-" + i, value: code }), unitName(code))));
  const note = el("textarea", { maxlength: "1000", rows: "2" });
  openDialog({
    title: t("dlg_dispatch", { number: c.number }), ok: t("ok_dispatch"),
    body: [field("d-lead", t("d_lead"), lead), coBox, field("d-note", t("d_note_opt"), note)],
    submit: async () => {
      const body = { to: "dispatched" };
      if (lead.value) body.unit = lead.value;
      const picked = [...coBox.querySelectorAll("input:checked")].map((i) => i.value);
      if (picked.length) body.co_units = picked;
      if (note.value.trim()) body.note = note.value.trim();
      changed(await transition(c, body), "done_dispatch");
    },
  });
}

function departments() {
  return [...units.values()].filter((u) => u.kind === "department").map((u) => u.code);
}

function dispatchTargets(c) {
  const out = [];
  if (c.area_code) {
    if (areaLevel(c.area_code) === 2) out.push(c.area_code);
    if (streetOf(c.area_code)) out.push(streetOf(c.area_code));
    out.push(districtOf(c.area_code));
  }
  return [...new Set([...out, ...departments()])];
}

function resolveDialog(c) {
  const note = el("textarea", { maxlength: "1000", rows: "3" });
  const photo = el("input", { type: "file", accept: "image/jpeg,image/png,image/webp" });
  openDialog({
    title: t("dlg_resolve", { number: c.number }), ok: t("ok_resolve"), okClass: "ok",
    warning: t("warn_resolve"),
    body: [field("d-resolution", t("d_resolution"), note), field("d-photo", t("d_photo"), photo)],
    submit: async () => {
      // The server requires the note; it says so itself when it is missing.
      const updated = await transition(c, { to: "resolved", note: note.value.trim() || null });
      let result = updated;
      if (photo.files && photo.files[0]) {
        const form = new FormData();
        form.append("photo", photo.files[0]);
        try {
          result = await api("POST", `/api/v1/cases/${c.id}/photos`, form);
        } catch (e) {
          changed(updated, "done_resolve");
          announce(t("photo_upload_failed", { msg: explain(e) }), "error");
          return;
        }
      }
      changed(result, "done_resolve");
    },
  });
}

function rejectDialog(c) {
  const reason = el("textarea", { maxlength: "1000", rows: "3", "aria-describedby": "dlg-warning" });
  openDialog({
    title: t("dlg_reject", { number: c.number }), ok: t("ok_reject"), okClass: "danger",
    warning: t("warn_final"),
    body: [field("d-reason", t("d_reason"), reason)],
    // The reason is required; the server is the one that says so.
    submit: async () => changed(await transition(c, { to: "rejected", reason: reason.value.trim() || null }), "done_reject"),
  });
}

/** The id of the case numbered `number`, as this account sees it (null
 * when there is none it may see). */
async function caseIdByNumber(number) {
  const r = await api("GET", "/api/v1/cases?number=" + encodeURIComponent(number));
  return r.items && r.items.length ? r.items[0].id : null;
}

function duplicateDialog(c) {
  const num = el("input", { inputmode: "numeric", maxlength: "13", autocomplete: "off", pattern: "\\d{13}" });
  const nearby = el("div", { class: "nearby" }, el("p", { class: "small muted" }, t("loading")));
  openDialog({
    title: t("dlg_duplicate", { number: c.number }), ok: t("ok_duplicate"), okClass: "danger",
    warning: t("warn_final"),
    body: [field("d-dup", t("d_dup_number"), num), el("h3", {}, t("d_dup_nearby")), nearby],
    submit: async () => {
      const n = num.value.trim();
      if (!/^\d{13}$/.test(n)) { dialogError(t("dup_number_bad")); return false; }
      const id = await caseIdByNumber(n);
      if (!id) { dialogError(t("dup_not_found", { number: n })); return false; }
      changed(await transition(c, { to: "duplicate", duplicate_of: id }), "done_duplicate");
    },
  });
  if (!c.point) { nearby.replaceChildren(el("p", { class: "small muted" }, t("d_dup_none"))); return; }
  const q = new URLSearchParams({ lat: c.point.lat, lon: c.point.lon, category: c.category, radius: "500" });
  api("GET", "/api/v1/cases/nearby?" + q.toString()).then((r) => {
    const others = (r.items || []).filter((x) => x.id !== c.id);
    nearby.replaceChildren(others.length
      ? el("ul", { class: "plain" }, others.map((x) => el("li", {},
        el("button", { type: "button", class: "secondary small-btn", onclick: () => { num.value = x.number; num.focus(); } },
          t("d_dup_pick")), " ", x.number, " ", x.title, " · ", t("st_" + x.state), ` · ${Math.round(x.distance_m)} m`)))
      : el("p", { class: "small muted" }, t("d_dup_none")));
  }).catch((e) => { nearby.replaceChildren(el("p", { class: "small error" }, explain(e))); });
}

async function whistleDialog(c) {
  const summonedAlready = new Set((c.units || []).filter((x) => x.link === "summoned").map((x) => x.unit));
  let communities = [];
  const street = streetOf(c.area_code || "");
  if (street) {
    try {
      const r = await api("GET", "/api/v1/units?kind=community&parent=" + encodeURIComponent(street));
      communities = (r.items || []).map((u) => { units.set(u.code, units.get(u.code) || u); return u.code; });
    } catch { communities = []; }
  }
  let n = 0;
  const box = (legend, codes) => el("fieldset", { class: "checks" }, el("legend", {}, legend),
    codes.map((code) => {
      const id = "dw-" + (n++);
      const already = summonedAlready.has(code);
      return el("label", { class: "check", for: id },
        el("input", { type: "checkbox", id, value: code, disabled: already }),
        unitName(code) + (already ? t("d_summoned_already") : ""));
    }));
  const depts = box(t("d_departments"), departments().filter((code) => code !== c.unit_code));
  communities = communities.filter((code) => code !== c.unit_code);
  const comms = communities.length ? box(t("d_communities"), communities) : null;
  const note = el("textarea", { maxlength: "1000", rows: "2" });
  openDialog({
    title: t("dlg_whistle", { number: c.number }), ok: t("ok_whistle"),
    body: [el("div", { class: "whistle-units" }, depts, comms), field("d-wnote", t("d_whistle_note"), note)],
    submit: async () => {
      const picked = [...$("dlg-body").querySelectorAll(".whistle-units input:checked")].map((i) => i.value);
      if (!picked.length) { dialogError(t("whistle_pick")); return false; }
      const body = { units: picked };
      if (note.value.trim()) body.note = note.value.trim();
      changed(await api("POST", `/api/v1/cases/${c.id}/whistle`, body), "done_whistle", { n: picked.length });
    },
  });
}

function reportInDialog(c, pending) {
  const unitSel = el("select", {}, pending.map((x) => el("option", { value: x.unit }, unitName(x.unit))));
  const note = el("textarea", { maxlength: "1000", rows: "2" });
  const body = [];
  if (pending.length > 1) body.push(field("d-runit", t("d_report_unit"), unitSel));
  else body.push(el("p", {}, t("d_report_unit") + "：" + unitName(pending[0].unit) + " · " + t("report_due", { time: fmtTime(pending[0].due_at) })));
  body.push(field("d-rnote", t("d_report_note"), note));
  openDialog({
    title: t("dlg_report_in", { number: c.number }), ok: t("ok_report_in"), body,
    submit: async () => {
      const b = { unit: pending.length > 1 ? unitSel.value : pending[0].unit };
      if (note.value.trim()) b.note = note.value.trim();
      changed(await api("POST", `/api/v1/cases/${c.id}/report-in`, b), "done_report_in");
    },
  });
}

// ---- live updates ----

let refreshTimer = null, lastRefresh = 0;
function onEvent(type, data) {
  if (!type.startsWith("case.") || !data || typeof data !== "object") return;
  // Many events in a row make one reload, and reloads come at most every 2 s.
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { lastRefresh = Date.now(); loadList(cases.length); },
    Math.max(300, 2000 - (Date.now() - lastRefresh)));
  const ours = recentlyActed.get(data.id);
  const quiet = ours && Date.now() - ours < 5000;
  if (current && current.id === data.id) openCase(data.id, false);
  if (!quiet) {
    if (type === "case.created") announce(t("live_new", { number: data.number }));
    else if (current && current.id === data.id) announce(t("live_changed", { number: data.number }));
  }
}

function onStreamState(state) {
  const p = $("live-state");
  p.dataset.state = state;
  p.textContent = t(state === "open" ? "live_open" : "live_closed");
  // On (re)connecting, read the list again: events may have been missed.
  if (state === "open") loadList(cases.length);
}

// ---- start ----

function fillSelects() {
  const st = $("f-state"), was = st.value || "open";
  st.replaceChildren(el("option", { value: "open" }, t("open_states")),
    ...STATES.map((s) => el("option", { value: s }, t("st_" + s))),
    el("option", { value: "" }, t("all_states")));
  st.value = was;
  const cat = $("f-category"), had = cat.value;
  cat.replaceChildren(el("option", { value: "" }, t("all_categories")),
    ...[...categories.values()].map((c) => el("option", { value: c.code }, pick(c, "name"))));
  cat.value = had;
}

function paintWho() {
  const mine = myUnits();
  $("desk-who").textContent = mine.length ? mine.map(unitName).join("、") : "";
}

/** The account with the units it acts for. */
async function loadMe() {
  me = await api("GET", "/api/v1/me");
}

/** Names of the units a case may name (its lead, co-handlers, the areas),
 * and the departments a case may be dispatched to. */
async function loadUnits() {
  const lists = await Promise.all([
    api("GET", "/api/v1/units"),
    api("GET", "/api/v1/units?kind=district"),
    api("GET", "/api/v1/units?kind=street"),
    api("GET", "/api/v1/units?kind=community"),
  ]);
  for (const l of lists) for (const u of l.items || []) units.set(u.code, u);
}

async function start() {
  startPage();
  const s = await requireLogin(["community", "street", "district", "admin", "provider", "auditor"]);
  me = s.user;
  setupDialog();
  try {
    const [cats] = await Promise.all([api("GET", "/api/v1/case-categories"), loadUnits(), loadMe()]);
    for (const c of cats.items || []) categories.set(c.code, c);
  } catch (e) {
    showProblem(e, $("list-error"));
  }
  fillSelects();
  paintWho();
  // Department staff see their departments' cases first; area staff their area's.
  $("view-box").hidden = myUnits().length === 0;
  $("f-view").value = hasMemberships() ? "mine" : "all";
  $("live-state").textContent = t("live_connecting");
  $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); loadList(); });
  for (const id of ["f-view", "f-state", "f-category", "f-overdue"]) $(id).addEventListener("change", () => loadList());
  $("list-more").addEventListener("click", loadMore);
  window.addEventListener("hashchange", openFromHash);
  onLangChange(() => {
    fillSelects();
    paintWho();
    const ls = $("live-state");
    ls.textContent = t(ls.dataset.state === "open" ? "live_open" : ls.dataset.state === "closed" ? "live_closed" : "live_connecting");
    renderList();
    renderDetail();
  });
  setupMap();
  await loadList();
  openFromHash();
  stream("/api/v1/events", onEvent, onStreamState);
  // Deadlines move with the clock: "due in 2 h" is redrawn every minute.
  setInterval(() => { renderList(); if (current) { const s = document.querySelector(".detail-status"); if (s) renderDetailStatus(s); } }, 60000);
}

function renderDetailStatus(box) {
  if (!current) return;
  const u = urgency(current);
  box.replaceChildren(stateBadge(current.state), " ", u.level !== "none" ? deadlineCell(current) : "");
}

start();
