// finder.js - the public service finder: where (a street and community, or
// the browser's location), what (a service from the catalogue, the walk, a
// price limit, open now), the places found as large cards and on a map, and
// "match for me": a personal ranking with the price after subsidy.
//
// No login: every call here is to a public route and is sent without a token.
import {
  addStrings, api, ApiError, el, t, pick, applyI18n, onLangChange, currentLang,
  announce, showError, startPage, fmtMoney, districtMap,
} from "./linli.js";

addStrings({
  zh: {
    finder_title: "邻里 · 找服务", finder_heading: "找身边的养老服务",
    finder_lead: "选好地方和想要的服务，就能看到走路能到的地方、营业时间和价格。不用登录。",
    where_heading: "在哪里", street: "街道（乡）", community: "社区（村）", or: "或者",
    choose_street: "请选择街道", choose_community: "请选择社区", choose_street_first: "请先选择街道",
    use_location: "用我现在的位置", locating: "正在获取您的位置，请稍候…",
    where_hint: "位置只在这台设备上记住，不会上传保存。",
    no_point_suffix: "（未登记位置）",
    origin_area: "出发地：{street} · {community}", origin_geo: "出发地：您现在的位置（误差约 {m} 米）",
    origin_geo_plain: "出发地：您上次用的位置",
    geo_denied: "没能读取您的位置：浏览器没有得到允许。没关系，请在上面选择街道和社区；如果想用定位，可以在浏览器设置里允许本网站读取位置后再试。",
    geo_unavailable: "暂时读不到您的位置（可能在室内或信号不好）。请稍后再试，或在上面选择街道和社区。",
    geo_timeout: "读取位置用时太长，没有成功。请再试一次，或在上面选择街道和社区。",
    geo_unsupported: "这个浏览器不能提供位置。请在上面选择街道和社区。",
    geo_far: "您现在的位置不在本区附近，只能查找本区的服务。请在上面选择街道和社区。",
    where_missing: "请先在第 1 步选择街道和社区，或点「用我现在的位置」。",
    community_no_point_street: "这个社区还没有登记中心位置，先按所在街道的中心查找，走路时间只是大概。",
    community_no_point: "这个社区和所在街道都还没有登记位置，暂时不能按它查找。请点「用我现在的位置」，或选附近的社区。",
    areas_failed: "街道和社区的名单没有加载成功：",
    services_failed: "服务项目没有加载成功：",
    what_heading: "找什么", need: "需要的服务", any_service: "所有服务", walk_limit: "最远走多久",
    n_minutes: "{n} 分钟", max_price: "最高价格（元，可不填）", only_open: "只看现在营业的",
    search_go: "查找", searching: "正在查找…",
    price_not_number: "最高价格请填数字，比如 20 或 15.5（最多两位小数）。",
    price_needs_service: "按价格筛选，要先在「需要的服务」里选一项服务。",
    summary_service: "步行 {m} 分钟内有 {n} 家提供「{service}」的地方",
    summary_any: "步行 {m} 分钟内有 {n} 家养老服务场所",
    summary_service_zero: "步行 {m} 分钟内没有提供「{service}」的地方",
    summary_any_zero: "步行 {m} 分钟内没有养老服务场所",
    summary_open: "（现在营业）", summary_price: "（{price} 元以内）",
    results_more: "只列出最近的 {n} 家。", results_from: "从{origin}出发。",
    empty_text: "步行 {m} 分钟内没有找到。可以走远一点看看，或者换一项服务。",
    empty_text_max: "步行 {m} 分钟内没有找到。可以换一项服务，或者不限营业时间和价格再试。",
    widen: "扩大到步行 {m} 分钟",
    walk_about: "步行约 {m} 分钟", distance: "直线 {d}", km: "{n} 公里", m: "{n} 米",
    today: "今天", today_closed: "今天不营业", today_closure: "今天休息（{reason}）",
    hours_24: "全天", open_badge: "营业中", closed_badge: "现在未营业", suspended_badge: "暂停服务",
    price: "价格", price_line: "{price}/{unit}", pay_all: "优惠后 {pay}/{unit}（人人可享）", pay_all_free: "优惠后免费（人人可享）",
    subsidies: "补贴", subsidy_hint: "用下面的「为我匹配」可以算出您自己要付多少。",
    serves_age: "{n} 岁以上可用", services_offered: "服务", phone: "电话", address: "地址",
    beds: "床位", beds_free: "空床 {free} / 共 {total} 张",
    show_on_map: "在地图上看", map_label: "地图：出发地和找到的地方",
    map_hint: "地图上的数字和列表的序号一一对应；点数字可看详情。",
    map_origin: "出发地", map_failed: "地图没有加载出来，列表仍然可用。",
    shown_on_map: "已在地图上标出：{name}", picked_on_map: "第 {n} 家：{name}",
    unit_meal: "餐", unit_hour: "小时", unit_visit: "次", unit_day: "天", unit_month: "月",
    kind_institution: "养老机构", kind_station: "养老驿站", kind_dining_table: "老年餐桌",
    kind_regional_centre: "区域养老服务中心", kind_family_bed_provider: "家庭养老照护床位",
    kind_health_centre: "社区卫生服务中心（站）", kind_provider: "服务商",
    match_heading: "为我匹配",
    match_lead: "填一填老人的情况，算出每项服务去哪里最合适、补贴后要付多少钱。这些信息不会保存。",
    age: "年龄（岁）", care_level: "身体状况", not_sure: "不清楚 / 不填",
    care_self_care: "能自理", care_partly_dependent: "半失能（部分需要照顾）",
    care_dependent: "失能（需要全面照顾）",
    subsidy_class: "补贴身份", class_none: "没有 / 不清楚", class_dibao: "低保", class_tekun: "特困",
    class_low_income: "低收入", class_shidu: "失独", class_youfu: "优抚对象", class_other: "其他",
    living_alone: "独自居住", budget: "每次最多能付（元，可不填）",
    budget_hint: "按每餐、每次、每小时、每天或每月的价格算。",
    needs: "需要哪些服务（可不选）", needs_hint: "不选时，按年龄和身体状况推荐常用的服务。",
    match_where: "出发地用上面第 1 步选的位置。", match_go: "为我匹配", matching: "正在匹配…",
    age_bad: "年龄请填 0 到 130 之间的整数，不知道可以不填。",
    budget_bad: "预算请填数字，比如 20 或 15.5（最多两位小数）。",
    needs_required: "60 岁以下、能自理又不独居时，请至少勾选一项需要的服务。",
    match_summary: "为您查了 {n} 项服务",
    match_need_count: "{n} 家可选", match_need_none: "步行 {m} 分钟内没有找到提供这项服务的地方。",
    you_pay: "您付 {pay}/{unit}", you_pay_free: "您免费", free: "免费", list_price: "原价 {price}/{unit}",
    list_free: "本来就免费",
    by_rule: "按「{rule}」", no_rule: "没有适用的补贴",
    eligible_yes: "符合条件", eligible_no: "不符合服务条件", no_bed: "床位已满", over_budget: "超出预算",
    why: "说明", rank: "第 {n}",
  },
  en: {
    finder_title: "Linli · Find services", finder_heading: "Find elderly services near you",
    finder_lead: "Choose a place and a service to see what is within walking distance, when it is open and what it costs. No login needed.",
    where_heading: "Where", street: "Street / township", community: "Community / village", or: "or",
    choose_street: "Choose a street", choose_community: "Choose a community", choose_street_first: "Choose a street first",
    use_location: "Use my location", locating: "Finding your location, one moment…",
    where_hint: "Your place is remembered on this device only; it is not stored anywhere else.",
    no_point_suffix: " (location not on record)",
    origin_area: "Starting from: {street} · {community}", origin_geo: "Starting from: where you are now (within about {m} m)",
    origin_geo_plain: "Starting from: the location you used last time",
    geo_denied: "We could not read your location because the browser was not allowed to. That is fine: choose your street and community above, or allow this site to use your location in the browser settings and try again.",
    geo_unavailable: "Your location cannot be read right now (perhaps indoors or a weak signal). Try again later, or choose your street and community above.",
    geo_timeout: "Reading your location took too long. Try once more, or choose your street and community above.",
    geo_unsupported: "This browser cannot give a location. Please choose your street and community above.",
    geo_far: "You are not near this district, and only its services are listed. Please choose a street and community above.",
    where_missing: "First choose a street and community in step 1, or press \"Use my location\".",
    community_no_point_street: "This community's centre is not on record yet, so the search starts from its street's centre; walking times are approximate.",
    community_no_point: "Neither this community nor its street has a location on record, so it cannot be searched from yet. Press \"Use my location\" or choose a neighbouring community.",
    areas_failed: "The list of streets and communities did not load: ",
    services_failed: "The list of services did not load: ",
    what_heading: "What", need: "Service needed", any_service: "All services", walk_limit: "Longest walk",
    n_minutes: "{n} minutes", max_price: "Highest price (yuan, optional)", only_open: "Open now only",
    search_go: "Search", searching: "Searching…",
    price_not_number: "Enter the highest price as a number, such as 20 or 15.5 (at most two decimals).",
    price_needs_service: "To filter by price, first choose one service under \"Service needed\".",
    summary_service: "{n} places offering \"{service}\" within a {m}-minute walk",
    summary_any: "{n} elderly service places within a {m}-minute walk",
    summary_service_one: "1 place offering \"{service}\" within a {m}-minute walk",
    summary_any_one: "1 elderly service place within a {m}-minute walk",
    summary_service_zero: "No place offering \"{service}\" within a {m}-minute walk",
    summary_any_zero: "No elderly service place within a {m}-minute walk",
    summary_open: " (open now)", summary_price: " (at most {price} yuan)",
    results_more: "Only the nearest {n} are listed.", results_from: "{origin}.",
    empty_text: "Nothing found within a {m}-minute walk. Try walking a little further, or another service.",
    empty_text_max: "Nothing found within a {m}-minute walk. Try another service, or search without the opening-time and price limits.",
    widen: "Widen to a {m}-minute walk",
    walk_about: "About {m} min walk", distance: "{d} in a straight line", km: "{n} km", m: "{n} m",
    today: "Today", today_closed: "Closed today", today_closure: "Closed today ({reason})",
    hours_24: "all day", open_badge: "Open now", closed_badge: "Closed now", suspended_badge: "Suspended",
    price: "Price", price_line: "{price} per {unit}", pay_all: "{pay} per {unit} after the discount everyone gets",
    pay_all_free: "free after the discount everyone gets",
    subsidies: "Subsidies", subsidy_hint: "Use \"Match for me\" below to see what you would pay.",
    serves_age: "For people aged {n}+", services_offered: "Services", phone: "Phone", address: "Address",
    beds: "Beds", beds_free: "{free} free of {total}",
    show_on_map: "Show on map", map_label: "Map: the starting point and the places found",
    map_hint: "The numbers on the map match the list; select a number for details.",
    map_origin: "Starting point", map_failed: "The map could not be shown; the list still works.",
    shown_on_map: "Shown on the map: {name}", picked_on_map: "Place {n}: {name}",
    unit_meal: "meal", unit_hour: "hour", unit_visit: "visit", unit_day: "day", unit_month: "month",
    kind_institution: "Care home", kind_station: "Elderly care station", kind_dining_table: "Dining table",
    kind_regional_centre: "Regional elderly service centre", kind_family_bed_provider: "Family care beds",
    kind_health_centre: "Community health centre", kind_provider: "Service provider",
    match_heading: "Match for me",
    match_lead: "Tell us about the older person to see, for each service, the best places and what they would pay after subsidy. Nothing is stored.",
    age: "Age (years)", care_level: "Health and care needs", not_sure: "Not sure / leave out",
    care_self_care: "Manages on their own", care_partly_dependent: "Needs some care (partly dependent)",
    care_dependent: "Needs full care (dependent)",
    subsidy_class: "Subsidy status", class_none: "None / not sure", class_dibao: "Minimum living allowance (dibao)",
    class_tekun: "Extreme hardship (tekun)", class_low_income: "Low income", class_shidu: "Lost their only child (shidu)",
    class_youfu: "Veteran or family of one (youfu)", class_other: "Other",
    living_alone: "Lives alone", budget: "Most they can pay each time (yuan, optional)",
    budget_hint: "Per meal, visit, hour, day or month, as the service is priced.",
    needs: "Services needed (optional)", needs_hint: "With none ticked, the usual services for the age and care needs are suggested.",
    match_where: "The starting point is the place chosen in step 1.", match_go: "Match for me", matching: "Matching…",
    age_bad: "Enter the age as a whole number from 0 to 130, or leave it empty if unknown.",
    budget_bad: "Enter the budget as a number, such as 20 or 15.5 (at most two decimals).",
    needs_required: "For someone under 60 who manages alone and does not live alone, tick at least one service.",
    match_summary: "Results for {n} services", match_summary_one: "Results for 1 service",
    match_need_count: "{n} to choose from", match_need_none: "No place offers this within a {m}-minute walk.",
    you_pay: "You pay {pay} per {unit}", you_pay_free: "Free for you", free: "free",
    list_price: "Full price {price} per {unit}", list_free: "free for everyone",
    by_rule: "under \"{rule}\"", no_rule: "no subsidy applies",
    eligible_yes: "Eligible", eligible_no: "Not eligible", no_bed: "No free bed", over_budget: "Over budget",
    why: "Why", rank: "No. {n}",
  },
});

const WHERE_KEY = "linli.finder.where";
const WIDER = { 5: 10, 10: 15, 15: 20, 20: 30 };
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const MONEY = /^\d{1,7}(\.\d{1,2})?$/;

const $ = (id) => document.getElementById(id);
const pub = (method, path, body) => api(method, path, body, { anonymous: true });

const state = {
  services: [],            // the catalogue
  streets: [],             // streets of the district
  communities: new Map(),  // street code -> its communities
  where: null,             // {mode: "area", street, community} | {mode: "geo", lat, lon, accuracy}
  search: null,            // {query, answer, service, minutes, onlyOpen, maxPrice, originText}
  match: null,             // {body, answer}
  map: null, layer: null, markers: new Map(), current: null,
};

// ---- where ----

function loadWhere() {
  try {
    const w = JSON.parse(localStorage.getItem(WHERE_KEY) || "null");
    if (w && w.mode === "area" && /^\d{12}$/.test(w.street || "")) return w;
    if (w && w.mode === "geo" && Number.isFinite(w.lat) && Number.isFinite(w.lon)) return w;
  } catch { /* ignore a damaged entry */ }
  return null;
}

function saveWhere() {
  if (!state.where) return;
  const { accuracy, ...kept } = state.where; // "now" is only true of this visit
  localStorage.setItem(WHERE_KEY, JSON.stringify(kept));
}

function findStreet(code) { return state.streets.find((s) => s.code === code) || null; }
function findCommunity(street, code) {
  return (state.communities.get(street) || []).find((c) => c.code === code) || null;
}

function hideWhereMessages() {
  $("where-error").hidden = true;
  $("where-note").hidden = true;
}

function paintOrigin() {
  const line = $("origin-line");
  const w = state.where;
  line.textContent = "";
  if (w && w.mode === "area" && w.community) {
    const s = findStreet(w.street), c = findCommunity(w.street, w.community);
    if (s && c) line.textContent = t("origin_area", { street: s.name, community: c.name });
  } else if (w && w.mode === "geo") {
    line.textContent = w.accuracy ? t("origin_geo", { m: Math.round(w.accuracy) }) : t("origin_geo_plain");
  }
  line.hidden = !line.textContent;
}

function paintStreets() {
  const sel = $("street");
  const chosen = state.where && state.where.mode === "area" ? state.where.street : "";
  sel.replaceChildren(el("option", { value: "" }, t("choose_street")),
    ...state.streets.map((s) => el("option", { value: s.code, selected: s.code === chosen }, s.name)));
}

function paintCommunities() {
  const sel = $("community");
  const street = $("street").value;
  const list = street ? state.communities.get(street) : null;
  if (!street || !list) {
    sel.replaceChildren(el("option", { value: "" }, t("choose_street_first")));
    sel.disabled = true;
    return;
  }
  const chosen = state.where && state.where.mode === "area" ? state.where.community : "";
  sel.replaceChildren(el("option", { value: "" }, t("choose_community")),
    ...list.map((c) => el("option", { value: c.code, selected: c.code === chosen },
      c.name + (c.point ? "" : t("no_point_suffix")))));
  sel.disabled = false;
}

async function loadCommunities(street) {
  if (state.communities.has(street)) return;
  const page = await pub("GET", "/api/v1/areas?parent=" + street + "&level=community&limit=1000");
  state.communities.set(street, page.items || []);
}

async function loadAreas() {
  try {
    const page = await pub("GET", "/api/v1/areas?level=street&limit=1000");
    state.streets = page.items || [];
    paintStreets();
    const w = state.where;
    if (w && w.mode === "area" && findStreet(w.street)) {
      await loadCommunities(w.street);
      paintCommunities();
    }
    paintOrigin();
  } catch (e) {
    $("street").replaceChildren(el("option", { value: "" }, "—"));
    showError(t("areas_failed") + (e instanceof ApiError ? e.explain() : String(e)), $("where-error"));
  }
}

$("street").addEventListener("change", async () => {
  hideWhereMessages();
  const street = $("street").value;
  state.where = street ? { mode: "area", street, community: "" } : null;
  paintCommunities();
  paintOrigin();
  if (!street) return;
  try {
    await loadCommunities(street);
    if ($("street").value === street) paintCommunities();
  } catch (e) {
    showError(t("areas_failed") + e.explain(), $("where-error"));
  }
});

$("community").addEventListener("change", () => {
  hideWhereMessages();
  const street = $("street").value, community = $("community").value;
  state.where = street ? { mode: "area", street, community } : null;
  if (community) saveWhere();
  paintOrigin();
});

$("use-location").addEventListener("click", () => {
  hideWhereMessages();
  if (!navigator.geolocation) { showError(t("geo_unsupported"), $("where-error")); return; }
  const btn = $("use-location");
  btn.disabled = true;
  announce(t("locating"));
  navigator.geolocation.getCurrentPosition((pos) => {
    btn.disabled = false;
    state.where = { mode: "geo", lat: +pos.coords.latitude.toFixed(6), lon: +pos.coords.longitude.toFixed(6),
      accuracy: pos.coords.accuracy || null };
    saveWhere();
    $("street").value = "";
    paintCommunities();
    paintOrigin();
    runSearch();
  }, (err) => {
    btn.disabled = false;
    const key = err.code === 1 ? "geo_denied" : err.code === 3 ? "geo_timeout" : "geo_unavailable";
    showError(t(key), $("where-error"));
    announce(t(key), "error");
  }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 120000 });
});

/** The origin as search parameters and match fields, or an error message
 * for the person. A community without a point on record falls back to its
 * street's point, with a note. */
function origin() {
  const w = state.where;
  if (w && w.mode === "geo") {
    return { query: { near: w.lat + "," + w.lon }, body: { near: { lat: w.lat, lon: w.lon } }, note: null };
  }
  if (!w || w.mode !== "area" || !w.community) return { error: t("where_missing") };
  const c = findCommunity(w.street, w.community);
  if (!c) return { error: t("where_missing") };
  if (c.point) return { query: { community: c.code }, body: { community: c.code }, note: null };
  const s = findStreet(w.street);
  if (s && s.point) {
    return { query: { near: s.point.lat + "," + s.point.lon }, body: { near: { lat: s.point.lat, lon: s.point.lon } },
      note: t("community_no_point_street") };
  }
  return { error: t("community_no_point") };
}

/** Whether the API's refusal is about the starting point (so it is shown
 * in step 1 rather than by the search button). */
function aboutOrigin(e) {
  return e instanceof ApiError && e.status === 422 && e.errors.some((f) => f.field === "near" || f.field === "community");
}

// ---- what ----

function paintServices() {
  const sel = $("service");
  const chosen = sel.value;
  sel.replaceChildren(el("option", { value: "" }, t("any_service")),
    ...state.services.map((s) => el("option", { value: s.code, selected: s.code === chosen }, pick(s, "name"))));
  const box = $("m-needs");
  const ticked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
  box.replaceChildren(...state.services.map((s) =>
    el("label", { class: "check", for: "need-" + s.code },
      el("input", { type: "checkbox", id: "need-" + s.code, value: s.code, checked: ticked.has(s.code) }),
      pick(s, "name"))));
}

function paintMinuteOptions() {
  for (const sel of [$("minutes"), $("m-minutes")])
    for (const o of sel.options) o.textContent = t("n_minutes", { n: o.value });
}

async function loadServices() {
  try {
    const items = [];
    let cursor = null;
    do {
      const page = await pub("GET", "/api/v1/services" + (cursor ? "?cursor=" + encodeURIComponent(cursor) : ""));
      items.push(...(page.items || []));
      cursor = page.next_cursor;
    } while (cursor && items.length < 500);
    state.services = items;
    paintServices();
  } catch (e) {
    showError(t("services_failed") + (e instanceof ApiError ? e.explain() : String(e)), $("search-error"));
  }
}

/** t() with a wording for none (key_zero, where there is one) and an
 * English singular (key_one). */
function tn(key, vars) {
  if (vars.n === 0 && t(key + "_zero") !== key + "_zero") return t(key + "_zero", vars);
  return vars.n === 1 && currentLang() === "en" ? t(key + "_one", vars) : t(key, vars);
}

function serviceDef(code) { return state.services.find((s) => s.code === code) || null; }
function serviceName(code) { const s = serviceDef(code); return s ? pick(s, "name") : code; }
function unitName(unit) { return t("unit_" + unit); }
function kindName(kind) { return t("kind_" + kind); }

function fieldError(input, box, msg) {
  box.textContent = msg;
  box.hidden = !msg;
  input.setAttribute("aria-invalid", msg ? "true" : "false");
}

// ---- the search ----

$("search").addEventListener("submit", (ev) => { ev.preventDefault(); runSearch(); });

async function runSearch() {
  const err = $("search-error");
  err.hidden = true;
  $("where-error").hidden = true;
  const service = $("service").value;
  const minutes = Number($("minutes").value);
  const onlyOpen = $("only-open").checked;
  const priceText = $("max-price").value.trim().replace(/[元¥￥\s]/g, "");
  const priceInput = $("max-price"), priceErr = $("max-price-error");
  fieldError(priceInput, priceErr, "");
  if (priceText && !MONEY.test(priceText)) {
    fieldError(priceInput, priceErr, t("price_not_number"));
    priceInput.focus();
    announce(t("price_not_number"), "error");
    return;
  }
  if (priceText && !service) {
    fieldError(priceInput, priceErr, t("price_needs_service"));
    $("service").focus();
    announce(t("price_needs_service"), "error");
    return;
  }
  const o = origin();
  if (o.error) {
    showError(o.error, $("where-error"));
    announce(o.error, "error");
    $("street").focus();
    return;
  }
  $("where-note").hidden = !o.note;
  if (o.note) $("where-note").textContent = o.note;

  const q = new URLSearchParams(o.query);
  q.set("minutes", String(minutes));
  if (service) q.set("service", service);
  if (priceText) q.set("max_price", priceText);
  if (onlyOpen) q.set("only_open", "true");
  q.set("limit", "50");
  const go = $("search-go");
  go.disabled = true;
  // Busy until the list and the map are both drawn: screen readers wait, and
  // so can anyone checking that the two agree.
  $("results").setAttribute("aria-busy", "true");
  announce(t("searching"));
  try {
    const answer = await pub("GET", "/api/v1/facilities?" + q.toString());
    state.search = { answer, service, minutes, onlyOpen, maxPrice: priceText || null, limit: 50 };
    await paintResults(true);
  } catch (e) {
    if (aboutOrigin(e)) {
      const msg = state.where && state.where.mode === "geo" ? t("geo_far") + " (" + e.explain() + ")" : e.explain();
      showError(msg, $("where-error"));
    } else showError(e, err);
    announce(e instanceof ApiError ? e.explain() : String(e), "error");
  } finally {
    go.disabled = false;
    $("results").setAttribute("aria-busy", "false");
  }
}

/** The weekday and date at the answer's open_at, in Beijing time. */
function dayAt(iso) {
  const d = iso ? new Date(iso) : new Date();
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", weekday: "short",
  }).formatToParts(d).map((p) => [p.type, p.value]));
  const day = DAYS[["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(parts.weekday)];
  return { day, date: `${parts.year}-${parts.month}-${parts.day}` };
}

function todayText(f, when) {
  const closure = (f.closures || []).find((c) => c.from <= when.date && when.date <= c.to);
  if (closure) return t("today_closure", { reason: closure.reason || "—" });
  const spans = (f.hours && f.hours[when.day]) || [];
  if (!spans.length) return t("today_closed");
  if (spans.length === 1 && spans[0] === "00:00-24:00") return t("hours_24");
  return spans.join(currentLang() === "zh" ? "，" : ", ");
}

function distanceText(m) {
  return t("distance", { d: m >= 1000 ? t("km", { n: (m / 1000).toFixed(1) }) : t("m", { n: m }) });
}

/** Whole walking minutes as the search ranks them (rounded up). */
function walkWhole(w) { return Math.max(1, Math.ceil(w)); }

function openBadge(f) {
  if (f.status === "suspended") return el("span", { class: "badge bad" }, "⏸ ", t("suspended_badge"));
  return f.open ? el("span", { class: "badge ok" }, "✓ ", t("open_badge"))
    : el("span", { class: "badge warn" }, "✕ ", t("closed_badge"));
}


function hitCard(f, i, s, when) {
  const svc = s.service ? (f.services || []).find((x) => x.code === s.service) : null;
  const facts = [];
  facts.push(el("dt", {}, t("today")), el("dd", { class: "today" }, todayText(f, when)));
  if (svc) {
    const unit = unitName(f.unit || svc.unit);
    const price = f.price ?? svc.price;
    const lines = [el("strong", { class: "price" },
      price === 0 ? t("free") : t("price_line", { price: fmtMoney(price), unit }))];
    if (f.pay !== undefined && f.pay !== null && f.pay < price)
      lines.push(el("br"), el("span", { class: "pay-all" },
        f.pay === 0 ? t("pay_all_free") : t("pay_all", { pay: fmtMoney(f.pay), unit })));
    if (svc.age_min > 0) lines.push(el("br"), el("span", { class: "small" }, t("serves_age", { n: svc.age_min })));
    if (svc.note) lines.push(el("br"), el("span", { class: "small muted" }, svc.note));
    facts.push(el("dt", {}, t("price")), el("dd", {}, lines));
    const rules = svc.subsidies || [];
    if (rules.length) {
      facts.push(el("dt", {}, t("subsidies")), el("dd", {},
        el("ul", { class: "rules" }, rules.map((r) => el("li", {}, r.label))),
        el("span", { class: "small muted" }, t("subsidy_hint"))));
    }
  } else if ((f.services || []).length) {
    facts.push(el("dt", {}, t("services_offered")),
      el("dd", {}, f.services.map((x) => serviceName(x.code)).join(currentLang() === "zh" ? "、" : ", ")));
  }
  if (f.beds_total !== null && f.beds_total !== undefined && f.beds_free !== null && f.beds_free !== undefined)
    facts.push(el("dt", {}, t("beds")), el("dd", {}, t("beds_free", { free: f.beds_free, total: f.beds_total })));
  if (f.phone) facts.push(el("dt", {}, t("phone")), el("dd", {}, el("a", { href: "tel:" + f.phone, class: "tel" }, f.phone)));
  facts.push(el("dt", {}, t("address")), el("dd", { class: "address" }, f.address || "—"));

  return el("li", { class: "result card", id: "hit-" + f.id, tabindex: "-1",
    dataset: { id: f.id, walk: f.walk_minutes, name: f.name } },
    el("div", { class: "result-head" },
      el("span", { class: "num", "aria-hidden": "true" }, String(i + 1)),
      el("div", {},
        el("h3", { class: "name" }, el("span", { class: "sr-only" }, t("rank", { n: i + 1 }) + " "), f.name),
        el("p", { class: "meta" },
          el("span", { class: "badge info" }, currentLang() === "zh" ? (f.kind_label || kindName(f.kind)) : kindName(f.kind)),
          " ", openBadge(f)))),
    el("p", { class: "walk" },
      el("strong", {}, t("walk_about", { m: walkWhole(f.walk_minutes) })), " · ", distanceText(f.distance_m)),
    el("dl", { class: "facts" }, facts),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary show-map", onclick: () => showOnMap(f.id) },
        t("show_on_map"))));
}

async function paintResults(fresh) {
  const s = state.search;
  if (!s) return;
  const section = $("results");
  section.hidden = false;
  const items = s.answer.items || [];
  const when = dayAt(s.answer.open_at);
  const m = s.answer.minutes ?? s.minutes;
  let summary = s.service
    ? tn("summary_service", { m, n: items.length, service: serviceName(s.service) })
    : tn("summary_any", { m, n: items.length });
  if (s.onlyOpen) summary += t("summary_open");
  if (s.maxPrice) summary += t("summary_price", { price: s.maxPrice });
  $("results-summary").textContent = summary;
  const note = $("results-note");
  note.hidden = items.length < s.limit;
  note.textContent = t("results_more", { n: s.limit });

  const empty = $("results-empty");
  empty.hidden = items.length > 0;
  if (!items.length) {
    const wider = WIDER[s.minutes];
    $("empty-text").textContent = t(wider ? "empty_text" : "empty_text_max", { m });
    const btn = $("widen");
    btn.hidden = !wider;
    if (wider) { btn.textContent = t("widen", { m: wider }); btn.dataset.minutes = String(wider); }
  }
  $("result-list").replaceChildren(...items.map((f, i) => hitCard(f, i, s, when)));
  $("result-list").hidden = !items.length;
  await paintMap(fresh);
  if (fresh) {
    announce(summary, "ok");
    $("results-summary").focus({ preventScroll: true });
    section.scrollIntoView({ block: "start" });
  }
}

$("widen").addEventListener("click", () => {
  const m = $("widen").dataset.minutes;
  if (!m) return;
  $("minutes").value = m;
  runSearch();
});

// ---- the map ----

function numberIcon(n, current) {
  return window.L.divIcon({
    className: "fm-hit" + (current ? " fm-current" : ""),
    html: "<span>" + Number(n) + "</span>",
    iconSize: [34, 34], iconAnchor: [17, 17], popupAnchor: [0, -16],
  });
}

async function ensureMap() {
  if (state.map || !window.L) return state.map;
  try {
    state.map = await districtMap($("map"));
    state.layer = window.L.layerGroup().addTo(state.map);
  } catch (e) {
    $("map").replaceChildren(el("p", { class: "notice warn" }, t("map_failed")));
    state.map = null;
  }
  return state.map;
}

async function paintMap(fit) {
  const map = await ensureMap();
  if (!map) return;
  const L = window.L;
  map.invalidateSize();
  state.layer.clearLayers();
  state.markers.clear();
  const s = state.search;
  const o = s.answer.origin;
  const pts = [];
  if (o) {
    L.marker([o.lat, o.lon], {
      icon: L.divIcon({ className: "fm-origin", html: "<span>★</span>", iconSize: [30, 30], iconAnchor: [15, 15] }),
      title: t("map_origin"), alt: t("map_origin"), keyboard: false, zIndexOffset: -100,
    }).bindTooltip(t("map_origin")).addTo(state.layer);
    pts.push([o.lat, o.lon]);
  }
  (s.answer.items || []).forEach((f, i) => {
    const mk = L.marker([f.point.lat, f.point.lon], {
      icon: numberIcon(i + 1, state.current === f.id), title: (i + 1) + ". " + f.name, alt: (i + 1) + ". " + f.name,
      riseOnHover: true,
    });
    mk.bindPopup(() => el("div", { class: "fm-popup" }, el("strong", {}, (i + 1) + ". " + f.name), el("br"),
      t("walk_about", { m: walkWhole(f.walk_minutes) })));
    mk.on("click", () => pickFromMap(f.id));
    // A marker takes the keyboard (Tab); Enter opens its popup and, like a
    // click, marks its card in the list.
    mk.on("keypress", (e) => { if (e.originalEvent.key === "Enter") pickFromMap(f.id); });
    mk.addTo(state.layer);
    state.markers.set(f.id, { marker: mk, n: i + 1, f });
    pts.push([f.point.lat, f.point.lon]);
  });
  if (fit) {
    if (pts.length > 1) map.fitBounds(L.latLngBounds(pts), { padding: [50, 50], maxZoom: 16 });
    else if (pts.length === 1) map.setView(pts[0], 15);
  }
}

function highlight(id) {
  const prev = state.current;
  state.current = id;
  for (const li of $("result-list").children) {
    const on = Number(li.dataset.id) === id;
    li.classList.toggle("current", on);
    if (on) li.setAttribute("aria-current", "true"); else li.removeAttribute("aria-current");
  }
  for (const [fid, m] of state.markers) {
    if (fid === id || fid === prev) m.marker.setIcon(numberIcon(m.n, fid === id));
  }
}

function pickFromMap(id) {
  const m = state.markers.get(id);
  highlight(id);
  const li = $("hit-" + id);
  if (li) {
    li.scrollIntoView({ block: "center" });
    li.focus({ preventScroll: true });
  }
  if (m) announce(t("picked_on_map", { n: m.n, name: m.f.name }));
}

function showOnMap(id) {
  const m = state.markers.get(id);
  if (!m || !state.map) return;
  highlight(id);
  state.map.setView(m.marker.getLatLng(), Math.max(state.map.getZoom(), 15));
  m.marker.openPopup();
  const box = $("map");
  const r = box.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight) box.scrollIntoView({ block: "center" });
  announce(t("shown_on_map", { name: m.f.name }));
}

// ---- match for me ----

$("match-form").addEventListener("submit", (ev) => { ev.preventDefault(); runMatch(); });

async function runMatch() {
  const err = $("match-error");
  err.hidden = true;
  const ageIn = $("m-age"), budgetIn = $("m-budget");
  fieldError(ageIn, $("m-age-error"), "");
  fieldError(budgetIn, $("m-budget-error"), "");
  const ageText = ageIn.value.trim().replace(/[岁歲\s]/g, "");
  const budgetText = budgetIn.value.trim().replace(/[元¥￥\s]/g, "");
  let bad = null;
  if (ageText && !(/^\d{1,3}$/.test(ageText) && Number(ageText) <= 130)) {
    fieldError(ageIn, $("m-age-error"), t("age_bad"));
    bad = bad || ageIn;
  }
  if (budgetText && !MONEY.test(budgetText)) {
    fieldError(budgetIn, $("m-budget-error"), t("budget_bad"));
    bad = bad || budgetIn;
  }
  if (bad) { bad.focus(); announce(t(bad === ageIn ? "age_bad" : "budget_bad"), "error"); return; }

  const profile = { living_alone: $("m-alone").checked };
  if (ageText) profile.age = Number(ageText);
  const care = $("m-care").value, cls = $("m-class").value;
  if (care) profile.care_level = care;
  if (cls) profile.subsidy_class = cls;
  const needs = [...$("m-needs").querySelectorAll("input:checked")].map((i) => i.value);
  const impliesNone = ageText && Number(ageText) < 60 && !profile.living_alone &&
    (care === "" || care === "self_care");
  if (!needs.length && impliesNone) {
    showError(t("needs_required"), err);
    announce(t("needs_required"), "error");
    return;
  }
  const o = origin();
  if (o.error) {
    showError(o.error, err);
    announce(o.error, "error");
    return;
  }
  const body = Object.assign({ profile }, o.body, { minutes: Number($("m-minutes").value), limit: 5 });
  if (budgetText) body.budget = Number(budgetText);
  if (needs.length) body.needs = needs;
  const go = $("match-go");
  go.disabled = true;
  announce(t("matching"));
  try {
    const answer = await pub("POST", "/api/v1/match", body);
    state.match = { body, answer };
    paintMatch(true);
  } catch (e) {
    showError(e, err);
    announce(e instanceof ApiError ? e.explain() : String(e), "error");
  } finally {
    go.disabled = false;
  }
}

/** A bilingual reason "中文 / English" in the current language. */
function reasonText(r) {
  const parts = String(r).split(" / ");
  if (parts.length !== 2) return r;
  return currentLang() === "en" ? parts[1] : parts[0];
}

function matchCard(r) {
  const unit = unitName(r.service.unit);
  const badges = [r.eligible ? el("span", { class: "badge ok" }, "✓ ", t("eligible_yes"))
    : el("span", { class: "badge bad" }, "✕ ", t("eligible_no"))];
  if (!r.has_capacity) badges.push(" ", el("span", { class: "badge warn" }, "! ", t("no_bed")));
  if (!r.within_budget) badges.push(" ", el("span", { class: "badge warn" }, "! ", t("over_budget")));
  const f = r.facility;
  return el("li", { class: "match-item card", dataset: { id: f.id, need: r.need, pay: r.pay } },
    el("div", { class: "result-head" },
      el("span", { class: "num", "aria-hidden": "true" }, String(r.rank)),
      el("div", {},
        el("h4", { class: "name" }, el("span", { class: "sr-only" }, t("rank", { n: r.rank }) + " "), f.name),
        el("p", { class: "meta" }, el("span", { class: "badge info" }, kindName(f.kind)), " ", badges))),
    el("p", { class: "you-pay" }, el("strong", {},
      r.pay === 0 ? t("you_pay_free") : t("you_pay", { pay: fmtMoney(r.pay), unit }))),
    el("p", { class: "small rule" },
      r.service.price === 0 ? t("list_free") : t("list_price", { price: fmtMoney(r.service.price), unit }), " · ",
      r.subsidy ? t("by_rule", { rule: r.subsidy }) : t("no_rule")),
    // Whole minutes by the API's one rule (rounded up, at least 1): the same
    // figure as the list's and as the match's own reason.
    el("p", { class: "walk" }, t("walk_about", { m: walkWhole(r.walk_minutes) }), " · ",
      distanceText(r.distance_m)),
    el("details", { class: "why" }, el("summary", {}, t("why")),
      el("ul", { class: "reasons" }, (r.reasons || []).map((x) => el("li", {}, reasonText(x))))),
    el("dl", { class: "facts" },
      f.phone ? [el("dt", {}, t("phone")), el("dd", {}, el("a", { href: "tel:" + f.phone, class: "tel" }, f.phone))] : null,
      el("dt", {}, t("address")), el("dd", {}, f.address || "—")));
}

function paintMatch(fresh) {
  const m = state.match;
  if (!m) return;
  const box = $("match-results");
  const groups = m.answer.needs.map((need) => {
    const rows = m.answer.results.filter((r) => r.need === need);
    return el("section", { class: "need", dataset: { need } },
      el("h3", {}, serviceName(need), " ",
        el("span", { class: "small muted" }, rows.length ? t("match_need_count", { n: rows.length }) : "")),
      rows.length ? el("ol", { class: "plain match-list" }, rows.map(matchCard))
        : el("p", { class: "notice" }, t("match_need_none", { m: m.body.minutes })));
  });
  const heading = el("h3", { class: "match-summary", tabindex: "-1" }, tn("match_summary", { n: m.answer.needs.length }));
  box.replaceChildren(heading, ...groups);
  if (fresh) {
    announce(heading.textContent, "ok");
    heading.focus({ preventScroll: true });
    heading.scrollIntoView({ block: "start" });
  }
}

// ---- start ----

function repaint() {
  paintMinuteOptions();
  paintStreets();
  paintCommunities();
  paintServices();
  paintOrigin();
  if (state.search) paintResults(false);
  if (state.match) paintMatch(false);
  if (!$("where-note").hidden) { const o = origin(); if (o.note) $("where-note").textContent = o.note; }
}

startPage();
applyI18n();
paintMinuteOptions();
onLangChange(repaint);
state.where = loadWhere();
paintOrigin();
await Promise.all([loadAreas(), loadServices()]);
