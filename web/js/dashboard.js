// dashboard.js - the district dashboard (全区看板): the one-key-call figures,
// the elderly-service facilities, 15-minute coverage on a map, the case
// desk's rates and trend, and the social-work station network, each from
// its report of the API and refreshed when the event stream says something
// changed.
//
// Every figure is also on the page as text, in an element carrying
//   data-metric="<report>.<json path>"  data-value="<the API's number>"
//   data-format="int|rate|dec1"
// under the nearest element with data-source="<the API URL it came from>".
// In the path, a step into a list names the element whose code, unit, kind
// or rank (the first of those it has) equals the step, e.g.
// coverage.areas.110105001000.share or cases.units.dept-cgj.response.rate.
import {
  addStrings, announce, api, apiAll, currentLang, districtMap, el, fmtNumber, fmtRate, fmtTime,
  onLangChange, pick, requireLogin, showError, startPage, stream, t,
} from "./linli.js";

addStrings({
  zh: {
    dash_title: "全区看板 · 邻里", dash_heading: "全区看板", period: "统计期间", period_month: "本月",
    period_last30: "最近30天", period_year: "今年", scope_all: "范围：全部区域", scope_of: "范围：{name}",
    live_connecting: "正在连接实时数据…", live_on: "实时更新中", live_off: "实时连接中断，正在重连…",
    updated_at: "更新于 {time}", period_span: "统计期间：{from} 至 {to}", updated_after_change: "看板已按新的选择更新。",
    no_data: "暂无数据", yes: "有", no: "无", seconds: "秒", count_unit: "个",
    // one-key call
    h_hotline: "一键呼", h_calls_by_category: "按类别的呼叫", hotline_note: "呼叫和主动服务随事件实时更新；一键呼用户数每10分钟刷新一次。",
    k_subscribers: "一键呼用户", k_calls: "呼叫总数", k_answered: "已接听", k_abandoned: "未接听即挂断",
    k_proactive: "主动服务完成", k_p50: "接听用时中位数", k_p90: "接听用时（90%的呼叫在此之内）",
    k_within60: "60秒内接听", k_within180: "180秒内接听", col_category: "类别", col_calls: "呼叫数",
    cat_health_consultation: "健康咨询", cat_convenience_service: "便民服务", cat_emergency: "紧急救助",
    cat_fire: "火警", cat_family: "亲情通话", cat_false_alarm: "误报", cat_other: "其他", cat_unclassified: "未分类",
    chart_hotline: "按类别的呼叫数柱状图，数字见右侧表格。",
    // facilities
    h_facilities: "养老服务设施", h_open_by_kind: "按类型的在营设施", k_fac_total: "设施（未关闭）",
    k_beds_total: "床位总数", k_beds_free: "空余床位", col_kind: "类型", col_open: "在营", col_suspended: "暂停",
    col_closed: "已关闭", col_beds: "床位", col_beds_free: "空余床位", facilities_missing: "设施统计暂不可用（服务器尚未提供这项报表）。",
    chart_facilities: "按类型的在营设施数柱状图，数字见右侧表格。",
    // coverage
    h_coverage: "15分钟养老服务圈", need: "服务需求", k_share: "步行15分钟可达的比例", k_covered: "可达的老人",
    k_located: "有住址定位的老人", k_uncovered: "不可达的老人", k_providers: "提供该服务的设施",
    col_street: "街道", col_community: "社区", col_share: "可达比例", col_located: "有定位的老人", col_covered: "可达的老人", map_label: "各街道的15分钟覆盖率地图，数字见旁边的表格。",
    coverage_table_label: "各区域的15分钟覆盖率", sort_by: "按{col}排序", legend_title: "可达比例",
    legend_none: "无人可计", no_point: "以下区域没有中心点，未画在地图上：{names}",
    point_from_communities: "没有中心点的街道取其社区中心点的平均位置。",
    // cases
    h_cases: "接诉即办", h_units: "各承办单位（按综合得分排名）", h_trend: "最近6个月的趋势", h_recurring: "本月高频问题（未诉先办）",
    k_received: "受理诉求", k_response: "响应率", k_resolution: "解决率", k_satisfaction: "满意率", k_reopened: "重新办理",
    k_score: "综合得分", col_rank: "排名", col_unit: "承办单位", col_received: "受理", col_month: "月份",
    col_count: "本月件数", col_response: "响应率", col_resolution: "解决率", col_satisfaction: "满意率", col_previous: "上月件数", col_change: "变化", show_all_units: "显示全部 {n} 个单位",
    show_top_units: "只显示前 {n} 个单位", no_cases: "本期没有需要统计的诉求。", no_recurring: "本月暂无高频问题。",
    ranking_note: "综合得分是响应率、解决率、满意率中有数据的各项的平均值，从高到低排名；得分相同的按单位代码排列；没有任何比率的单位排在最后。", chart_cases: "最近6个月响应率、解决率、满意率的折线图，数字见旁边的表格。",
    // stations
    h_stations: "社工站覆盖", k_street_cov: "街道社工站覆盖率", k_streets_with: "有社工站的街道",
    k_comm_cov: "社区社工室覆盖率", k_comm_served: "有社工室的社区", met_yes: "已达到100%覆盖目标",
    met_no: "未达到100%覆盖目标", col_centre: "街道社工站", col_served: "有社工室的社区", col_coverage: "覆盖率",
    col_station: "社工室", chart_stations: "街道和社区两级社工站覆盖率柱状图，目标为100%。",
    s_streets: "街道", s_communities: "社区", target: "目标",
    // community sizes
    h_sizes: "社区规模（3000户以上的社区宜拆分）", k_oversized: "超过 {n} 户的社区", k_unknown_households: "户数未知的社区",
    col_households: "户数", col_residents: "常住人口", col_elderly: "老年人", no_oversized: "没有超过 {n} 户的社区。",
  },
  en: {
    dash_title: "District dashboard · Linli", dash_heading: "District dashboard", period: "Period",
    period_month: "This month", period_last30: "Last 30 days", period_year: "This year",
    scope_all: "Scope: all areas", scope_of: "Scope: {name}", live_connecting: "Connecting to live updates…",
    live_on: "Live", live_off: "Live updates interrupted, reconnecting…", updated_at: "Updated at {time}",
    period_span: "Period: {from} to {to}", updated_after_change: "The dashboard shows the new choice.",
    no_data: "No data", yes: "Yes", no: "No", seconds: "s", count_unit: "",
    h_hotline: "One-key call", h_calls_by_category: "Calls by category",
    hotline_note: "Calls and proactive services update live; the number of subscribers is refreshed every 10 minutes.",
    k_subscribers: "Subscribers", k_calls: "Calls", k_answered: "Answered", k_abandoned: "Hung up before answer",
    k_proactive: "Proactive services done", k_p50: "Median answer time", k_p90: "Answer time, 90th percentile",
    k_within60: "Answered within 60 s", k_within180: "Answered within 180 s", col_category: "Category", col_calls: "Calls",
    cat_health_consultation: "Health consultation", cat_convenience_service: "Convenience service",
    cat_emergency: "Emergency", cat_fire: "Fire", cat_family: "Family call", cat_false_alarm: "False alarm",
    cat_other: "Other", cat_unclassified: "Unclassified",
    chart_hotline: "Bar chart of calls by category; the figures are in the table beside it.",
    h_facilities: "Elderly-service facilities", h_open_by_kind: "Open facilities by kind", k_fac_total: "Facilities (not closed)",
    k_beds_total: "Beds", k_beds_free: "Free beds", col_kind: "Kind", col_open: "Open", col_suspended: "Suspended",
    col_closed: "Closed", col_beds: "Beds", col_beds_free: "Free beds",
    facilities_missing: "Facility figures are not available yet (the server has no such report).",
    chart_facilities: "Bar chart of open facilities by kind; the figures are in the table beside it.",
    h_coverage: "15-minute service circle", need: "Need", k_share: "Share within a 15-minute walk",
    k_covered: "Older people in reach", k_located: "Older people with a located home", k_uncovered: "Out of reach",
    k_providers: "Facilities offering it", col_street: "Street", col_community: "Community", col_share: "Share",
    col_located: "Located", col_covered: "In reach",
    map_label: "Map of the 15-minute coverage of each area; the figures are in the table beside it.",
    coverage_table_label: "15-minute coverage by area", sort_by: "Sort by {col}", legend_title: "Share in reach",
    legend_none: "nobody to count", no_point: "These areas have no centre point and are not on the map: {names}",
    point_from_communities: "A street without a centre point is placed at the mean of its communities' points.",
    h_cases: "Case handling", h_units: "Handling units (ranked by score)", h_trend: "Trend over the last 6 months",
    h_recurring: "This month's recurring problems", k_received: "Cases received", k_response: "Response rate",
    k_resolution: "Resolution rate", k_satisfaction: "Satisfaction rate", k_reopened: "Reopened", k_score: "Score",
    col_rank: "Rank", col_unit: "Unit", col_received: "Received", col_month: "Month", col_count: "This month",
    col_response: "Response", col_resolution: "Resolution", col_satisfaction: "Satisfied",
    col_previous: "Last month", col_change: "Change", show_all_units: "Show all {n} units",
    show_top_units: "Show the first {n} units only", no_cases: "No cases to count in this period.",
    no_recurring: "No recurring problems this month.",
    ranking_note: "The score is the mean of the rates a unit has (response, resolution, satisfaction), highest first; equal scores by unit code; units without any rate come last.",
    chart_cases: "Line chart of the response, resolution and satisfaction rates over six months; the figures are in the table beside it.",
    h_stations: "Social-work stations", k_street_cov: "Street centre coverage", k_streets_with: "Streets with a centre",
    k_comm_cov: "Community station coverage", k_comm_served: "Communities with a station",
    met_yes: "The 100% coverage target is met", met_no: "The 100% coverage target is not met yet",
    col_centre: "Street centre", col_served: "Communities served", col_coverage: "Coverage", col_station: "Station",
    chart_stations: "Bar chart of street and community station coverage against the 100% target.",
    s_streets: "Streets", s_communities: "Communities", target: "Target",
    h_sizes: "Community size (communities over 3,000 households are due for a split)",
    k_oversized: "Communities over {n} households", k_unknown_households: "Communities whose households are unknown",
    col_households: "Households", col_residents: "Residents", col_elderly: "Older people",
    no_oversized: "No community has more than {n} households.",
  },
});

const TZ = "Asia/Shanghai";
const CATEGORIES = ["health_consultation", "convenience_service", "emergency", "fire", "family",
  "false_alarm", "other", "unclassified"];
const TOP_UNITS = 20;
const PANELS = ["hotline", "facilities", "coverage", "cases", "stations", "sizes"];
// The shortest time between two refreshes of a panel (ms). Coverage scans
// every older person's home, so it is refreshed less often.
const MIN_GAP = { hotline: 10000, facilities: 10000, coverage: 60000, cases: 10000, stations: 10000, sizes: 10000 };
const POLL_MS = 60000; // panels no event announces
// Calls and tasks are announced (call.*, task.*), device subscriptions are
// not: a slow refresh keeps the one-key-call panel's subscriber count fresh.
const HOTLINE_SAFETY_MS = 600000;
const COLOURS = ["#0b5cad", "#b35900", "#1b6e34", "#7a3e9d", "#a40000", "#44546a", "#8a6d00", "#00707a"];
// 15-minute coverage classes: colour and the text that goes with it.
const BINS = [
  { max: 0.25, colour: "#c0392b", label: "< 25%" },
  { max: 0.5, colour: "#e67e22", label: "25–50%" },
  { max: 0.75, colour: "#9ccc65", label: "50–75%" },
  { max: Infinity, colour: "#1e7b34", label: "≥ 75%" },
];

const $ = (id) => document.getElementById(id);
const state = {
  user: null, scope: null, scopeLevel: null, period: "month", service: "meals",
  services: [], categories: {}, departments: {}, areas: null, sort: { key: "share", dir: 1 },
  showAllUnits: false, streamOpen: false,
};
const cache = {};         // panel -> what its fetch returned
const seq = {};           // panel -> number of the latest load
const lastLoad = {};      // panel -> when it was last asked for
const timers = {};        // panel -> a scheduled refresh
const charts = {};        // element id -> ECharts instance
let coverageMap = null, circles = null;

// ---- formats ----

function locale() { return currentLang() === "zh" ? "zh-CN" : "en-GB"; }
function fmtDec1(n) {
  if (n === null || n === undefined) return "—";
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(n);
}
const FORMATS = { int: fmtNumber, rate: fmtRate, dec1: fmtDec1 };
function clock(d) {
  return new Intl.DateTimeFormat(locale(), { timeZone: TZ, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }).format(d);
}
/** Year, month and day of a moment in Beijing. */
function bjDate(d) {
  const [y, m, day] = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(d).split("-").map(Number);
  return { y, m, d: day };
}
const pad = (n) => String(n).padStart(2, "0");

/** A figure as text, carrying its path in the report and the raw number. */
function metric(path, value, format = "int") {
  const v = value === undefined ? null : value;
  return el("span", { class: "metric", "data-metric": path, "data-value": v === null ? "" : String(v), "data-format": format },
    FORMATS[format](v));
}
function kpi(label, ...value) {
  return el("div", { class: "kpi" }, el("div", { class: "value" }, ...value), el("div", { class: "label" }, label));
}
const unit = (s) => (s ? el("span", { class: "unit" }, " " + s) : null);
function table(head, rows, opts = {}) {
  return el("table", { class: opts.class },
    opts.caption ? el("caption", { class: "sr-only" }, opts.caption) : null,
    el("thead", {}, el("tr", {}, head.map((h) => (h instanceof Node ? h : el("th", { scope: "col", class: h.num ? "num" : null }, h.text ?? h))))),
    el("tbody", {}, rows));
}
const num = (...c) => el("td", { class: "num" }, ...c);
function emptyRow(cols, text) { return el("tr", {}, el("td", { colspan: cols, class: "muted" }, text)); }

// ---- periods ----

function periodRange(p) {
  const now = new Date();
  const { y, m } = bjDate(now);
  let from;
  if (p === "year") from = `${y}-01-01T00:00:00+08:00`;
  else if (p === "last30") from = new Date(now.getTime() - 30 * 86400000).toISOString();
  else from = `${y}-${pad(m)}-01T00:00:00+08:00`;
  return { from, to: now.toISOString() };
}
/** The last n calendar months in Beijing, oldest first, as "YYYY-MM". */
function lastMonths(n) {
  const { y, m } = bjDate(new Date());
  const out = [];
  for (let i = n - 1; i >= 0; i--) {
    const k = y * 12 + (m - 1) - i;
    out.push(`${Math.floor(k / 12)}-${pad((k % 12) + 1)}`);
  }
  return out;
}
function url(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  const s = q.toString();
  return path + (s ? "?" + s : "");
}

// ---- charts ----

function chart(id) {
  if (!charts[id]) charts[id] = window.echarts.init($(id), null, { renderer: "canvas" });
  return charts[id];
}
function fontPx() { return document.documentElement.classList.contains("large") ? 15 : 12; }
function baseOption(description) {
  return {
    animation: false, color: COLOURS,
    aria: { enabled: true, label: { description }, decal: { show: true } },
    textStyle: { fontSize: fontPx(), fontFamily: getComputedStyle(document.body).fontFamily },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
    grid: { left: 8, right: 24, top: 28, bottom: 8, containLabel: true },
  };
}
function barChart(id, labels, values, description, name) {
  const o = baseOption(description);
  o.xAxis = { type: "value", minInterval: 1, axisLabel: { fontSize: fontPx() } };
  o.yAxis = { type: "category", data: labels, inverse: true, axisLabel: { fontSize: fontPx() } };
  o.series = [{ type: "bar", name, data: values, label: { show: true, position: "right", fontSize: fontPx(),
    formatter: (p) => fmtNumber(p.value) } }];
  chart(id).setOption(o, true);
}

// ---- loading and live refresh ----

const FETCH = {};
const RENDER = {};

/** Loads a panel's report and draws it; answers whether it worked. */
async function load(name) {
  const my = (seq[name] = (seq[name] || 0) + 1);
  lastLoad[name] = Date.now();
  const section = $("panel-" + name);
  const err = $(name + "-error");
  section.setAttribute("aria-busy", "true");
  try {
    const got = await FETCH[name]();
    if (my !== seq[name]) return false; // a newer load is on its way
    cache[name] = got;
    // A refresh redraws the panel: keep the keyboard where it was.
    const focused = document.activeElement && document.activeElement.id;
    RENDER[name]();
    if (focused && document.activeElement !== $(focused) && $(focused)) $(focused).focus();
    err.hidden = true;
    state.updatedAt = new Date();
    paintUpdated();
    return true;
  } catch (e) {
    if (my !== seq[name]) return false;
    showError(e, err);
    return false;
  } finally {
    if (my === seq[name]) section.setAttribute("aria-busy", "false");
  }
}

/** Refreshes a panel soon: at once after a second's quiet, but not more
 * often than its MIN_GAP. */
function schedule(name) {
  if (timers[name]) return;
  const wait = Math.max(1000, (lastLoad[name] || 0) + MIN_GAP[name] - Date.now());
  timers[name] = setTimeout(() => { timers[name] = null; load(name); }, wait);
}

// Which panels an event of the stream touches.
const TOPICS = [
  [/^case\./, ["cases"]],
  [/^(station|support_team)\./, ["stations"]],
  [/^area\./, ["stations", "coverage", "sizes"]],
  [/^(person|people)\./, ["coverage"]],
  [/^(facility|service)\./, ["facilities", "coverage"]],
  [/^(call|task)\./, ["hotline"]],
];
function onEvent(type) {
  for (const [re, panels] of TOPICS) if (re.test(type)) panels.forEach(schedule);
}
function onStreamState(s) {
  const badge = $("live-state");
  if (s === "open") {
    badge.className = "badge ok";
    badge.textContent = t("live_on");
    badge.dataset.i18n = "live_on";
    // What happened while the stream was down was not announced.
    if (state.streamOpen === false && Object.keys(cache).length) PANELS.forEach(schedule);
    state.streamOpen = true;
  } else {
    badge.className = "badge warn";
    badge.textContent = t("live_off");
    badge.dataset.i18n = "live_off";
    if (state.streamOpen) announce(t("live_off"), "error");
    state.streamOpen = false;
  }
}

// ---- 1. one-key call ----

FETCH.hotline = async () => {
  const { from, to } = periodRange(state.period);
  const u = url("/api/v1/reports/hotline", { from, to });
  return { url: u, data: await api("GET", u) };
};
RENDER.hotline = () => {
  const { url: u, data: r } = cache.hotline;
  $("hotline-body").dataset.source = u;
  $("hotline-period").textContent = t("period_span", { from: fmtTime(r.from), to: fmtTime(r.to) });
  const at = r.answer_time_s || {};
  $("hotline-kpis").replaceChildren(
    kpi(t("k_subscribers"), metric("hotline.subscribers", r.subscribers)),
    kpi(t("k_calls"), metric("hotline.calls.total", r.calls.total)),
    kpi(t("k_answered"), metric("hotline.calls.answered", r.calls.answered)),
    kpi(t("k_abandoned"), metric("hotline.calls.abandoned", r.calls.abandoned)),
    kpi(t("k_proactive"), metric("hotline.proactive_services_done", r.proactive_services_done)),
    kpi(t("k_p50"), metric("hotline.answer_time_s.p50", at.p50, "dec1"), unit(t("seconds"))),
    kpi(t("k_p90"), metric("hotline.answer_time_s.p90", at.p90, "dec1"), unit(t("seconds"))),
    kpi(t("k_within60"), metric("hotline.answered_within_60s", r.answered_within_60s, "rate")),
    kpi(t("k_within180"), metric("hotline.answered_within_180s", r.answered_within_180s, "rate")));
  const cats = CATEGORIES.filter((c) => c in r.calls.by_category)
    .concat(Object.keys(r.calls.by_category).filter((c) => !CATEGORIES.includes(c)));
  const label = (c) => (t("cat_" + c) === "cat_" + c ? c : t("cat_" + c));
  $("hotline-table").replaceChildren(table([t("col_category"), { text: t("col_calls"), num: true }],
    cats.map((c) => el("tr", {}, el("th", { scope: "row" }, label(c)),
      num(metric("hotline.calls.by_category." + c, r.calls.by_category[c]))))));
  barChart("hotline-chart", cats.map(label), cats.map((c) => r.calls.by_category[c]), t("chart_hotline"), t("col_calls"));
};

// ---- 2. facilities ----

FETCH.facilities = async () => {
  const u = url("/api/v1/reports/facilities", { area: state.scope });
  try {
    return { url: u, data: await api("GET", u) };
  } catch (e) {
    // A server without the report answers 404 (a wrong area would be 422).
    if (e.status === 404) return { url: u, missing: true };
    throw e;
  }
};
RENDER.facilities = () => {
  const c = cache.facilities;
  const body = $("facilities-body");
  $("facilities-missing").hidden = !c.missing;
  body.hidden = !!c.missing;
  if (c.missing) {
    delete body.dataset.source;
    return;
  }
  const r = c.data;
  body.dataset.source = c.url;
  $("facilities-kpis").replaceChildren(
    kpi(t("k_fac_total"), metric("facilities.total", r.total)),
    kpi(t("k_beds_total"), metric("facilities.beds_total", r.beds_total)),
    kpi(t("k_beds_free"), metric("facilities.beds_free", r.beds_free)));
  const p = (k, f) => num(metric(`facilities.by_kind.${k.kind}.${f}`, k[f]));
  $("facilities-table").replaceChildren(table(
    [t("col_kind"), { text: t("col_open"), num: true }, { text: t("col_suspended"), num: true },
      { text: t("col_closed"), num: true }, { text: t("col_beds"), num: true }, { text: t("col_beds_free"), num: true }],
    r.by_kind.map((k) => el("tr", {}, el("th", { scope: "row" }, pick(k, "name") || k.kind),
      p(k, "open"), p(k, "suspended"), p(k, "closed"), p(k, "beds_total"), p(k, "beds_free")))));
  barChart("facilities-chart", r.by_kind.map((k) => pick(k, "name") || k.kind), r.by_kind.map((k) => k.open),
    t("chart_facilities"), t("col_open"));
};

// ---- 3. 15-minute coverage ----

/** Centre points of the areas the map shows: streets (a street without one
 * at the mean of its communities' points) or communities. */
async function areaPoints() {
  if (state.areas) return state.areas;
  const points = new Map();
  const communities = await apiAll("/api/v1/areas?level=community&limit=1000", 20000);
  for (const a of communities) if (a.point) points.set(a.code, { lat: a.point.lat, lon: a.point.lon });
  if (state.scopeLevel !== "community" && state.scopeLevel !== "street") {
    const streets = await apiAll("/api/v1/areas?level=street&limit=1000");
    for (const s of streets) {
      if (s.point) { points.set(s.code, { lat: s.point.lat, lon: s.point.lon }); continue; }
      const mine = communities.filter((a) => a.parent_code === s.code && a.point);
      if (mine.length) {
        points.set(s.code, {
          lat: mine.reduce((x, a) => x + a.point.lat, 0) / mine.length,
          lon: mine.reduce((x, a) => x + a.point.lon, 0) / mine.length, derived: true,
        });
      }
    }
  }
  state.areas = points;
  return points;
}

FETCH.coverage = async () => {
  const level = state.scopeLevel === "street" || state.scopeLevel === "community" ? "community" : "street";
  const u = url("/api/v1/reports/coverage", { service: state.service, minutes: 15, level });
  const [data] = await Promise.all([api("GET", u), areaPoints()]);
  return { url: u, data, level };
};
function binOf(share) {
  if (share === null || share === undefined) return null;
  return BINS.find((b) => share < b.max);
}
function sortedAreas(areas) {
  const { key, dir } = state.sort;
  const v = (a) => (key === "name" ? a.name || a.code : a[key]);
  return [...areas].sort((a, b) => {
    const x = v(a), y = v(b);
    if (x === y) return a.code < b.code ? -1 : 1;
    if (x === null || x === undefined) return 1; // nothing to count: last either way
    if (y === null || y === undefined) return -1;
    return (typeof x === "string" ? x.localeCompare(y, "zh-CN") : x - y) * dir;
  });
}
function sortHeader(key, text, isNum) {
  const on = state.sort.key === key;
  return el("th", { scope: "col", class: isNum ? "num" : null, "aria-sort": on ? (state.sort.dir > 0 ? "ascending" : "descending") : null },
    el("button", { type: "button", class: "sort", id: "sort-" + key, "data-sort": key, "aria-label": t("sort_by", { col: text }),
      onclick: () => {
        state.sort = { key, dir: on ? -state.sort.dir : key === "name" ? 1 : -1 };
        renderCoverageTable();
        const again = document.querySelector(`#coverage-table button[data-sort="${key}"]`);
        if (again) again.focus();
      } },
    text, el("span", { "aria-hidden": "true", class: "arrow" }, on ? (state.sort.dir > 0 ? " ▲" : " ▼") : " ↕")));
}
function renderCoverageTable() {
  const { data: r, level } = cache.coverage;
  const first = level === "street" ? t("col_street") : t("col_community");
  const path = (a, f) => `coverage.areas.${a.code}.${f}`;
  const rows = sortedAreas(r.areas).map((a) => {
    const b = binOf(a.share);
    return el("tr", {},
      el("th", { scope: "row" }, b ? el("span", { class: "swatch", style: `background:${b.colour}`, "aria-hidden": "true" }) : null, a.name || a.code),
      num(metric(path(a, "located"), a.located)), num(metric(path(a, "covered"), a.covered)),
      num(metric(path(a, "share"), a.share, "rate")));
  });
  $("coverage-table").replaceChildren(table(
    [sortHeader("name", first, false), sortHeader("located", t("col_located"), true),
      sortHeader("covered", t("col_covered"), true), sortHeader("share", t("col_share"), true)],
    rows.length ? rows : [emptyRow(4, t("no_data"))], { caption: t("coverage_table_label") }));
}
async function renderCoverageMap() {
  const { data: r } = cache.coverage;
  if (!coverageMap) {
    coverageMap = await districtMap($("coverage-map"));
    circles = window.L.layerGroup().addTo(coverageMap);
  }
  circles.clearLayers();
  const points = state.areas;
  const most = Math.max(1, ...r.areas.map((a) => a.located || 0));
  const missing = [];
  let derived = false;
  const drawn = [];
  for (const a of r.areas) {
    const p = points.get(a.code);
    if (!p) { missing.push(a.name || a.code); continue; }
    if (p.derived) derived = true;
    const b = binOf(a.share);
    const c = window.L.circleMarker([p.lat, p.lon], {
      radius: 4 + 9 * Math.sqrt((a.located || 0) / most), color: "#1a1a1a", weight: 1,
      fillColor: b ? b.colour : "#9aa1ab", fillOpacity: 0.85,
    }).bindTooltip(el("span", {}, `${a.name || a.code}: ${fmtRate(a.share)} (${fmtNumber(a.covered)} / ${fmtNumber(a.located)})`));
    c.addTo(circles);
    drawn.push([p.lat, p.lon]);
  }
  if (drawn.length && (state.scopeLevel === "street" || state.scopeLevel === "community")) {
    coverageMap.fitBounds(drawn, { padding: [24, 24], maxZoom: 15 });
  }
  coverageMap.invalidateSize();
  const legend = $("coverage-legend");
  legend.replaceChildren(
    el("span", { class: "sr-only" }, t("map_label")),
    el("span", { class: "legend-title" }, t("legend_title") + ":"),
    ...BINS.map((b) => el("span", { class: "legend-item" }, el("span", { class: "swatch", style: `background:${b.colour}`, "aria-hidden": "true" }), b.label)),
    el("span", { class: "legend-item" }, el("span", { class: "swatch", style: "background:#9aa1ab", "aria-hidden": "true" }), t("legend_none")));
  if (derived) legend.append(el("p", { class: "small muted" }, t("point_from_communities")));
  if (missing.length) legend.append(el("p", { class: "small muted" }, t("no_point", { names: missing.join("、") })));
}
RENDER.coverage = () => {
  const { url: u, data: r } = cache.coverage;
  $("coverage-body").dataset.source = u;
  const tot = r.total || {};
  $("coverage-kpis").replaceChildren(
    kpi(t("k_share"), metric("coverage.total.share", tot.share, "rate")),
    kpi(t("k_covered"), metric("coverage.total.covered", tot.covered)),
    kpi(t("k_uncovered"), metric("coverage.total.uncovered", tot.uncovered)),
    kpi(t("k_located"), metric("coverage.total.located", tot.located)),
    kpi(t("k_providers"), metric("coverage.facilities", r.facilities)));
  renderCoverageTable();
  renderCoverageMap().catch((e) => showError(e, $("coverage-error")));
};

// ---- 4. cases ----

FETCH.cases = async () => {
  const { from, to } = periodRange(state.period);
  // This month is the API's calendar month, as in the trend.
  const main = state.period === "month" ? url("/api/v1/reports/cases", { from: from.slice(0, 10) })
    : url("/api/v1/reports/cases", { from, to });
  const months = lastMonths(6);
  const trendUrls = months.map((m) => url("/api/v1/reports/cases", { from: m + "-01" }));
  const recurringUrl = url("/api/v1/reports/cases/recurring", { month: months[months.length - 1] });
  const [data, recurring, ...trend] = await Promise.all([
    api("GET", main), api("GET", recurringUrl), ...trendUrls.map((u) => api("GET", u))]);
  return { url: main, data, recurringUrl, recurring, months, trendUrls, trend };
};
function unitName(u) {
  const d = state.departments[u.unit];
  return (d && pick(d, "name")) || u.name || u.unit;
}
function categoryName(item) {
  const c = state.categories[item.category];
  return (c && pick(c, "name")) || item.category_name || item.category;
}
RENDER.cases = () => {
  const c = cache.cases;
  const r = c.data;
  $("cases-body").dataset.source = c.url;
  $("cases-period").textContent = t("period_span", { from: fmtTime(r.from), to: fmtTime(r.to) });
  const tt = r.totals;
  $("cases-kpis").replaceChildren(
    kpi(t("k_received"), metric("cases.totals.received", tt.received)),
    kpi(t("k_response"), metric("cases.totals.response.rate", tt.response.rate, "rate")),
    kpi(t("k_resolution"), metric("cases.totals.resolution.rate", tt.resolution.rate, "rate")),
    kpi(t("k_satisfaction"), metric("cases.totals.satisfaction.rate", tt.satisfaction.rate, "rate")),
    kpi(t("k_reopened"), metric("cases.totals.reopened", tt.reopened)),
    kpi(t("k_score"), metric("cases.totals.score", tt.score, "rate")));
  $("cases-ranking").textContent = t("ranking_note");
  const units = state.showAllUnits ? r.units : r.units.slice(0, TOP_UNITS);
  const p = (u, f) => `cases.units.${u.unit}.${f}`;
  const rows = units.map((u) => el("tr", {},
    num(u.rank === null ? "—" : metric(p(u, "rank"), u.rank)),
    el("th", { scope: "row" }, unitName(u)),
    num(metric(p(u, "received"), u.received)),
    num(metric(p(u, "response.rate"), u.response.rate, "rate")),
    num(metric(p(u, "resolution.rate"), u.resolution.rate, "rate")),
    num(metric(p(u, "satisfaction.rate"), u.satisfaction.rate, "rate")),
    num(metric(p(u, "score"), u.score, "rate"))));
  const box = $("cases-table");
  box.replaceChildren(table(
    [{ text: t("col_rank"), num: true }, t("col_unit"), { text: t("col_received"), num: true },
      { text: t("k_response"), num: true }, { text: t("k_resolution"), num: true },
      { text: t("k_satisfaction"), num: true }, { text: t("k_score"), num: true }],
    rows.length ? rows : [emptyRow(7, t("no_cases"))]));
  const more = $("cases-units-more");
  more.replaceChildren();
  if (r.units.length > TOP_UNITS) {
    more.append(el("button", { type: "button", class: "secondary", id: "units-toggle",
      "aria-expanded": state.showAllUnits ? "true" : "false",
      onclick: () => { state.showAllUnits = !state.showAllUnits; RENDER.cases(); $("units-toggle").focus(); } },
    state.showAllUnits ? t("show_top_units", { n: TOP_UNITS }) : t("show_all_units", { n: r.units.length })));
  }
  // The trend: one report per month, each row keeping where it came from.
  const rate = (m, f) => m.totals[f].rate;
  $("cases-trend-table").replaceChildren(table(
    [t("col_month"), { text: t("col_received"), num: true }, { text: t("col_response"), num: true },
      { text: t("col_resolution"), num: true }, { text: t("col_satisfaction"), num: true }],
    c.trend.map((m, i) => el("tr", { "data-source": c.trendUrls[i] },
      el("th", { scope: "row" }, c.months[i]),
      num(metric("cases.totals.received", m.totals.received)),
      num(metric("cases.totals.response.rate", rate(m, "response"), "rate")),
      num(metric("cases.totals.resolution.rate", rate(m, "resolution"), "rate")),
      num(metric("cases.totals.satisfaction.rate", rate(m, "satisfaction"), "rate"))))));
  const o = baseOption(t("chart_cases"));
  o.tooltip = { trigger: "axis", renderMode: "richText", valueFormatter: (v) => fmtRate(v === undefined || v === null ? null : v / 100) };
  o.legend = { top: 0, textStyle: { fontSize: fontPx() } };
  o.grid.top = 40;
  o.xAxis = { type: "category", data: c.months, axisLabel: { fontSize: fontPx() } };
  o.yAxis = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", fontSize: fontPx() } };
  const line = (key, name, symbol, type) => ({
    type: "line", name, symbol, symbolSize: 9, lineStyle: { type, width: 2 }, connectNulls: false,
    data: c.trend.map((m) => (rate(m, key) === null ? null : Math.round(rate(m, key) * 1000) / 10)),
  });
  o.series = [line("response", t("k_response"), "circle", "solid"), line("resolution", t("k_resolution"), "rect", "dashed"),
    line("satisfaction", t("k_satisfaction"), "triangle", "dotted")];
  chart("cases-chart").setOption(o, true);
  // The month's recurring problems.
  const rec = c.recurring;
  const q = (it, f) => `recurring.items.${it.rank}.${f}`;
  const recBox = $("cases-recurring");
  recBox.dataset.source = c.recurringUrl;
  recBox.replaceChildren(table(
    [{ text: t("col_rank"), num: true }, t("col_category"), t("col_community"), { text: t("col_count"), num: true },
      { text: t("col_previous"), num: true }, { text: t("col_change"), num: true }],
    rec.items.length ? rec.items.map((it) => el("tr", {},
      num(metric(q(it, "rank"), it.rank)), el("td", {}, categoryName(it)), el("td", {}, it.area_name || it.area_code),
      num(metric(q(it, "count"), it.count)), num(metric(q(it, "previous"), it.previous)),
      num(metric(q(it, "change"), it.change)))) : [emptyRow(6, t("no_recurring"))]));
};

// ---- 5. social-work stations ----

FETCH.stations = async () => {
  const street = state.scopeLevel === "street" ? state.scope.slice(0, 9) : null;
  const u = url("/api/v1/reports/station-coverage", { street });
  return { url: u, data: await api("GET", u), street };
};
RENDER.stations = () => {
  const { url: u, data: r, street } = cache.stations;
  $("stations-body").dataset.source = u;
  const tt = r.totals;
  $("stations-kpis").replaceChildren(
    kpi(t("k_street_cov"), metric("stations.totals.street_coverage", tt.street_coverage, "rate")),
    kpi(t("k_streets_with"), metric("stations.totals.streets_with_centre", tt.streets_with_centre), " / ",
      metric("stations.totals.streets", tt.streets)),
    kpi(t("k_comm_cov"), metric("stations.totals.coverage", tt.coverage, "rate")),
    kpi(t("k_comm_served"), metric("stations.totals.communities_served", tt.communities_served), " / ",
      metric("stations.totals.communities", tt.communities)),
    el("div", { class: "kpi" }, el("div", { class: "value met" },
      el("span", { class: "badge " + (r.met ? "ok" : "warn") }, r.met ? "✓ " + t("met_yes") : "✗ " + t("met_no")))));
  const yn = (b) => el("span", { class: "badge " + (b ? "ok" : "bad") }, b ? "✓ " + t("yes") : "✗ " + t("no"));
  let tbl;
  if (street && r.streets.length) {
    const s = r.streets[0];
    tbl = table([t("col_community"), t("col_station")],
      (s.communities || []).map((cm) => el("tr", {}, el("th", { scope: "row" }, cm.name || cm.code), el("td", {}, yn(cm.served)))));
  } else {
    const p = (s, f) => `stations.streets.${s.code}.${f}`;
    tbl = table([t("col_street"), t("col_centre"), { text: t("col_served"), num: true }, { text: t("col_coverage"), num: true }],
      r.streets.map((s) => el("tr", {}, el("th", { scope: "row" }, s.name || s.code), el("td", {}, yn(s.has_centre)),
        num(metric(p(s, "communities_served"), s.communities_served), " / ", metric(p(s, "communities_total"), s.communities_total)),
        num(metric(p(s, "coverage"), s.coverage, "rate")))));
  }
  $("stations-table").replaceChildren(tbl);
  const o = baseOption(t("chart_stations"));
  o.tooltip = { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText", valueFormatter: (v) => (v === null ? "—" : v + "%") };
  o.xAxis = { type: "category", data: [t("s_streets"), t("s_communities")], axisLabel: { fontSize: fontPx() } };
  o.yAxis = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%", fontSize: fontPx() } };
  const pct = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);
  o.series = [{
    type: "bar", name: t("col_coverage"), barMaxWidth: 80,
    data: [pct(tt.street_coverage), pct(tt.coverage)],
    label: { show: true, position: "top", fontSize: fontPx(), formatter: (x) => (x.value === null ? "—" : x.value + "%") },
    markLine: { silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#a40000" },
      label: { position: "insideEndTop", formatter: t("target") + " 100%", fontSize: fontPx() }, data: [{ yAxis: 100 }] },
  }];
  chart("stations-chart").setOption(o, true);
};

// ---- 6. community sizes ----

FETCH.sizes = async () => {
  const street = state.scopeLevel === "street" ? state.scope.slice(0, 9) : null;
  const u = url("/api/v1/reports/oversized-communities", { street });
  return { url: u, data: await api("GET", u) };
};
RENDER.sizes = () => {
  const { url: u, data: r } = cache.sizes;
  $("sizes-body").dataset.source = u;
  const n = fmtNumber(r.threshold);
  $("sizes-kpis").replaceChildren(
    kpi(t("k_oversized", { n }), metric("oversized.count", r.count), " / ",
      metric("oversized.communities_total", r.communities_total)),
    kpi(t("k_unknown_households"), metric("oversized.unknown_households", r.unknown_households)));
  const p = (it, f) => `oversized.items.${it.code}.${f}`;
  $("sizes-table").replaceChildren(table(
    [t("col_community"), t("col_street"), { text: t("col_households"), num: true },
      { text: t("col_residents"), num: true }, { text: t("col_elderly"), num: true }],
    r.items.length ? r.items.map((it) => el("tr", {}, el("th", { scope: "row" }, it.name || it.code),
      el("td", {}, (it.street && (it.street.name || it.street.code)) || ""),
      num(metric(p(it, "households"), it.households)), num(metric(p(it, "residents"), it.residents)),
      num(metric(p(it, "elderly"), it.elderly)))) : [emptyRow(5, t("no_oversized", { n }))],
    { caption: t("h_sizes") }));
};

// ---- the page ----

function paintStatic() {
  const sel = $("service");
  const keep = state.service;
  if (state.services.length) {
    sel.replaceChildren(...state.services.map((s) => el("option", { value: s.code }, pick(s, "name") || s.code)));
    sel.value = keep;
  }
}
function rerenderAll() {
  paintStatic();
  for (const name of PANELS) if (cache[name]) RENDER[name]();
  const badge = $("live-state");
  if (badge.dataset.i18n) badge.textContent = t(badge.dataset.i18n);
  paintScope();
  paintUpdated();
}
let scopeName = null;
function paintUpdated() {
  $("updated-at").textContent = state.updatedAt ? t("updated_at", { time: clock(state.updatedAt) }) : "";
}
function paintScope() {
  $("scope-line").textContent = state.scope ? t("scope_of", { name: scopeName || state.scope }) : t("scope_all");
}
function levelOf(code) {
  if (!code) return null;
  if (code.endsWith("000000")) return "district";
  if (code.endsWith("000")) return "street";
  return "community";
}

async function main() {
  startPage();
  const s = await requireLogin(["district", "admin", "street", "auditor"]);
  state.user = s.user;
  state.scope = s.user.scope || null;
  state.scopeLevel = levelOf(state.scope);
  paintScope();
  if (state.scope) {
    api("GET", "/api/v1/areas/" + state.scope).then((a) => { scopeName = a.name; paintScope(); }).catch(() => {});
  }
  // Labels of the things the reports name by code (public lists).
  const [services, categories, departments] = await Promise.all([
    api("GET", "/api/v1/services").catch(() => ({ items: [] })),
    api("GET", "/api/v1/case-categories?all=true").catch(() => ({ items: [] })),
    api("GET", "/api/v1/units?kind=department").catch(() => ({ items: [] })),
  ]);
  state.services = services.items || [];
  for (const c of categories.items || []) state.categories[c.code] = c;
  for (const d of departments.items || []) state.departments[d.code] = d;
  paintStatic();

  $("period").addEventListener("change", (e) => {
    state.period = e.target.value;
    Promise.all([load("hotline"), load("cases")]).then((ok) => { if (ok.every(Boolean)) announce(t("updated_after_change"), "ok"); });
  });
  $("service").addEventListener("change", (e) => {
    state.service = e.target.value;
    load("coverage").then((ok) => { if (ok) announce(t("updated_after_change"), "ok"); });
  });
  await Promise.all(PANELS.map((p) => load(p)));
  $("dash-loading").hidden = true;
  document.body.dataset.loaded = "true";

  stream("/api/v1/events", onEvent, onStreamState);
  setInterval(() => schedule("facilities"), POLL_MS);
  setInterval(() => schedule("hotline"), HOTLINE_SAFETY_MS);
  onLangChange(rerenderAll);
  // Charts draw in pixels: follow the window and the large-text switch.
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  new MutationObserver(() => {
    for (const name of PANELS) if (cache[name]) RENDER[name]();
    Object.values(charts).forEach((c) => c.resize());
    if (coverageMap) coverageMap.invalidateSize();
  }).observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
}

main().catch((e) => showError(e, $("dash-loading")));
