// report.js - snap and report (随手拍): a resident or volunteer photographs a
// problem, places it on the map, sees whether neighbours reported the same
// thing already, and sends it; then follows their own reports, confirms or
// reopens a resolution and rates it.
//
// Photos are read on the page before anything is sent (exif.js): the first
// photo with a GPS position places the report when the person has chosen no
// place, as the server would, so the similar reports nearby are shown first;
// large photos are made smaller, which drops their EXIF, so that position
// then travels as the form's lat and lon.
import {
  addStrings, api, ApiError, announce, currentLang, districtMap, el, fmtTime, mapConfig,
  onLangChange, photoURL, pick, requireLogin, session, showError, startPage, stream, t,
} from "./linli.js";
import { readPhotoFile } from "./exif.js";

const PHOTOS_MAX = 9; // the API's limit per case (docs/api.md, POST /api/v1/cases)
const NEARBY_RADIUS = 200; // metres: what "nearby" means when looking for duplicates
// A photo longer than this on its longer side, or bigger than SHRINK_BYTES, is
// re-encoded as a JPEG this long before it is sent: plenty to see a problem
// on, and nine of them stay well inside the server's request limit.
const SHRINK_EDGE = 2048; // pixels
const SHRINK_BYTES = 2.5 * 1024 * 1024;
const SHRINK_QUALITY = 0.85; // JPEG quality of a re-encoded photo
const FORM_SLACK = 16 * 1024; // bytes of a form beyond its photos: fields and part headers
// The server's limits when it does not say (docs/api.md, POST /api/v1/cases):
// a request with photos (--photo-body-max), and one photo.
const BODY_MAX_DEFAULT = 32 * 1024 * 1024;
const PHOTO_BYTES_DEFAULT = 10 * 1024 * 1024;

addStrings({
  zh: {
    report_title: "邻里 · 随手拍", report_heading: "随手拍", view_new: "我要上报", view_mine: "我的上报",
    live_changed: "您的上报 {number} 有新进展。",
    cannot_report: "您的账号不能上报问题，只能查看。",
    photos_legend: "照片", photo_camera: "拍照", photo_pick: "从相册选择", photos_chosen: "已选照片",
    photos_hint: "最多 {n} 张。已选 {k} 张。", photo_remove: "删除第 {n} 张照片",
    photo_alt: "第 {n} 张照片", photo_not_image: "（无法预览）", photos_full: "最多只能附 {n} 张照片。",
    where_legend: "位置", use_location: "使用我的位置", clear_location: "清除位置",
    locating: "正在获取您的位置…", point_none: "还没有选定位置。",
    point_set: "已选位置：{lat}, {lon}", point_from_gps: "（来自定位，误差约 {m} 米）",
    point_from_photo: "（来自第 {n} 张照片的定位信息）", marker_photo: "来自照片的位置",
    photo_outside: "第 {n} 张照片中的位置（{lat}, {lon}）不在本区范围内，没有采用。请在地图上选定位置。",
    photos_reading: "正在读取照片…", photos_total: "照片共约 {size}，随上报一起发送。",
    photos_shrunk: "较大的照片已缩小：{k} 张。", photo_size_shrunk: "{size}\n已缩小",
    photos_too_big: "照片加起来约 {size}，超过了一次上报最多能带的 {max}。请删去几张再提交。",
    photo_too_big: "第 {n} 张照片有 {size}，超过了每张照片最多 {max}。请换一张，或删去它再提交。",
    point_outside: "这个位置不在本区范围内，请在地图上重新选择。",
    geo_denied: "无法获取位置：请在浏览器中允许定位，或在地图上点选。",
    geo_failed: "暂时无法获取位置，请在地图上点选，或填写地址。",
    geo_unsupported: "这个浏览器不能定位，请在地图上点选。",
    map_label: "选择问题位置的地图", map_hint: "在地图上点一下即可选定位置，标记可以拖动。",
    exif_hint: "还没有选定位置时，会用第一张带定位信息的照片中的位置（须在本区范围内）；也可以在地图上另选。",
    address_label: "地址或位置说明（选填）", category_label: "问题类别", category_choose: "请选择",
    title_label: "标题（选填）", title_hint: "不填时用问题类别作标题。", description_label: "问题描述",
    public_name: "公开我的名字", submit_report: "提交上报", submitting: "正在提交…",
    nearby_heading: "附近类似的未办结上报",
    nearby_hint: "{r} 米内同类、尚未办结的上报。如果是同一件事，就不必重复上报。",
    nearby_none: "附近 {r} 米内没有同类的未办结上报。", nearby_loading: "正在查找附近的类似上报…",
    nearby_found: "附近有 {n} 件类似的未办结上报", nearby_mine: "（我报的）",
    distance: "约 {m} 米", marker_similar: "类似上报：{title}",
    missing_category: "请选择问题类别。",
    missing_where: "请选定位置：使用我的位置、在地图上点选、填写地址，或附一张带定位的照片。",
    missing_intro: "还差这些：", server_refused: "未能提交：{msg}",
    done_heading: "已提交", done_text: "您的上报已提交，编号 {number}。社区会尽快处理。",
    done_open: "查看这件上报", done_again: "再报一件", done_announce: "已提交，编号 {number}",
    mine_loading: "正在加载…", mine_none: "您还没有上报过问题。", mine_count: "共 {n} 件",
    load_more: "加载更多", back_to_mine: "← 返回我的上报", case_loading: "正在加载这件上报…",
    f_number: "编号", f_category: "类别", f_state: "状态", f_created: "提交时间", f_where: "位置",
    f_unit: "办理单位", f_due: "办理时限", f_description: "描述", f_photos: "照片", f_timeline: "办理经过",
    f_reason: "原因", no_photos: "没有照片。", no_description: "（无）",
    st_submitted: "已提交", st_accepted: "已受理", st_dispatched: "已派单", st_in_progress: "办理中",
    st_resolved: "已办结，待确认", st_closed: "已结案", st_rejected: "不予受理", st_duplicate: "重复上报",
    ev_submitted: "提交上报", ev_accepted: "受理", ev_dispatched: "派单", ev_in_progress: "开始办理",
    ev_resolved: "办结", ev_closed: "结案", ev_rejected: "不予受理", ev_duplicate: "标为重复",
    ev_reopened: "重新打开", ev_note: "备注", ev_photo: "补充照片", ev_whistle: "吹哨",
    ev_report_in: "部门报到", ev_report_in_overdue: "报到超时", ev_due_soon: "即将到期",
    ev_overdue: "已超期", ev_escalated: "升级办理", ev_rated: "评价",
    ev_auto_closed: "到期自动结案", duplicate_of: "与 {number} 重复",
    resolved_ask: "社区说这件事已经办好了。请您确认：",
    confirm_resolved: "确认已解决", reopen: "仍未解决，重新打开", reopen_reason: "还有什么问题没解决？",
    reopen_go: "重新打开", reopen_need_reason: "请说明还有什么问题没解决。",
    confirmed: "已确认解决，这件上报已结案。", reopened: "已重新打开，社区会继续办理。",
    rating_legend: "您对处理结果满意吗？", rate_satisfied: "满意", rate_basically_satisfied: "基本满意",
    rate_unsatisfied: "不满意", rating_comment: "意见（选填）", rating_submit: "提交评价",
    rating_need: "请先选一项评价。", rated: "谢谢您的评价。", your_rating: "您的评价：{rating}",
    rate_for: "第 {n} 次办结", auto_close_note: "如不确认，{n} 天后自动结案。",
    ago_now: "刚刚",
  },
  en: {
    report_title: "Linli · Snap and report", report_heading: "Snap and report", view_new: "New report",
    live_changed: "Your report {number} has news.",
    view_mine: "My reports", cannot_report: "Your account cannot report problems; it can only read.",
    photos_legend: "Photos", photo_camera: "Take a photo", photo_pick: "Choose photos", photos_chosen: "Chosen photos",
    photos_hint: "Up to {n}. {k} chosen.", photo_remove: "Remove photo {n}", photo_alt: "Photo {n}",
    photo_not_image: "(no preview)", photos_full: "At most {n} photos can be attached.",
    where_legend: "Location", use_location: "Use my location", clear_location: "Clear location",
    locating: "Finding your location…", point_none: "No location chosen yet.",
    point_set: "Chosen location: {lat}, {lon}", point_from_gps: " (from positioning, within about {m} m)",
    point_from_photo: " (from the position in photo {n})", marker_photo: "Location from the photo",
    photo_outside: "The position in photo {n} ({lat}, {lon}) is outside the district, so it was not used. Choose the place on the map.",
    photos_reading: "Reading the photos…", photos_total: "The photos come to about {size} to send.",
    photos_shrunk: "Large photos made smaller: {k}.", photo_size_shrunk: "{size}\nmade smaller",
    photos_too_big: "Together the photos come to about {size}, more than the {max} one report can carry. Remove some of them, then send.",
    photo_too_big: "Photo {n} is {size}, more than the {max} one photo may be. Choose another, or remove it, then send.",
    point_outside: "This location is outside the district. Pick another one on the map.",
    geo_denied: "Cannot get your location: allow it in the browser, or pick the place on the map.",
    geo_failed: "Your location is not available now. Pick the place on the map or type an address.",
    geo_unsupported: "This browser cannot locate you. Pick the place on the map.",
    map_label: "Map to choose where the problem is", map_hint: "Tap the map to choose the place; the marker can be dragged.",
    exif_hint: "With no place chosen, the position in the first photo that has one is used (if it is in the district); you can still pick another place on the map.",
    address_label: "Address or directions (optional)", category_label: "Kind of problem",
    category_choose: "Choose one", title_label: "Title (optional)",
    title_hint: "Without one, the kind of problem is the title.", description_label: "What is wrong",
    public_name: "Show my name publicly", submit_report: "Send report", submitting: "Sending…",
    nearby_heading: "Similar open reports nearby",
    nearby_hint: "Open reports of the same kind within {r} m. If it is the same problem, there is no need to report it again.",
    nearby_none: "No open report of this kind within {r} m.", nearby_loading: "Looking for similar reports nearby…",
    nearby_found: "{n} similar open reports nearby", nearby_mine: " (mine)",
    distance: "about {m} m", marker_similar: "Similar report: {title}",
    missing_category: "Choose the kind of problem.",
    missing_where: "Choose a location: use your location, tap the map, type an address, or attach a photo with its position.",
    missing_intro: "Still missing:", server_refused: "Not sent: {msg}",
    done_heading: "Sent", done_text: "Your report was sent: number {number}. The community will handle it.",
    done_open: "Open this report", done_again: "Report another", done_announce: "Sent, number {number}",
    mine_loading: "Loading…", mine_none: "You have not reported anything yet.", mine_count: "{n} reports",
    load_more: "Load more", back_to_mine: "← Back to my reports", case_loading: "Loading this report…",
    f_number: "Number", f_category: "Kind", f_state: "Status", f_created: "Sent", f_where: "Location",
    f_unit: "Handled by", f_due: "Due", f_description: "Description", f_photos: "Photos",
    f_timeline: "What happened", f_reason: "Reason", no_photos: "No photos.", no_description: "(none)",
    st_submitted: "Submitted", st_accepted: "Accepted", st_dispatched: "Dispatched", st_in_progress: "In progress",
    st_resolved: "Resolved, awaiting you", st_closed: "Closed", st_rejected: "Rejected", st_duplicate: "Duplicate",
    ev_submitted: "Reported", ev_accepted: "Accepted", ev_dispatched: "Dispatched", ev_in_progress: "Work started",
    ev_resolved: "Resolved", ev_closed: "Closed", ev_rejected: "Rejected", ev_duplicate: "Marked duplicate",
    ev_reopened: "Reopened", ev_note: "Note", ev_photo: "Photo added", ev_whistle: "Departments summoned",
    ev_report_in: "Department reported in", ev_report_in_overdue: "Report-in late", ev_due_soon: "Due soon",
    ev_overdue: "Overdue", ev_escalated: "Escalated", ev_rated: "Rated",
    ev_auto_closed: "Closed automatically", duplicate_of: "Duplicate of {number}",
    resolved_ask: "The community says this is done. Please tell us:",
    confirm_resolved: "Confirm resolved", reopen: "Not solved — reopen", reopen_reason: "What is still wrong?",
    reopen_go: "Reopen", reopen_need_reason: "Say what is still wrong.",
    confirmed: "Confirmed: this report is closed.", reopened: "Reopened: the community will keep working on it.",
    rating_legend: "Are you satisfied with the result?", rate_satisfied: "Satisfied",
    rate_basically_satisfied: "Basically satisfied", rate_unsatisfied: "Not satisfied",
    rating_comment: "Comment (optional)", rating_submit: "Submit rating", rating_need: "Choose a rating first.",
    rated: "Thank you for rating.", your_rating: "Your rating: {rating}", rate_for: "resolution {n}",
    auto_close_note: "Without your answer it closes by itself after {n} days.",
    ago_now: "just now",
  },
});

const RATINGS = ["satisfied", "basically_satisfied", "unsatisfied"];
const STATE_BADGE = {
  submitted: "info", accepted: "info", dispatched: "info", in_progress: "warn",
  resolved: "ok", closed: "ok", rejected: "bad", duplicate: "",
};

const $ = (id) => document.getElementById(id);

// ---- state ----
let me = null;
let categories = []; // every category, inactive ones too (for labels)
let map = null;
let marker = null;
let bounds = null;
let outline = null; // the district's polygons: [[ring of [lon, lat], ...], ...]
let district = null; // a promise: the map document read, bounds and outline set
let hasTiles = false;
let mapStarting = false;
// {lat, lon, accuracy?, from: "gps"|"map"|"drag"|"photo", photo?}: photo is
// the entry of `photos` the point was read from
let point = null;
// [{file, url, meta, out, read, ready}]: meta is what exif.js read (null until
// then), out what will be sent ({blob, name, shrunk}, null until prepared);
// read and ready are the promises of the two
let photos = [];
let photoOutside = null; // {photo, gps}: the first photo's position, not in the district
let saidOutside = null; // the photo photoOutside was last announced for
let readQueue = Promise.resolve(); // photos are read one at a time, in order,
let shrinkQueue = Promise.resolve(); // and re-encoded one at a time (memory)
let bodyMax = BODY_MAX_DEFAULT;
let photoMaxBytes = PHOTO_BYTES_DEFAULT;
let similar = []; // the nearby open cases last shown
let similarLayer = null;
let nearbySeq = 0;
let pending = null; // {key, blob, type}: a send whose answer never came, to repeat as is
let busy = false;
let myCases = [];
let myCursor = null;
let myLoaded = false;
let current = null; // the case open in the detail view
let autoCloseDays = null;

function categoryOf(code) { return categories.find((c) => c.code === code); }
function categoryName(code) { const c = categoryOf(code); return c ? pick(c, "name") : code; }
function stateBadge(state) {
  return el("span", { class: "badge " + (STATE_BADGE[state] ?? ""), "data-state": state }, t("st_" + state));
}
function eventLabel(ev) {
  if (ev.kind === "closed" && ev.detail && ev.detail.auto) return t("ev_auto_closed");
  const key = "ev_" + ev.kind;
  const s = t(key);
  return s === key ? ev.kind : s;
}

function ago(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return "";
  const s = (Date.now() - d.getTime()) / 1000;
  if (s < 60) return t("ago_now");
  const rtf = new Intl.RelativeTimeFormat(currentLang() === "zh" ? "zh-CN" : "en", { numeric: "auto" });
  if (s < 3600) return rtf.format(-Math.round(s / 60), "minute");
  if (s < 86400) return rtf.format(-Math.round(s / 3600), "hour");
  return rtf.format(-Math.round(s / 86400), "day");
}

/** Metres between two points (haversine), for nearby cases that come
 * without distance_m (the caller's own, which come in full). */
function metres(a, b) {
  const R = 6371008.8, rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(h));
}

/** The server's refusal for a person: its message and each field's, the
 * fields named in the page's words. */
function explain(e) {
  if (!(e instanceof ApiError) || e.status === 0 || !e.errors.length) return e instanceof ApiError ? e.explain() : String(e.message || e);
  return [e.message, ...fieldErrors(e)].join(" ");
}
function fieldErrors(e) {
  const colon = currentLang() === "zh" ? "：" : ": ";
  return (e.errors || []).map((f) => (f.field ? fieldName(f.field) + colon : "") + f.message);
}
function fieldName(field) {
  const m = /^photo\[(\d+)\]$/.exec(field);
  if (m) return t("photo_alt", { n: Number(m[1]) + 1 });
  const names = { category: "category_label", point: "where_legend", lat: "where_legend", lon: "where_legend",
    title: "title_label", description: "description_label", address: "address_label",
    note: "reopen_reason", rating: "rating_legend", comment: "rating_comment" };
  return names[field] ? t(names[field]).replace(/（选填）|\s*\(optional\)/, "") : field;
}

// ---- views: #new, #mine, #case=<id> ----

function route() {
  const h = location.hash;
  const m = /^#case=(\d+)$/.exec(h);
  const view = m ? "case" : h === "#mine" ? "mine" : "new";
  $("view-new").hidden = view !== "new";
  $("view-mine").hidden = view !== "mine";
  $("view-case").hidden = view !== "case";
  $("go-new").setAttribute("aria-current", view === "new" ? "page" : "false");
  $("go-mine").setAttribute("aria-current", view === "mine" || view === "case" ? "page" : "false");
  if (view === "new") {
    ensureMap();
  } else if (view === "mine") {
    loadMine(!myLoaded);
  } else {
    openCase(Number(m[1]));
  }
}

// ---- the new report ----

async function ensureMap() {
  if (map) { map.invalidateSize(); return; } // it may have been hidden
  if (!window.L || mapStarting) return;
  mapStarting = true;
  try {
    map = await districtMap($("report-map"));
    const cfg = await mapConfig();
    learnDistrict(cfg);
    hasTiles = !!(cfg.tiles && cfg.tiles.url);
    map.on("click", (ev) => setPoint({ lat: ev.latlng.lat, lon: ev.latlng.lng }, "map"));
    if (point) placeMarker();
    drawSimilar();
  } catch (e) {
    mapStarting = false;
    showError(e, $("where-error"));
  }
}

/** Keeps the district's box and outline from the map document. */
function learnDistrict(cfg) {
  bounds = cfg.bounds || null;
  const g = cfg.boundary && (cfg.boundary.geometry || cfg.boundary);
  outline = !g ? null : g.type === "MultiPolygon" ? g.coordinates : g.type === "Polygon" ? [g.coordinates] : null;
}

/** Reads the map document once (the map may not be drawn yet when a photo
 * is read); a failure leaves the page without the check, as before. */
function districtReady() {
  if (!district) district = mapConfig().then(learnDistrict).catch(() => {});
  return district;
}

/** Whether [lon, lat] ring `r` holds p: even-odd crossings, as the server counts. */
function ringHolds(r, p) {
  let inside = false;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
    const [alon, alat] = r[i], [blon, blat] = r[j];
    if ((alat > p.lat) !== (blat > p.lat) && p.lon < (blon - alon) * (p.lat - alat) / (blat - alat) + alon) inside = !inside;
  }
  return inside;
}

/** Whether the server would take p as a point of this district: inside its
 * outline (outer ring, not in a hole) when the map document has one, else
 * inside its box; true while neither is known. */
function inDistrict(p) {
  if (outline) {
    return outline.some((poly) => poly.length && poly[0].length >= 3 && ringHolds(poly[0], p) &&
      !poly.slice(1).some((hole) => hole.length >= 3 && ringHolds(hole, p)));
  }
  if (!bounds) return true;
  const [[s, w], [n, e]] = bounds;
  return p.lat >= s && p.lat <= n && p.lon >= w && p.lon <= e;
}

function placeMarker() {
  if (!map || !point) return;
  const L = window.L;
  const ll = [point.lat, point.lon];
  if (!marker) {
    marker = L.marker(ll, { draggable: true, keyboard: true, title: t("where_legend"), alt: t("where_legend") }).addTo(map);
    marker.on("dragend", () => {
      const p = marker.getLatLng();
      setPoint({ lat: p.lat, lon: p.lng }, "drag");
    });
  } else marker.setLatLng(ll);
  markOrigin();
}

/** Says on the marker itself whether the point came from a photo. */
function markOrigin() {
  if (!marker) return;
  const fromPhoto = point && point.from === "photo";
  const label = fromPhoto ? t("marker_photo") : t("where_legend");
  marker.options.title = label;
  marker.options.alt = label;
  const icon = marker.getElement();
  if (icon) {
    icon.title = label;
    icon.alt = label;
    icon.classList.toggle("from-photo", !!fromPhoto);
  }
  marker.unbindTooltip();
  // As a text node: Leaflet reads a string as HTML.
  if (fromPhoto) marker.bindTooltip(document.createTextNode(label), { permanent: true, direction: "top", offset: [-16, 0], className: "photo-point" }).openTooltip();
}

/** Sets (or clears, p null) the report's point; `how` says where it came
 * from ("gps", "map", "drag", "photo"; nothing when the page clears it) and
 * a point from a photo carries that photo's entry as p.photo. */
function setPoint(p, how) {
  point = p ? { lat: Number(p.lat.toFixed(7)), lon: Number(p.lon.toFixed(7)), accuracy: p.accuracy,
    from: how || null, photo: p.photo || null } : null;
  pending = null;
  if (point) {
    placeMarker();
    if (map && (how === "gps" || how === "photo")) {
      // Without base tiles the outline is all there is to see: keep it in view.
      if (hasTiles) map.setView([point.lat, point.lon], Math.max(map.getZoom(), 16));
      else if (!map.getBounds().contains([point.lat, point.lon])) map.panTo([point.lat, point.lon]);
    }
  } else if (marker) {
    marker.remove();
    marker = null;
  }
  if (point) $("where-error").hidden = true;
  paintPoint();
  if (point && how) announce($("point-text").textContent);
  refreshNearby();
}

function paintPoint() {
  const txt = $("point-text");
  // A photo's point is cleared by removing the photo or choosing another place:
  // without a point the server would take it from the photo all the same.
  $("clear-location").hidden = !point || point.from === "photo";
  if (!point) {
    if (photoOutside) {
      const { gps } = photoOutside;
      txt.textContent = t("photo_outside", { n: photos.indexOf(photoOutside.photo) + 1, lat: gps.lat.toFixed(5), lon: gps.lon.toFixed(5) });
      txt.className = "point-text warn";
    } else {
      txt.textContent = t("point_none");
      txt.className = "point-text muted";
    }
    return;
  }
  let s = t("point_set", { lat: point.lat.toFixed(5), lon: point.lon.toFixed(5) });
  if (point.accuracy) s += t("point_from_gps", { m: Math.round(point.accuracy) });
  if (point.from === "photo") s += t("point_from_photo", { n: photos.indexOf(point.photo) + 1 });
  txt.textContent = s;
  txt.className = "point-text";
  const out = !inDistrict(point);
  if (out) showError(t("point_outside"), $("where-error"));
}

function useMyLocation() {
  const err = $("where-error");
  err.hidden = true;
  if (!navigator.geolocation) { showError(t("geo_unsupported"), err); return; }
  const btn = $("use-location");
  btn.disabled = true;
  $("point-text").textContent = t("locating");
  navigator.geolocation.getCurrentPosition((pos) => {
    btn.disabled = false;
    setPoint({ lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: pos.coords.accuracy }, "gps");
  }, (e) => {
    btn.disabled = false;
    paintPoint();
    showError(t(e.code === 1 ? "geo_denied" : "geo_failed"), err);
  }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
}

// photos

function addPhotos(files) {
  pending = null;
  let dropped = false;
  for (const f of files) {
    if (photos.length >= PHOTOS_MAX) { dropped = true; break; }
    const p = { file: f, url: URL.createObjectURL(f), meta: null, out: null };
    // readPhotoFile, districtReady and preparePhoto answer rather than
    // throw; the queues go on past a failure all the same.
    p.read = readQueue.then(async () => {
      [p.meta] = await Promise.all([readPhotoFile(f), districtReady()]);
      applyPhotoPoint();
    });
    readQueue = p.read.catch(() => {});
    const shrunk = Promise.all([p.read, shrinkQueue]).then(() => preparePhoto(p));
    shrinkQueue = shrunk.catch(() => {});
    p.ready = shrunk.then((out) => {
      p.out = out;
      paintSizes();
    });
    photos.push(p);
  }
  paintPhotos();
  if (dropped) announce(t("photos_full", { n: PHOTOS_MAX }), "error");
}

function removePhoto(i) {
  pending = null;
  URL.revokeObjectURL(photos[i].url);
  photos.splice(i, 1);
  paintPhotos();
  applyPhotoPoint();
  const list = $("photo-list").querySelectorAll("button");
  (list[Math.min(i, list.length - 1)] || $("photo-pick")).focus();
}

/** The first photo with a position, as the server picks it ({photo, gps}),
 * null when none has one, undefined while one before it is still being read. */
function firstPhotoPosition() {
  for (const p of photos) {
    if (!p.meta) return undefined;
    if (p.meta.gps) return { photo: p, gps: p.meta.gps };
  }
  return null;
}

/** Places the report at its first photo's position when the person has
 * chosen no place (the server fills a missing point from the same photo in
 * the same case), and takes that point away again when the photo goes. A
 * position outside the district is not used, by the server either: said so. */
function applyPhotoPoint() {
  const found = firstPhotoPosition();
  if (found === undefined) {
    // still reading: only what came from a photo now gone is taken away
    if (photoOutside && !photos.includes(photoOutside.photo)) { photoOutside = null; paintPoint(); }
    if (point && point.from === "photo" && !photos.includes(point.photo)) setPoint(null);
    return;
  }
  photoOutside = found && !inDistrict(found.gps) ? found : null;
  if (point && point.from !== "photo") { paintPoint(); return; }
  if (found && !photoOutside) {
    if (!point || point.photo !== found.photo) setPoint({ lat: found.gps.lat, lon: found.gps.lon, photo: found.photo }, "photo");
    else paintPoint();
  } else if (point) setPoint(null);
  else paintPoint();
  if (!point && photoOutside && photoOutside.photo !== saidOutside) announce($("point-text").textContent);
  saidOutside = photoOutside && photoOutside.photo;
}

function paintPhotos() {
  $("photos-hint").textContent = t("photos_hint", { n: PHOTOS_MAX, k: photos.length });
  $("photo-list").replaceChildren(...photos.map((p, i) => {
    const img = el("img", { src: p.url, alt: t("photo_alt", { n: i + 1 }) + " · " + p.file.name });
    const li = el("li", {}, img,
      el("button", { type: "button", class: "remove", "aria-label": t("photo_remove", { n: i + 1 }),
        onclick: () => removePhoto(i) }, "×"),
      el("span", { class: "photo-size small muted" }));
    img.addEventListener("error", () => {
      img.replaceWith(el("span", { class: "no-preview" }, p.file.name, el("br"), t("photo_not_image")));
    });
    return li;
  }));
  const full = photos.length >= PHOTOS_MAX;
  $("photo-camera").disabled = full;
  $("photo-pick").disabled = full;
  paintSizes();
  if (point && point.from === "photo") paintPoint(); // its photo's number may have changed
}

/** "820 KB", "3.4 MB" */
function fmtBytes(n) {
  return n < 1024 * 1024 ? Math.max(1, Math.round(n / 1024)) + " KB" : (n / 1024 / 1024).toFixed(1) + " MB";
}

/** The size each photo will be sent at, their total, and whether the server
 * would take them: said before sending, not learnt from a refusal. Answers
 * the problems found (sentences), empty while photos are still prepared. */
function paintSizes() {
  const line = $("photos-size");
  const items = $("photo-list").querySelectorAll(".photo-size");
  photos.forEach((p, i) => {
    if (items[i]) items[i].textContent = !p.out ? "" : p.out.shrunk ? t("photo_size_shrunk", { size: fmtBytes(p.out.blob.size) }) : fmtBytes(p.out.blob.size);
  });
  if (!photos.length) { line.hidden = true; return []; }
  line.hidden = false;
  if (photos.some((p) => !p.out)) {
    line.textContent = t("photos_reading");
    line.className = "small photos-size muted";
    return [];
  }
  const total = photos.reduce((sum, p) => sum + p.out.blob.size, 0);
  const problems = photoProblems(total);
  const shrunk = photos.filter((p) => p.out.shrunk).length;
  line.textContent = [t("photos_total", { size: fmtBytes(total) }), shrunk ? t("photos_shrunk", { k: shrunk }) : "", ...problems].filter(Boolean).join(" ");
  line.className = "small photos-size" + (problems.length ? " notice warn" : " muted");
  return problems;
}

/** What the server would refuse in the photos as they will be sent. */
function photoProblems(total) {
  const out = [];
  photos.forEach((p, i) => {
    if (p.out && p.out.blob.size > photoMaxBytes) out.push(t("photo_too_big", { n: i + 1, size: fmtBytes(p.out.blob.size), max: fmtBytes(photoMaxBytes) }));
  });
  if (total + FORM_SLACK > bodyMax) out.push(t("photos_too_big", { size: fmtBytes(total), max: fmtBytes(bodyMax) }));
  return out;
}

/** What to send for photo p: {blob, name, shrunk}. A photo of a type the
 * server takes that is longer than SHRINK_EDGE or bigger than SHRINK_BYTES
 * is re-encoded (reencode), and the copy used when it is smaller or the
 * original is more than the server takes; everything else, and anything
 * the browser cannot decode, goes as it is, for the server to answer. */
async function preparePhoto(p) {
  const f = p.file, m = p.meta;
  const keep = { blob: f, name: f.name, shrunk: false };
  if (!photos.includes(p) || !m || !m.type || (Math.max(m.width, m.height) <= SHRINK_EDGE && f.size <= SHRINK_BYTES)) return keep;
  try {
    const blob = await reencode(f);
    if (blob.size < f.size || f.size > photoMaxBytes) {
      return { blob, name: f.name.replace(/\.[^.]*$/, "") + ".jpg", shrunk: true };
    }
  } catch { /* not decodable here: the server will say what it thinks */ }
  return keep;
}

/** The photo in `file` as a JPEG at most SHRINK_EDGE long, turned upright
 * by its EXIF orientation (the copy has no EXIF at all). Throws when the
 * browser cannot decode or encode it. */
async function reencode(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  try {
    const scale = Math.min(1, SHRINK_EDGE / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    let canvas;
    if (typeof OffscreenCanvas === "function") canvas = new OffscreenCanvas(w, h);
    else canvas = Object.assign(document.createElement("canvas"), { width: w, height: h });
    const g = canvas.getContext("2d");
    g.fillStyle = "#fff"; // what was transparent in a PNG turns white, not black
    g.fillRect(0, 0, w, h);
    g.imageSmoothingEnabled = true;
    g.imageSmoothingQuality = "high";
    g.drawImage(bitmap, 0, 0, w, h);
    const blob = canvas.convertToBlob
      ? await canvas.convertToBlob({ type: "image/jpeg", quality: SHRINK_QUALITY })
      : await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", SHRINK_QUALITY));
    if (!blob || blob.type !== "image/jpeg") throw new Error("the photo could not be encoded");
    return blob;
  } finally {
    bitmap.close();
  }
}

// categories

function paintCategories() {
  const sel = $("category");
  const keep = sel.value;
  sel.replaceChildren(el("option", { value: "" }, t("category_choose")),
    ...categories.filter((c) => c.active).map((c) => el("option", { value: c.code }, pick(c, "name"))));
  sel.value = keep;
}

// nearby similar cases

async function refreshNearby() {
  const category = $("category").value;
  const box = $("nearby");
  const seq = ++nearbySeq;
  if (!category || !point) {
    box.hidden = true;
    similar = [];
    drawSimilar();
    return;
  }
  box.hidden = false;
  $("nearby-hint").textContent = t("nearby_loading");
  try {
    const q = new URLSearchParams({ lat: point.lat, lon: point.lon, category, radius: NEARBY_RADIUS });
    const r = await api("GET", "/api/v1/cases/nearby?" + q);
    if (seq !== nearbySeq) return;
    similar = (r.items || []).map((c) => Object.assign({}, c, {
      distance: c.distance_m ?? (c.point ? metres(point, c.point) : null),
    }));
    paintNearby();
    drawSimilar();
    if (similar.length) announce(t("nearby_found", { n: similar.length }));
  } catch (e) {
    if (seq !== nearbySeq) return;
    similar = [];
    $("nearby-list").replaceChildren();
    showError(e, $("nearby-hint"));
  }
}

function paintNearby() {
  const list = $("nearby-list");
  $("nearby-hint").textContent = similar.length
    ? t("nearby_hint", { r: NEARBY_RADIUS }) : t("nearby_none", { r: NEARBY_RADIUS });
  list.replaceChildren(...similar.map((c) => {
    const mine = c.reporter && me && c.reporter.user_id === me.id;
    const title = mine ? el("a", { href: "#case=" + c.id }, c.title) : el("span", { class: "title" }, c.title);
    return el("li", { class: "item similar", "data-nearby-id": c.id },
      el("div", { class: "line" }, title, mine ? el("span", { class: "small muted" }, t("nearby_mine")) : null),
      el("div", { class: "line small" }, stateBadge(c.state),
        el("span", {}, c.distance != null ? t("distance", { m: Math.round(c.distance) }) : ""),
        el("span", { class: "muted" }, ago(c.created_at))));
  }));
}

function drawSimilar() {
  if (!map) return;
  const L = window.L;
  if (similarLayer) similarLayer.remove();
  similarLayer = L.layerGroup(similar.filter((c) => c.point).map((c) =>
    L.circleMarker([c.point.lat, c.point.lon], { radius: 7, color: "#8a5a00", weight: 2, fillColor: "#f2a900", fillOpacity: 0.8 })
      // As a text node: Leaflet would read a string as HTML, and titles are people's words.
      .bindTooltip(document.createTextNode(t("marker_similar", { title: c.title }))))).addTo(map);
}

// sending

function missing() {
  const out = [];
  const catErr = $("category-error");
  const whereErr = $("where-error");
  catErr.hidden = true;
  $("category").removeAttribute("aria-invalid");
  if (!$("category").value) {
    out.push({ msg: t("missing_category"), focus: $("category") });
    showError(t("missing_category"), catErr);
    $("category").setAttribute("aria-invalid", "true");
  }
  // A photo's position is the point by now (applyPhotoPoint), when there is one.
  if (!point && !$("address").value.trim()) {
    out.push({ msg: t("missing_where"), focus: $("use-location") });
    showError(t("missing_where"), whereErr);
  }
  return out;
}

async function buildBody() {
  const fd = new FormData();
  fd.append("category", $("category").value);
  const title = $("title").value.trim();
  if (title) fd.append("title", title);
  const description = $("description").value.trim();
  if (description) fd.append("description", description);
  const address = $("address").value.trim();
  if (address) fd.append("address", address);
  // Sent whatever its origin: a point read from a photo too, since a
  // re-encoded photo no longer carries it.
  if (point) { fd.append("lat", String(point.lat)); fd.append("lon", String(point.lon)); }
  fd.append("reporter_public", $("reporter-public").checked ? "true" : "false");
  for (const p of photos) fd.append("photo", p.out.blob, p.out.name);
  // Encoded once, so that a repeat after a lost answer sends the very same
  // bytes with the same Idempotency-Key and gets the same case back.
  const req = new Request(location.origin, { method: "POST", body: fd });
  return { blob: await req.blob(), type: req.headers.get("Content-Type") };
}

/** POSTs the encoded form; api() in linli.js sends FormData afresh (a new
 * boundary each time), which would not replay under the same key. */
async function send(p) {
  const s = session();
  const headers = { "Content-Type": p.type, "Idempotency-Key": p.key };
  if (s) headers.Authorization = "Bearer " + s.token;
  let r;
  try {
    r = await fetch("/api/v1/cases", { method: "POST", headers, body: p.blob });
  } catch {
    throw new ApiError(0, null);
  }
  const data = (r.headers.get("Content-Type") || "").includes("json") ? await r.json().catch(() => null) : { detail: await r.text() };
  if (!r.ok) {
    const e = new ApiError(r.status, data);
    if (r.status === 401) e.sessionEnded = true;
    throw e;
  }
  return data;
}

async function submit(ev) {
  ev.preventDefault();
  if (busy) return;
  const err = $("report-error");
  err.hidden = true;
  // A point may still be coming from a photo being read (a moment).
  busy = true;
  try { await Promise.all(photos.map((p) => p.read)); } finally { busy = false; }
  const gaps = missing();
  if (gaps.length) {
    err.replaceChildren(el("p", {}, t("missing_intro")), el("ul", {}, gaps.map((g) => el("li", {}, g.msg))));
    err.hidden = false;
    gaps[0].focus.focus();
    return;
  }
  busy = true;
  const btn = $("report-submit");
  btn.disabled = true;
  btn.textContent = t("submitting");
  try {
    if (!pending) {
      // The photos read and made ready first: the point may come from one,
      // and the body is built once from what will be sent.
      await Promise.all(photos.map((p) => p.ready));
      const problems = paintSizes();
      if (problems.length) {
        err.replaceChildren(el("p", {}, problems.join(" ")));
        err.hidden = false;
        $("photo-pick").focus();
        return;
      }
      pending = Object.assign({ key: crypto.randomUUID() }, await buildBody());
    }
    const c = await send(pending);
    pending = null;
    done(c);
  } catch (e) {
    // Only a send whose answer may have been lost is repeated as is.
    if (!(e instanceof ApiError) || !(e.status === 0 || e.status >= 500 || e.status === 429)) pending = null;
    // role=alert on the box reads it out; it stands next to the button.
    const fields = e instanceof ApiError && e.status !== 0 ? fieldErrors(e) : [];
    err.replaceChildren(el("p", {}, t("server_refused", { msg: fields.length ? e.message : explain(e) })));
    if (fields.length) err.append(el("ul", {}, fields.map((f) => el("li", {}, f))));
    err.hidden = false;
  } finally {
    busy = false;
    btn.disabled = false;
    btn.textContent = t("submit_report");
  }
}

function done(c) {
  myLoaded = false; // the list is read again when next shown
  $("done-text").textContent = t("done_text", { number: c.number });
  $("done-open").setAttribute("href", "#case=" + c.id);
  $("done-text").dataset.number = c.number;
  $("report-done").hidden = false;
  $("report-form").hidden = true;
  resetForm();
  announce(t("done_announce", { number: c.number }), "ok");
  $("report-done").focus();
}

function resetForm() {
  for (const p of photos) URL.revokeObjectURL(p.url);
  photos = [];
  paintPhotos();
  $("report-form").reset();
  setPoint(null);
  $("report-error").hidden = true;
  $("category-error").hidden = true;
  $("where-error").hidden = true;
}

// ---- my reports ----

async function loadMine(fresh) {
  const status = $("mine-status");
  const err = $("mine-error");
  err.hidden = true;
  if (fresh) { myCases = []; myCursor = null; }
  if (fresh || !myLoaded) status.textContent = t("mine_loading");
  try {
    const q = new URLSearchParams({ mine: "true", limit: "30" });
    if (myCursor) q.set("cursor", myCursor);
    const page = await api("GET", "/api/v1/cases?" + q);
    myCases.push(...(page.items || []));
    myCursor = page.next_cursor;
    myLoaded = true;
    paintMine();
  } catch (e) {
    status.textContent = "";
    showError(explain(e), err);
  }
}

function paintMine() {
  $("mine-status").textContent = myCases.length ? t("mine_count", { n: myCases.length + (myCursor ? "+" : "") }) : t("mine_none");
  $("my-cases").replaceChildren(...myCases.map((c) => el("li", {},
    el("a", { href: "#case=" + c.id, class: "case-link", "data-case-number": c.number },
      el("span", { class: "case-title" }, c.title),
      el("span", { class: "case-meta" }, stateBadge(c.state),
        el("span", {}, categoryName(c.category)),
        el("span", { class: "muted" }, t("f_number") + " " + c.number),
        el("time", { datetime: c.created_at, class: "muted" }, fmtTime(c.created_at)))))));
  $("mine-more").hidden = !myCursor;
}

// ---- one case ----

// Reads of the open case may answer out of order (a step's own read and the
// live stream's): only the latest is drawn, and a read that brings nothing
// new draws nothing, so a rating or a reason being typed is not wiped.
let caseRead = 0;
let caseDrawn = null; // the case as last drawn, as JSON
async function openCase(id, focus = true) {
  const seq = ++caseRead;
  const box = $("case-detail");
  const err = $("case-error");
  err.hidden = true;
  if (!current || current.id !== id) {
    box.hidden = true;
    current = null;
  }
  box.setAttribute("aria-busy", "true");
  try {
    const c = await api("GET", "/api/v1/cases/" + id);
    if (seq !== caseRead) return; // a later read is on its way; it draws
    const text = JSON.stringify(c);
    const same = !box.hidden && text === caseDrawn;
    current = c;
    if (!same) {
      await paintCase();
      caseDrawn = text;
    }
    box.hidden = false;
    if (focus) box.focus();
  } catch (e) {
    if (seq !== caseRead) return;
    box.hidden = true;
    showError(explain(e), err);
  } finally {
    if (seq === caseRead) box.setAttribute("aria-busy", "false");
  }
}

const unitNames = new Map();
async function unitName(code) {
  if (!code) return "";
  if (!unitNames.has(code)) {
    unitNames.set(code, api("GET", "/api/v1/units/" + encodeURIComponent(code)).catch(() => null));
  }
  const u = await unitNames.get(code);
  return (u && (pick(u, "name") || u.name_zh)) || code;
}

async function paintCase() {
  const c = current;
  if (!c) return;
  const box = $("case-detail");
  const isReporter = c.reporter && me && c.reporter.user_id === me.id;
  const facts = el("dl", { class: "facts" },
    el("dt", {}, t("f_number")), el("dd", { class: "case-number" }, c.number),
    el("dt", {}, t("f_state")), el("dd", { id: "case-state" }, stateBadge(c.state)),
    el("dt", {}, t("f_category")), el("dd", {}, categoryName(c.category)),
    el("dt", {}, t("f_created")), el("dd", {}, fmtTime(c.created_at)),
    el("dt", {}, t("f_where")), el("dd", {}, [c.address,
      c.point ? c.point.lat.toFixed(5) + ", " + c.point.lon.toFixed(5) : ""].filter(Boolean).join(" · ") || "—"),
    el("dt", {}, t("f_unit")), el("dd", { id: "case-unit" }, c.unit_code || "—"),
    c.reason ? [el("dt", {}, t("f_reason")), el("dd", {}, c.reason)] : null);
  const photosBox = el("div", { class: "photos case-photos" });
  const section = (id, key, ...kids) => el("section", { "aria-labelledby": id }, el("h3", { id }, t(key)), ...kids);
  box.replaceChildren(...[
    el("h2", { id: "case-title" }, c.title),
    facts,
    section("case-desc-h", "f_description", el("p", { class: "description" }, c.description || t("no_description"))),
    section("case-photos-h", "f_photos", c.photos.length ? photosBox : el("p", { class: "muted" }, t("no_photos"))),
    isReporter ? reporterActions(c) : null,
    section("case-timeline-h", "f_timeline", timeline(c))].filter(Boolean));
  for (const [i, p] of c.photos.entries()) {
    const img = el("img", { alt: t("photo_alt", { n: i + 1 }), width: p.width || null, height: p.height || null });
    // A link to the full picture once it is here (a photo needs the login).
    const link = el("a", { class: "photo", target: "_blank", rel: "noopener" }, img);
    photosBox.append(link);
    photoURL(p.url).then((u) => { img.src = u; link.href = u; })
      .catch(() => { img.alt = t("photo_alt", { n: i + 1 }) + " " + t("photo_not_image"); });
  }
  unitName(c.unit_code).then((n) => { const d = $("case-unit"); if (d && current === c) d.textContent = n; });
}

function timeline(c) {
  const events = (c.events || []).slice().sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id - b.id));
  return el("ol", { class: "timeline", id: "case-timeline" }, events.map((ev) => {
    let extra = null;
    if (ev.kind === "rated" && ev.detail && ev.detail.rating) extra = t("rate_" + ev.detail.rating);
    if (ev.kind === "duplicate" && ev.detail && ev.detail.duplicate_of_number) extra = t("duplicate_of", { number: ev.detail.duplicate_of_number });
    if (ev.kind === "rejected" && ev.detail && ev.detail.reason) extra = ev.detail.reason;
    return el("li", { "data-kind": ev.kind },
      el("div", {}, el("strong", {}, eventLabel(ev)), " ",
        el("time", { datetime: ev.at, class: "muted small" }, fmtTime(ev.at))),
      extra ? el("div", {}, extra) : null,
      ev.note ? el("div", { class: "note" }, ev.note) : null);
  }));
}

function reporterActions(c) {
  const wrap = el("section", { class: "reporter-actions", "aria-labelledby": "actions-h" });
  const parts = [];
  if (c.state === "resolved") {
    const err = el("p", { class: "field-error", role: "alert", hidden: true });
    const reason = el("textarea", { id: "reopen-reason", maxlength: "1000", rows: "3" });
    const reopenForm = el("form", { id: "reopen-form", hidden: true, novalidate: true },
      el("label", { for: "reopen-reason" }, t("reopen_reason")), reason,
      el("div", { class: "actions" }, el("button", { type: "submit", class: "danger" }, t("reopen_go"))));
    reopenForm.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const note = reason.value.trim();
      if (!note) { showError(t("reopen_need_reason"), err); reason.focus(); return; }
      transition(c, { to: "in_progress", note }, t("reopened"), err, reopenForm.querySelector("button"));
    });
    const confirmBtn = el("button", { type: "button", class: "ok", id: "confirm-resolved" }, t("confirm_resolved"));
    confirmBtn.addEventListener("click", () => transition(c, { to: "closed" }, t("confirmed"), err, confirmBtn));
    const reopenBtn = el("button", { type: "button", class: "secondary", id: "reopen", "aria-expanded": "false",
      "aria-controls": "reopen-form" }, t("reopen"));
    reopenBtn.addEventListener("click", () => {
      reopenForm.hidden = !reopenForm.hidden;
      reopenBtn.setAttribute("aria-expanded", String(!reopenForm.hidden));
      if (!reopenForm.hidden) reason.focus();
    });
    parts.push(el("p", {}, t("resolved_ask")),
      el("div", { class: "actions" }, confirmBtn, reopenBtn), reopenForm, err,
      autoCloseDays ? el("p", { class: "small muted" }, t("auto_close_note", { n: autoCloseDays })) : null);
  }
  const rated = c.rating && c.rating.resolution >= c.resolutions;
  if ((c.state === "resolved" || c.state === "closed") && c.resolutions > 0 && !rated) parts.push(ratingForm(c));
  if (c.rating) {
    parts.push(el("p", { id: "my-rating" }, t("your_rating", { rating: t("rate_" + c.rating.rating) }),
      c.resolutions > 1 ? " (" + t("rate_for", { n: c.rating.resolution }) + ")" : "",
      c.rating.comment ? " — " + c.rating.comment : ""));
  }
  if (!parts.length) return null;
  wrap.append(el("h3", { id: "actions-h", class: "visually-hidden" }, t("resolved_ask")), ...parts.filter(Boolean));
  return wrap;
}

function ratingForm(c) {
  const err = el("p", { class: "field-error", role: "alert", hidden: true });
  const comment = el("textarea", { id: "rating-comment", maxlength: "1000", rows: "2" });
  const btn = el("button", { type: "submit" }, t("rating_submit"));
  const form = el("form", { id: "rating-form", novalidate: true },
    el("fieldset", { class: "rating" }, el("legend", {}, t("rating_legend")),
      el("div", { class: "rating-choices" }, RATINGS.map((r) =>
        el("label", { class: "check choice" }, el("input", { type: "radio", name: "rating", value: r }), t("rate_" + r))))),
    el("label", { for: "rating-comment" }, t("rating_comment")), comment,
    el("div", { class: "actions" }, btn), err);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    const choice = form.querySelector("input[name=rating]:checked");
    if (!choice) { showError(t("rating_need"), err); form.querySelector("input[name=rating]").focus(); return; }
    btn.disabled = true;
    try {
      const body = { rating: choice.value };
      if (comment.value.trim()) body.comment = comment.value.trim();
      current = await api("POST", "/api/v1/cases/" + c.id + "/rating", body);
      await afterChange(t("rated"));
    } catch (e) {
      btn.disabled = false;
      showError(explain(e), err);
    }
  });
  return form;
}

async function transition(c, body, ok, err, btn) {
  err.hidden = true;
  btn.disabled = true;
  try {
    current = await api("POST", "/api/v1/cases/" + c.id + "/transitions", body);
    await afterChange(ok);
  } catch (e) {
    btn.disabled = false;
    showError(explain(e), err);
  }
}

async function afterChange(msg) {
  myLoaded = false;
  // The answer may come without the history: read the case again.
  await openCase(current.id, false);
  announce(msg, "ok");
  const focus = $("case-state");
  if (focus) $("case-detail").focus();
}

// ---- start ----

function repaint() {
  paintCategories();
  paintPhotos();
  paintPoint();
  if (!$("nearby").hidden) paintNearby();
  markOrigin();
  if (myLoaded) paintMine();
  if (current && !$("view-case").hidden) paintCase();
  const number = $("done-text").dataset.number;
  if (number) $("done-text").textContent = t("done_text", { number });
  $("photos-hint").textContent = t("photos_hint", { n: PHOTOS_MAX, k: photos.length });
}

async function main() {
  // The login page brings people back without the #case=… part: keep it.
  const HASH = "linli.report.hash";
  if (!session()) {
    if (location.hash) sessionStorage.setItem(HASH, location.hash);
  } else {
    const kept = sessionStorage.getItem(HASH);
    sessionStorage.removeItem(HASH);
    if (kept && !location.hash) history.replaceState(null, "", kept);
  }
  startPage();
  const s = await requireLogin();
  me = s.user;
  paintPhotos();
  paintPoint();
  $("cannot-report").hidden = !["provider", "auditor"].includes(me.role);
  $("report-form").hidden = ["provider", "auditor"].includes(me.role);
  const settings = api("GET", "/api/v1/case-settings").then((r) => {
    autoCloseDays = r.auto_close_days;
    if (r.photo_body_max > 0) bodyMax = r.photo_body_max;
    if (r.photo_max_bytes > 0) photoMaxBytes = r.photo_max_bytes;
  }).catch(() => {});
  try {
    const r = await api("GET", "/api/v1/case-categories?all=true");
    categories = r.items || [];
  } catch (e) {
    showError(explain(e), $("category-error"));
  }
  paintCategories();
  await settings;

  $("photo-camera").addEventListener("change", (ev) => { addPhotos([...ev.target.files]); ev.target.value = ""; });
  $("photo-pick").addEventListener("change", (ev) => { addPhotos([...ev.target.files]); ev.target.value = ""; });
  $("use-location").addEventListener("click", useMyLocation);
  $("clear-location").addEventListener("click", () => {
    setPoint(null);
    applyPhotoPoint(); // without a place chosen, the photos' position counts again
    $("use-location").focus();
  });
  $("category").addEventListener("change", () => {
    if ($("category").value) { $("category-error").hidden = true; $("category").removeAttribute("aria-invalid"); }
    refreshNearby();
  });
  $("address").addEventListener("input", () => { if ($("address").value.trim()) $("where-error").hidden = true; });
  $("report-form").addEventListener("input", () => { pending = null; });
  $("report-form").addEventListener("change", () => { pending = null; });
  $("report-form").addEventListener("submit", submit);
  $("done-again").addEventListener("click", () => {
    $("report-done").hidden = true;
    $("report-form").hidden = false;
    delete $("done-text").dataset.number;
    ensureMap();
    $("photo-camera").focus();
  });
  $("mine-more").addEventListener("click", () => loadMine(false));
  window.addEventListener("hashchange", route);
  onLangChange(repaint);
  route();
  // Live: the event stream brings the changes to this account's own cases.
  stream("/api/v1/events", (type, data) => {
    if (!type.startsWith("case.") || !data || data.reporter_user_id !== me.id) return;
    if (myLoaded) loadMine(true);
    if (current && current.id === data.id && !$("view-case").hidden) openCase(current.id, false);
    if (type === "case.updated") announce(t("live_changed", { number: data.number }));
  });
}

main().catch((e) => announce(explain(e), "error"));
