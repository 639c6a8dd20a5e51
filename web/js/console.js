// console.js - the one-key-call operator's console (一键呼坐席): presence,
// the live queue, an offer ringing with Answer and Decline, the screen pop
// of the call in hand and what the operator does with it (classify,
// dispatch a service, try the contacts, escalate, note, follow-up, close),
// the call's timeline, and the proactive tasks.
//
// Everything changes live from the console stream (GET /api/v1/console/events);
// a console.call event makes the page read the call again, since events carry
// ids and area codes only.
import {
  addStrings, announce, api, el, fmtTime, onLangChange, pick, requireLogin, showError,
  startPage, stream, t, currentLang,
} from "./linli.js";

addStrings({
  zh: {
    c_title: "邻里 · 一键呼坐席", c_heading: "一键呼坐席",
    c_conn_connecting: "正在连接…", c_conn_open: "实时连接正常", c_conn_closed: "连接中断，正在重新连接…",
    c_presence_legend: "我的状态", c_presence_available: "在岗", c_presence_away: "离开", c_presence_busy: "通话中",
    c_state_available: "在岗：来电会分配给您。", c_state_away: "离开：不会给您分配来电。",
    c_state_busy: "通话中：结束通话后回到原来的状态。", c_since: "{time} 起",
    c_presence_restored: "连接已恢复，已重新设为在岗。",
    c_ring_sound: "来电时响铃",
    c_queue_heading: "等待中的呼叫", c_queue_empty: "现在没有等待的呼叫。",
    c_waited: "已等 {d}", c_queued: "排队中", c_offered_me: "正在向您振铃", c_offered_other: "正在向其他坐席振铃",
    c_take: "接入", c_take_label: "接入呼叫 #{id}（{trigger}）",
    c_urgent: "紧急", c_normal: "一般",
    trig_emergency: "紧急求助", trig_health: "健康咨询", trig_service: "生活服务", trig_fire: "火警",
    trig_family: "亲情", trig_fall: "跌倒报警", trig_manual: "人工",
    icon_emergency: "急", icon_health: "医", icon_service: "服", icon_fire: "火", icon_family: "亲",
    icon_fall: "跌", icon_manual: "人",
    c_offer_heading: "来电", c_offer_waited: "已等 {d}", c_offer_left: "振铃剩余 {d}",
    c_offer_announce: "来电：{trigger}，{name}", c_unknown_caller: "来电人未登记",
    c_answer: "接听", c_decline: "拒接",
    c_offer_gone_abandoned: "来电人已挂断。", c_offer_gone_other: "这通来电已由其他坐席接听。",
    c_offer_gone_moved: "这通来电已转给下一位坐席。",
    c_declined: "已拒接，来电转给下一位坐席。",
    c_idle_heading: "当前通话", c_idle_available: "等待来电…来电会在这里响铃。",
    c_idle_away: "您现在是「离开」状态，不会收到来电。要接听，请在左上角选「在岗」。",
    c_idle_offline: "与服务器的连接中断，正在重新连接；期间收不到来电。",
    c_last_call: "上一通：#{id} {trigger}，{category}，{time} 结束。",
    c_call_heading: "通话 #{id}", c_call_talking: "通话 {d}",
    c_answered: "已接听：{name}", c_pop_failed: "来电人资料没有加载出来：",
    call_state_queued: "排队中", call_state_offered: "振铃中", call_state_answered: "已接听",
    call_state_classified: "已分类", call_state_closed: "已结束", call_state_abandoned: "已挂断",
    cat_health_consultation: "健康咨询", cat_convenience_service: "便民服务", cat_emergency: "紧急救助",
    cat_fire: "火警", cat_family: "亲情通话", cat_false_alarm: "误报", cat_other: "其他",
    c_unclassified: "未分类",
    c_person: "来电人", c_age: "{n} 岁", sex_M: "男", sex_F: "女", c_phone: "电话", c_address: "地址",
    c_community: "社区", c_care_level: "照护等级", care_self_care: "自理", care_partly_dependent: "半失能",
    care_dependent: "失能", c_living_alone: "独居", c_living_alone_yes: "独居", c_living_alone_no: "否",
    c_disability: "残疾", c_conditions: "健康状况", c_none: "无",
    c_contacts: "紧急联系人", c_no_contacts: "没有登记紧急联系人。", c_call_contact: "拨打",
    c_reached: "联系上了", c_not_reached: "没联系上", c_reached_label: "{name}：联系上了",
    c_not_reached_label: "{name}：没联系上", c_tries: "已尝试：", c_try_reached: "{time} 联系上",
    c_try_not_reached: "{time} 未联系上",
    c_device: "呼叫设备", c_device_model: "型号", c_device_serial: "编号", c_battery: "电量",
    c_battery_low: "电量低", c_signal: "信号", c_last_seen: "最近上报", c_location: "最后位置",
    c_no_device: "这通呼叫没有设备信息。", c_never: "从未上报",
    c_history: "近期呼叫", c_no_history: "没有其他呼叫记录。", c_open_tasks: "未完成的任务", c_no_open_tasks: "没有。",
    c_services: "附近可派的服务（步行 15 分钟内）", c_no_services: "附近 15 分钟步行范围内没有找到合适的服务。",
    c_walk: "步行约 {m} 分钟 · {d} 米", c_open_now: "现在营业", c_closed_now: "现在未营业",
    c_suspended: "暂停服务，不能派单", c_unknown: "未知",
    c_service_for: "派单项目（{name}）", c_dispatch: "派单", c_dispatch_label: "派单：{name}",
    c_dispatched: "已派单：{name}",
    kind_institution: "养老机构", kind_station: "养老驿站", kind_dining_table: "老年餐桌",
    kind_regional_centre: "区域养老服务中心", kind_family_bed_provider: "家庭养老照护床位",
    kind_health_centre: "社区卫生服务中心（站）", kind_provider: "服务商",
    c_orders: "已派服务单", c_no_orders: "还没有派单。",
    order_sent: "已派单", order_accepted: "已接单", order_on_the_way: "在路上", order_done: "已完成", order_failed: "未成功",
    c_move_accepted: "已接单", c_move_on_the_way: "在路上", c_move_done: "已完成", c_move_failed: "未成功",
    c_move_label: "{facility}：标为{state}", c_order_moved: "{facility}：{state}",
    c_actions: "处理", c_classify: "呼叫分类", c_choose: "请选择…", c_note_optional: "备注（可不填）",
    c_save_classify: "保存分类", c_classified: "已分类：{category}", c_classify_missing: "请先选择分类。",
    c_escalate: "转接急救、消防、警方", c_esc_120: "转 120 急救", c_esc_119: "转 119 消防", c_esc_110: "转 110 报警",
    c_esc_title: "确认转 {target}", c_esc_text: "请先拨打 {target}，接通后点「确认」记入这通呼叫。",
    c_dial: "拨打 {target}", c_escalated: "已记录：转 {target}", c_confirm: "确认", c_back: "返回",
    c_note_heading: "通话记录", c_note_label: "记录内容", c_add_note: "添加记录", c_note_missing: "请先写下记录内容。",
    c_note_added: "记录已添加。",
    c_follow_heading: "安排回访", c_follow_at: "回访时间", c_follow_note: "回访说明（可不填）",
    c_follow_add: "安排回访", c_follow_missing: "请先选择回访时间。", c_follow_added: "已安排回访：{time}",
    c_close_heading: "结束通话", c_outcome: "处理结果", c_close: "结束通话",
    c_close_hint: "这通呼叫还没有分类。", c_closed: "通话已结束。",
    c_timeline: "通话经过", c_me: "我", c_operator_n: "坐席 #{id}",
    tl_created: "来电（{trigger}）", tl_offered: "向{who}振铃", tl_offer_expired: "{who}未接，转下一位",
    tl_declined: "{who}拒接", tl_offer_released: "撤回向{who}的振铃", tl_requeued: "重新排队",
    tl_answered: "{who}接听", tl_classified: "分类：{category}", tl_closed: "结束通话",
    tl_abandoned: "来电人挂断", tl_callback_task: "已生成回拨任务",
    tl_service_order: "派单：{facility}（{service}）", tl_contact_reached: "联系紧急联系人 {n}：联系上",
    tl_contact_not_reached: "联系紧急联系人 {n}：未联系上", tl_escalation: "转 {target}",
    tl_follow_up: "安排回访：{time}", tl_note: "记录", tl_action_updated: "服务单进度：{from} → {to}",
    c_tasks_heading: "主动服务任务", c_task_kind_filter: "任务类型", c_all_kinds: "全部类型",
    c_tasks_mine: "只看我认领的", c_tasks_empty: "没有待办的任务。", c_tasks_empty_mine: "您没有认领中的任务。", c_tasks_more: "加载更多", c_tasks_shown: "{n} 项", c_tasks_shown_more: "{n}+ 项",
    prio_0: "紧急", prio_1: "计划", prio_2: "维护",
    task_missed_checkin: "未报平安", task_no_activity: "长时间无活动", task_callback: "回拨",
    task_checkin_call: "电话问安", task_weekly_call: "每周问候", task_discharge_call: "出院随访",
    task_birthday_call: "生日问候", task_custom_call: "定期问候", task_follow_up: "回访",
    task_device_silent: "设备失联", task_low_battery: "设备电量低",
    tstate_open: "待认领", tstate_claimed: "已认领", tstate_done: "已完成", tstate_failed: "未办成", tstate_cancelled: "已取消",
    c_due: "到期 {time}", c_overdue: "已超时", c_claimed_by: "认领人：{name}", c_claimed_by_me: "由我认领",
    c_claim: "认领", c_claim_label: "认领：{kind}，{name}", c_claimed: "已认领：{kind}，{name}",
    c_task_outcome: "办理结果", c_task_done: "办完了", c_task_failed: "没办成", c_task_outcome_missing: "请先写下处理结果。",
    c_task_finished: "任务已结束：{kind}，{name}", c_task_cancel: "取消任务", c_task_cancelled: "任务已取消。",
    c_show_phone: "显示电话", c_show_phone_label: "显示 {name} 的电话", c_task_call: "拨打 {phone}",
    c_linked_call: "来自呼叫 #{id}", c_colon: "：",
  },
  en: {
    c_title: "Linli · Call console", c_heading: "One-key call console",
    c_conn_connecting: "Connecting…", c_conn_open: "Live", c_conn_closed: "Connection lost, reconnecting…",
    c_presence_legend: "My status", c_presence_available: "Available", c_presence_away: "Away", c_presence_busy: "On a call",
    c_state_available: "Available: calls will be offered to you.", c_state_away: "Away: no calls will be offered to you.",
    c_state_busy: "On a call: back to your previous status when you close it.", c_since: "since {time}",
    c_presence_restored: "Connection restored; you are available again.",
    c_ring_sound: "Ring for incoming calls",
    c_queue_heading: "Waiting calls", c_queue_empty: "No calls are waiting.",
    c_waited: "waiting {d}", c_queued: "in the queue", c_offered_me: "ringing for you", c_offered_other: "ringing for another operator",
    c_take: "Take", c_take_label: "Take call #{id} ({trigger})",
    c_urgent: "Urgent", c_normal: "Normal",
    trig_emergency: "Emergency", trig_health: "Health advice", trig_service: "Everyday services", trig_fire: "Fire",
    trig_family: "Family", trig_fall: "Fall alarm", trig_manual: "Manual",
    icon_emergency: "SOS", icon_health: "+", icon_service: "S", icon_fire: "119", icon_family: "♥",
    icon_fall: "!", icon_manual: "M",
    c_offer_heading: "Incoming call", c_offer_waited: "waiting {d}", c_offer_left: "rings for {d} more",
    c_offer_announce: "Incoming call: {trigger}, {name}", c_unknown_caller: "Caller not on record",
    c_answer: "Answer", c_decline: "Decline",
    c_offer_gone_abandoned: "The caller hung up.", c_offer_gone_other: "Another operator answered this call.",
    c_offer_gone_moved: "The call went on to the next operator.",
    c_declined: "Declined; the call goes to the next operator.",
    c_idle_heading: "Current call", c_idle_available: "Waiting for calls… an incoming call rings here.",
    c_idle_away: "You are away and will not be offered calls. Choose “Available” at the top left to take calls.",
    c_idle_offline: "The connection to the server is lost and being restored; no calls can reach you meanwhile.",
    c_last_call: "Last call: #{id} {trigger}, {category}, closed at {time}.",
    c_call_heading: "Call #{id}", c_call_talking: "talking {d}",
    c_answered: "Answered: {name}", c_pop_failed: "The caller's details did not load: ",
    call_state_queued: "Queued", call_state_offered: "Ringing", call_state_answered: "Answered",
    call_state_classified: "Classified", call_state_closed: "Closed", call_state_abandoned: "Caller hung up",
    cat_health_consultation: "Health consultation", cat_convenience_service: "Convenience service",
    cat_emergency: "Emergency help", cat_fire: "Fire", cat_family: "Family call", cat_false_alarm: "False alarm",
    cat_other: "Other", c_unclassified: "Not classified",
    c_person: "Caller", c_age: "{n} years", sex_M: "male", sex_F: "female", c_phone: "Phone", c_address: "Address",
    c_community: "Community", c_care_level: "Care level", care_self_care: "Self-care",
    care_partly_dependent: "Partly dependent", care_dependent: "Dependent", c_living_alone: "Living alone",
    c_living_alone_yes: "Lives alone", c_living_alone_no: "No", c_disability: "Disability", c_conditions: "Health",
    c_none: "None",
    c_contacts: "Emergency contacts", c_no_contacts: "No emergency contacts on record.", c_call_contact: "Call",
    c_reached: "Reached", c_not_reached: "Not reached", c_reached_label: "{name}: reached",
    c_not_reached_label: "{name}: not reached", c_tries: "Tried: ", c_try_reached: "{time} reached",
    c_try_not_reached: "{time} not reached",
    c_device: "Call device", c_device_model: "Model", c_device_serial: "Serial", c_battery: "Battery",
    c_battery_low: "Low battery", c_signal: "Signal", c_last_seen: "Last heard", c_location: "Last location",
    c_no_device: "No device details for this call.", c_never: "never",
    c_history: "Recent calls", c_no_history: "No other calls.", c_open_tasks: "Open tasks", c_no_open_tasks: "None.",
    c_services: "Services nearby (within a 15-minute walk)", c_no_services: "No suitable service within a 15-minute walk.",
    c_walk: "about {m} min walk · {d} m", c_open_now: "Open now", c_closed_now: "Closed now",
    c_suspended: "Suspended: takes no orders", c_unknown: "unknown",
    c_service_for: "Service to order ({name})", c_dispatch: "Dispatch", c_dispatch_label: "Dispatch: {name}",
    c_dispatched: "Dispatched: {name}",
    kind_institution: "Care home", kind_station: "Care station", kind_dining_table: "Dining table",
    kind_regional_centre: "Regional care centre", kind_family_bed_provider: "Family care beds",
    kind_health_centre: "Community health centre", kind_provider: "Service provider",
    c_orders: "Service orders", c_no_orders: "No service ordered yet.",
    order_sent: "Sent", order_accepted: "Accepted", order_on_the_way: "On the way", order_done: "Done", order_failed: "Failed",
    c_move_accepted: "Accepted", c_move_on_the_way: "On the way", c_move_done: "Done", c_move_failed: "Failed",
    c_move_label: "{facility}: mark {state}", c_order_moved: "{facility}: {state}",
    c_actions: "Handling", c_classify: "Call category", c_choose: "Choose…", c_note_optional: "Note (optional)",
    c_save_classify: "Save category", c_classified: "Classified: {category}", c_classify_missing: "Choose a category first.",
    c_escalate: "Hand over to ambulance, fire or police", c_esc_120: "120 ambulance", c_esc_119: "119 fire", c_esc_110: "110 police",
    c_esc_title: "Confirm hand-over to {target}", c_esc_text: "Call {target} first; once through, press “Confirm” to record it on this call.",
    c_dial: "Dial {target}", c_escalated: "Recorded: handed over to {target}", c_confirm: "Confirm", c_back: "Back",
    c_note_heading: "Call notes", c_note_label: "Note", c_add_note: "Add note", c_note_missing: "Write the note first.",
    c_note_added: "Note added.",
    c_follow_heading: "Follow-up", c_follow_at: "Follow-up time", c_follow_note: "What to follow up (optional)",
    c_follow_add: "Schedule follow-up", c_follow_missing: "Choose the follow-up time first.", c_follow_added: "Follow-up scheduled: {time}",
    c_close_heading: "Close the call", c_outcome: "Outcome", c_close: "Close call",
    c_close_hint: "This call has no category yet.", c_closed: "The call is closed.",
    c_timeline: "Timeline", c_me: "me", c_operator_n: "operator #{id}",
    tl_created: "Call came in ({trigger})", tl_offered: "Rang for {who}", tl_offer_expired: "Not answered by {who}; moved on",
    tl_declined: "Declined by {who}", tl_offer_released: "Offer to {who} withdrawn", tl_requeued: "Queued again",
    tl_answered: "Answered by {who}", tl_classified: "Category: {category}", tl_closed: "Call closed",
    tl_abandoned: "The caller hung up", tl_callback_task: "Call-back task made",
    tl_service_order: "Service ordered: {facility} ({service})", tl_contact_reached: "Emergency contact {n}: reached",
    tl_contact_not_reached: "Emergency contact {n}: not reached", tl_escalation: "Handed over to {target}",
    tl_follow_up: "Follow-up scheduled: {time}", tl_note: "Note", tl_action_updated: "Service order: {from} → {to}",
    c_tasks_heading: "Proactive tasks", c_task_kind_filter: "Kind of task", c_all_kinds: "All kinds",
    c_tasks_mine: "Only tasks I claimed", c_tasks_empty: "No tasks to do.", c_tasks_empty_mine: "You hold no claimed task.", c_tasks_more: "Load more", c_tasks_shown: "{n}", c_tasks_shown_more: "{n}+",
    prio_0: "Urgent", prio_1: "Planned", prio_2: "Maintenance",
    task_missed_checkin: "Missed check-in", task_no_activity: "No activity", task_callback: "Call back",
    task_checkin_call: "Check-in call", task_weekly_call: "Weekly call", task_discharge_call: "Discharge follow-up",
    task_birthday_call: "Birthday call", task_custom_call: "Planned call", task_follow_up: "Follow-up",
    task_device_silent: "Device silent", task_low_battery: "Low battery",
    tstate_open: "Open", tstate_claimed: "Claimed", tstate_done: "Done", tstate_failed: "Failed", tstate_cancelled: "Cancelled",
    c_due: "due {time}", c_overdue: "Overdue", c_claimed_by: "Claimed by {name}", c_claimed_by_me: "Claimed by me",
    c_claim: "Claim", c_claim_label: "Claim: {kind}, {name}", c_claimed: "Claimed: {kind}, {name}",
    c_task_outcome: "What was done", c_task_done: "Done", c_task_failed: "Could not do it", c_task_outcome_missing: "Write the outcome first.",
    c_task_finished: "Task finished: {kind}, {name}", c_task_cancel: "Cancel task", c_task_cancelled: "Task cancelled.",
    c_show_phone: "Show phone", c_show_phone_label: "Show {name}'s phone", c_task_call: "Call {phone}",
    c_linked_call: "from call #{id}", c_colon: ": ",
  },
});

const CATEGORIES = ["health_consultation", "convenience_service", "emergency", "fire", "family", "false_alarm", "other"];
const TASK_KINDS = ["missed_checkin", "no_activity", "callback", "checkin_call", "weekly_call", "discharge_call",
  "birthday_call", "custom_call", "follow_up", "device_silent", "low_battery"];
const ORDER_NEXT = { sent: ["accepted", "on_the_way", "done"], accepted: ["on_the_way", "done"], on_the_way: ["done"] };
const SOUND = "linli.console.ring";

const S = {
  me: null,
  connected: null,          // null before the first connection, then true/false
  syncs: 0,
  presence: "away",
  presenceSince: null,
  wantAvailable: false,     // the operator's own choice, restored after a reconnect
  queues: new Map(),        // community code -> waiting calls
  offer: null,              // {call, pop, deadline}
  current: null,            // {id, call, pop, popError}
  lastClosed: null,
  tasks: [],
  taskCursor: null,
  taskKind: "",
  taskMine: false,          // only the tasks this operator claimed (tasks?mine=true)
  taskPhones: new Map(),    // person id -> revealed phone
  catalogue: new Map(),     // service code -> {name_zh, name_en}
  areas: new Map(),         // community code -> name
};

const $ = (id) => document.getElementById(id);

// ---- small helpers ----

/** t(key), or `fallback` when the key is not known (codes the server may add). */
function tk(key, fallback, vars) {
  const s = t(key, vars);
  return s === key ? (fallback ?? key) : s;
}
const triggerLabel = (tr) => tk("trig_" + tr, tr);
const categoryLabel = (c) => (c ? tk("cat_" + c, c) : t("c_unclassified"));
const taskKindLabel = (k) => tk("task_" + k, k);
const communityName = (code) => (code && S.areas.get(code)) || code || "—";
function serviceName(code) {
  const s = S.catalogue.get(code);
  return s ? pick(s, "name") : code || "—";
}
/** Who an operator is, for the timeline: "me", the name the row gives them
 * (display name, else the username), or their number when it gives none. */
function who(userId, name) {
  if (!userId) return t("c_operator_n", { id: "?" });
  if (S.me && userId === S.me.id) return t("c_me");
  return name || t("c_operator_n", { id: userId });
}

/** m:ss or h:mm:ss for a span of milliseconds. */
function fmtDur(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
}

/** A clock time with seconds, Beijing time. */
function clock(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return new Intl.DateTimeFormat(currentLang() === "zh" ? "zh-CN" : "en-GB",
    { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }).format(d);
}

/** A span whose text the ticker keeps up to date: the time since `iso`. */
function since(iso, key) {
  return el("span", { class: "ticking", dataset: { since: iso || "", key } }, t(key, { d: fmtDur(Date.now() - Date.parse(iso)) }));
}
/** A span counting down to `ms` (epoch milliseconds). */
function countdown(ms, key) {
  return el("span", { class: "ticking", dataset: { until: String(ms), key } }, t(key, { d: fmtDur(ms - Date.now()) }));
}
function tick() {
  const now = Date.now();
  document.querySelectorAll(".ticking").forEach((e) => {
    const d = e.dataset.since ? now - Date.parse(e.dataset.since) : Number(e.dataset.until) - now;
    e.textContent = t(e.dataset.key, { d: fmtDur(d) });
  });
}

function triggerIcon(tr, urgent) {
  return el("span", { class: "ticon t-" + tr + (urgent ? " urgent" : ""), "aria-hidden": "true" }, tk("icon_" + tr, "?"));
}
function urgencyBadge(urgent) {
  return el("span", { class: "badge " + (urgent ? "bad" : "info") }, urgent ? t("c_urgent") : t("c_normal"));
}
function telLink(phone, label) {
  if (!phone) return el("span", {}, "—");
  return el("a", { href: "tel:" + phone, class: "tel" }, label || phone);
}
function hideError(box) { if (box) { box.hidden = true; box.textContent = ""; } }
function errorBox(id) { return el("p", { class: "error", id, role: "alert", hidden: true }); }

/** Runs fn (which rebuilds part of the page) keeping what the operator was
 * typing and where the focus was, by element id. */
function keepInputs(root, fn) {
  const values = new Map();
  root.querySelectorAll("input[id], textarea[id], select[id]").forEach((e) => {
    values.set(e.id, e.type === "checkbox" || e.type === "radio" ? e.checked : e.value);
  });
  const focused = document.activeElement && root.contains(document.activeElement) ? document.activeElement.id : null;
  fn();
  for (const [id, v] of values) {
    const e = document.getElementById(id);
    if (!e || !root.contains(e)) continue;
    if (e.type === "checkbox" || e.type === "radio") e.checked = v;
    else if (e.tagName !== "SELECT") e.value = v;
    else if (v !== "" && [...e.options].some((o) => o.value === v)) e.value = v; // an unmade choice keeps the new default
  }
  if (focused) { const f = document.getElementById(focused); if (f) f.focus(); }
}

/** Disables `btn` while `fn` runs; shows a refusal in `box`. Answers true on success. */
async function act(btn, box, fn) {
  // `box` may be an element id: the panel may be rebuilt while the request runs.
  const where = () => (typeof box === "string" ? $(box) : box);
  hideError(where());
  if (btn) btn.disabled = true;
  try {
    await fn();
    return true;
  } catch (e) {
    showError(e, where());
    return false;
  } finally {
    if (btn && btn.isConnected) btn.disabled = false;
  }
}

// ---- the ring ----

let audio = null, ringTimer = null;
function prepareAudio() {
  if (audio || !window.AudioContext) return;
  try { audio = new AudioContext(); } catch { audio = null; }
}
function ringOnce() {
  if (!audio || !$("ring-sound").checked) return;
  try {
    if (audio.state === "suspended") audio.resume();
    const now = audio.currentTime;
    for (const [f, at] of [[880, 0], [660, 0.35]]) {
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, now + at);
      g.gain.exponentialRampToValueAtTime(0.25, now + at + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.3);
      o.connect(g).connect(audio.destination);
      o.start(now + at);
      o.stop(now + at + 0.32);
    }
  } catch { /* no sound: the page still rings visibly */ }
}
function startRing() { stopRing(); ringOnce(); ringTimer = setInterval(ringOnce, 2500); }
function stopRing() { clearInterval(ringTimer); ringTimer = null; }

// ---- connection and presence ----

function renderConn() {
  const box = $("conn");
  const state = S.connected === null ? "connecting" : S.connected ? "open" : "closed";
  box.className = "conn " + state;
  $("conn-text").textContent = t("c_conn_" + state);
}

function renderPresence() {
  $("presence").disabled = !S.connected;
  const p = S.presence;
  $("presence-available").checked = p === "available" || p === "busy";
  $("presence-away").checked = p === "away";
  const line = $("presence-state");
  line.className = "presence-state " + p;
  line.replaceChildren(
    el("span", { class: "badge " + (p === "available" ? "ok" : p === "busy" ? "warn" : "") }, t("c_presence_" + p)),
    " ", t("c_state_" + p),
    S.presenceSince ? el("span", { class: "since small muted" }, t("c_since", { time: fmtTime(S.presenceSince, false) })) : null);
}

async function setPresence(state) {
  prepareAudio();
  const box = "presence-error";
  const ok = await act(null, box, async () => {
    const r = await api("PUT", "/api/v1/console/presence", { state });
    S.presence = r.state;
    S.presenceSince = r.since;
  });
  if (ok) S.wantAvailable = state === "available";
  renderPresence();
  renderCentre();
  if (ok) announce(t("c_presence_" + S.presence) + " · " + t("c_state_" + S.presence), "ok");
}

// ---- the queue ----

function allWaiting() {
  const calls = [];
  for (const list of S.queues.values()) calls.push(...list);
  calls.sort((a, b) => a.priority - b.priority || Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id);
  return calls;
}

function renderQueue() {
  const calls = allWaiting();
  $("queue-count").textContent = String(calls.length);
  $("queue-count").className = "badge " + (calls.some((c) => c.urgent) ? "bad" : calls.length ? "warn" : "");
  $("queue-empty").hidden = calls.length > 0;
  const mine = S.me && S.me.id;
  $("queue").replaceChildren(...calls.map((c) => {
    const state = c.state === "offered" ? (c.offered_to === mine ? t("c_offered_me") : t("c_offered_other")) : t("c_queued");
    const canTake = !S.current && c.state === "queued";
    const take = canTake ? el("button", {
      type: "button", class: "secondary take",
      "aria-label": t("c_take_label", { id: c.id, trigger: triggerLabel(c.trigger) }),
      onclick: (ev) => takeCall(c.id, ev.currentTarget),
    }, t("c_take")) : null;
    return el("li", { class: "qcall" + (c.urgent ? " urgent" : ""), dataset: { callId: c.id } },
      triggerIcon(c.trigger, c.urgent),
      el("div", { class: "qmain" },
        el("div", {}, el("strong", {}, triggerLabel(c.trigger)), " ", urgencyBadge(c.urgent)),
        el("div", { class: "small" }, communityName(c.community_code)),
        el("div", { class: "small muted" }, since(c.created_at, "c_waited"), " · ", state)),
      take);
  }));
}

async function takeCall(id, btn) {
  prepareAudio();
  await act(btn, "queue-error", async () => {
    const call = await api("POST", `/api/v1/calls/${id}/answer`);
    await startCall(call, null);
  });
}

// ---- the offer ----

let shownOffer = null; // the offer and language the card was drawn for

function renderOffer() {
  const box = $("offer");
  const o = S.offer;
  box.hidden = !o;
  document.title = (o ? "● " + t("c_offer_heading") + " — " : "") + t("c_title");
  if (!o) { shownOffer = null; box.replaceChildren(); stopRing(); return; }
  if (shownOffer && shownOffer.o === o && shownOffer.lang === currentLang()) return;
  shownOffer = { o, lang: currentLang() };
  const hadFocus = document.activeElement && document.activeElement.id;
  const c = o.call, p = o.pop && o.pop.person;
  box.classList.toggle("urgent", !!c.urgent);
  box.replaceChildren(
    el("div", { class: "offer-head" },
      triggerIcon(c.trigger, c.urgent),
      el("h2", { id: "offer-h" }, t("c_offer_heading"), " · ", triggerLabel(c.trigger)),
      urgencyBadge(c.urgent)),
    p ? el("p", { class: "offer-who" }, el("strong", {}, p.name),
      p.age != null ? " " + t("c_age", { n: p.age }) : "", p.sex ? " · " + t("sex_" + p.sex) : "",
      p.living_alone ? el("span", { class: "badge warn" }, t("c_living_alone_yes")) : null,
      el("span", { class: "badge " + (p.care_level === "self_care" ? "info" : "warn") }, tk("care_" + p.care_level, p.care_level)))
      : el("p", { class: "offer-who" }, t("c_unknown_caller")),
    p && p.conditions && p.conditions.length ? el("p", { class: "conds" }, p.conditions.map((c) => el("span", { class: "badge" }, c))) : null,
    p ? el("p", { class: "small" }, communityName(p.community_code) + " · " + (p.address || "")) : null,
    el("p", { class: "small muted" }, since(c.created_at, "c_offer_waited"),
      o.deadline ? [" · ", countdown(o.deadline, "c_offer_left")] : null),
    el("div", { class: "actions" },
      el("button", { type: "button", id: "answer", class: "ok big", onclick: (ev) => answerOffer(ev.currentTarget) }, t("c_answer")),
      el("button", { type: "button", id: "decline", class: "secondary big", onclick: (ev) => declineOffer(ev.currentTarget) }, t("c_decline"))),
    errorBox("offer-error"));
  if (hadFocus === "answer" || hadFocus === "decline") $(hadFocus).focus();
}

/** When an offer stops ringing, in this browser's epoch milliseconds: a
 * fresh offer counts its timeout from now (whatever this computer's clock
 * says); an offer picked up again on reconnecting has only the server's
 * time it expires at. null when neither is known. */
function offerDeadline(data) {
  if (data.offer_timeout_ms) return Date.now() + data.offer_timeout_ms;
  const at = data.offer_expires_at ? Date.parse(data.offer_expires_at) : NaN;
  return isNaN(at) ? null : at;
}

function onOffer(data) {
  // An offer may come before the reply to this operator's own close: the
  // server offers nothing to a busy operator, so it is shown at once.
  const first = !S.offer || S.offer.call.id !== data.call.id;
  S.offer = { call: data.call, pop: data.screen_pop || null, deadline: offerDeadline(data) };
  renderCentre();
  if (first) {
    const p = S.offer.pop && S.offer.pop.person;
    announce(t("c_offer_announce", { trigger: triggerLabel(data.call.trigger), name: p ? p.name : t("c_unknown_caller") }),
      data.call.urgent ? "error" : "info");
    startRing();
    const a = document.activeElement;
    const typing = a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT");
    if (!typing) $("answer").focus();
  }
}

async function answerOffer(btn) {
  const o = S.offer;
  if (!o) return;
  await act(btn, "offer-error", async () => {
    const call = await api("POST", `/api/v1/calls/${o.call.id}/answer`);
    await startCall(call, o.pop);
  });
}

async function declineOffer(btn) {
  const o = S.offer;
  if (!o) return;
  const ok = await act(btn, "offer-error", () => api("POST", `/api/v1/calls/${o.call.id}/decline`));
  if (ok) {
    if (S.offer === o) S.offer = null;
    renderCentre();
    announce(t("c_declined"));
  }
}

/** A console.call about the call that is ringing here: did it stop ringing? */
function offerUpdate(call) {
  const o = S.offer;
  if (!o || o.call.id !== call.id) return;
  if (call.state === "offered" && call.offered_to === S.me.id) return;
  if ((call.state === "answered" || call.state === "classified") && call.operator_id === S.me.id) return;
  S.offer = null;
  renderCentre();
  const why = call.state === "abandoned" ? "c_offer_gone_abandoned"
    : call.operator_id ? "c_offer_gone_other" : "c_offer_gone_moved";
  announce(t(why), "info");
}

// ---- the call in hand ----

/** Makes `call` (just answered, or found on reconnecting) the current call. */
async function startCall(call, pop) {
  // The answer's reply and the stream's console.call may both bring it.
  if (S.current && S.current.id === call.id) return;
  S.offer = null;
  stopRing();
  S.current = { id: call.id, call: Object.assign({ timeline: [], actions: [] }, call), pop, popError: null };
  renderCentre();
  renderQueue();
  const h = $("call-h");
  if (h) h.focus();
  const cur = S.current;
  if (!pop) {
    try {
      cur.pop = await api("GET", `/api/v1/calls/${call.id}/screen-pop`);
    } catch (e) {
      cur.popError = e;
    }
    if (S.current === cur) keepInputs($("call"), buildCall);
  }
  const p = cur.pop && cur.pop.person;
  announce(t("c_answered", { name: p ? p.name : t("c_unknown_caller") }), "ok");
  loadDevice(cur);
  await refreshCall();
}

let refreshTimer = null, refreshSeq = 0;
function scheduleRefresh() { clearTimeout(refreshTimer); refreshTimer = setTimeout(refreshCall, 150); }
async function refreshCall() {
  const cur = S.current;
  if (!cur) return;
  const seq = ++refreshSeq;
  try {
    const call = await api("GET", `/api/v1/calls/${cur.id}`);
    if (seq !== refreshSeq || S.current !== cur) return;
    cur.call = call;
    if (call.state === "closed" || call.state === "abandoned") endCall(call);
    else updateCall();
  } catch (e) {
    if (S.current === cur) showError(e, $("call-error"));
  }
}

function endCall(call) {
  S.lastClosed = call;
  S.current = null;
  renderCentre();
  renderQueue();
}

/** Once the page (re)connects, console.sync names the call this operator
 * answered and has not closed (after a reload, or a call answered in
 * another tab) and the call ringing for them, with when it stops ringing:
 * the page picks up there. */
async function restoreFromSync(currentId, offerId, offerExpiresAt) {
  try {
    if (currentId) {
      if (S.current) { scheduleRefresh(); if (S.current.id === currentId) return; }
      const call = await api("GET", `/api/v1/calls/${currentId}`);
      if (!S.current && (call.state === "answered" || call.state === "classified")) await startCall(call, null);
      return;
    }
    // The call in hand was closed meanwhile (elsewhere): reading it ends it here.
    if (S.current) scheduleRefresh();
    if (offerId && !S.current && (!S.offer || S.offer.call.id !== offerId)) {
      const [call, pop] = await Promise.all([
        api("GET", `/api/v1/calls/${offerId}`),
        api("GET", `/api/v1/calls/${offerId}/screen-pop`).catch(() => null),
      ]);
      if (S.current || (S.offer && S.offer.call.id === offerId) || call.state !== "offered" || call.offered_to !== S.me.id) return;
      onOffer({ call, screen_pop: pop, offer_expires_at: offerExpiresAt });
    }
  } catch (e) {
    showError(e, $("page-error"));
  }
}

/** The caller's device as of now (battery, last location). */
async function loadDevice(cur) {
  if (!cur.call.device_id) return;
  try { cur.device = await api("GET", `/api/v1/devices/${cur.call.device_id}`); } catch { return; /* the pop's copy stays */ }
  if (S.current === cur) keepInputs($("call"), buildCall);
}

function renderCentre() {
  renderOffer();
  const cur = S.current;
  $("call").hidden = !cur;
  $("idle").hidden = !!(cur || S.offer);
  if (cur) {
    if (Number($("call").dataset.callId) !== cur.id || !$("call").firstChild) buildCall();
    else updateCall();
  } else {
    $("call").replaceChildren();
    delete $("call").dataset.callId;
  }
  const text = S.connected === false ? t("c_idle_offline") : S.presence === "away" ? t("c_idle_away") : t("c_idle_available");
  $("idle-text").textContent = text;
  $("idle").className = "card idle " + (S.connected === false ? "offline" : S.presence);
  const last = S.lastClosed;
  $("last-call").hidden = !last;
  if (last) {
    $("last-call").textContent = t("c_last_call", {
      id: last.id, trigger: triggerLabel(last.trigger), category: categoryLabel(last.category), time: fmtTime(last.closed_at, false),
    });
  }
}

function factsRow(label, ...value) { return [el("dt", {}, label), el("dd", {}, ...value)]; }

function personCard(pop) {
  const p = pop && pop.person;
  if (!p) return el("section", { class: "card" }, el("h3", {}, t("c_person")), el("p", {}, t("c_unknown_caller")));
  return el("section", { class: "card person", "aria-labelledby": "pop-name" },
    el("h3", { id: "pop-name", class: "person-name" }, p.name),
    el("p", { class: "person-sub" },
      [p.age != null ? t("c_age", { n: p.age }) : null, p.sex ? t("sex_" + p.sex) : null].filter(Boolean).join(" · "),
      " ", p.living_alone ? el("span", { class: "badge warn" }, t("c_living_alone_yes")) : null,
      " ", el("span", { class: "badge " + (p.care_level === "self_care" ? "info" : "warn") }, tk("care_" + p.care_level, p.care_level))),
    el("dl", { class: "facts" },
      factsRow(t("c_phone"), telLink(p.phone)),
      factsRow(t("c_address"), p.address || "—"),
      factsRow(t("c_community"), p.community_name || communityName(p.community_code)),
      factsRow(t("c_living_alone"), p.living_alone ? t("c_living_alone_yes") : t("c_living_alone_no")),
      factsRow(t("c_disability"), p.disability || t("c_none")),
      factsRow(t("c_conditions"), p.conditions && p.conditions.length
        ? el("span", { class: "conds" }, p.conditions.map((c) => el("span", { class: "badge" }, c))) : t("c_none"))));
}

function contactsCard(pop) {
  const list = (pop && pop.contacts) || [];
  return el("section", { class: "card contacts", "aria-labelledby": "contacts-h" },
    el("h3", { id: "contacts-h" }, t("c_contacts")),
    list.length ? el("ol", { id: "contacts", class: "plain" }, list.map((c) =>
      el("li", { class: "item contact", dataset: { position: c.position } },
        el("div", { class: "contact-who" }, el("strong", {}, c.name),
          c.relation ? el("span", { class: "muted" }, " (" + c.relation + ")") : null),
        el("div", { class: "contact-phone" }, telLink(c.phone, c.phone)),
        el("div", { class: "actions tight" },
          el("button", { type: "button", class: "ok small-btn", "aria-label": t("c_reached_label", { name: c.name }),
            onclick: (ev) => contactTried(c.position, true, ev.currentTarget) }, t("c_reached")),
          el("button", { type: "button", class: "secondary small-btn", "aria-label": t("c_not_reached_label", { name: c.name }),
            onclick: (ev) => contactTried(c.position, false, ev.currentTarget) }, t("c_not_reached"))),
        el("div", { class: "small tries", id: "tries-" + c.position })))) : el("p", { class: "muted" }, t("c_no_contacts")),
    errorBox("contacts-error"));
}

function deviceCard(pop, now) {
  // The pop is what the store had at the offer; the device's own record has
  // the heartbeats since.
  const d = pop && pop.device ? Object.assign({}, pop.device, now || {}) : now;
  const body = d ? el("dl", { class: "facts" },
    factsRow(t("c_device_model"), d.model || "—"),
    factsRow(t("c_device_serial"), d.serial || "—"),
    factsRow(t("c_battery"), d.battery == null ? t("c_unknown") : d.battery + "%",
      d.battery != null && d.battery <= 20 ? el("span", { class: "badge bad" }, t("c_battery_low")) : null),
    factsRow(t("c_signal"), d.signal == null ? t("c_unknown") : d.signal + " dBm"),
    factsRow(t("c_last_seen"), d.last_seen_at ? fmtTime(d.last_seen_at) : t("c_never")),
    factsRow(t("c_location"), d.location
      ? d.location.lat.toFixed(5) + ", " + d.location.lon.toFixed(5) + (d.location.at ? " (" + fmtTime(d.location.at) + ")" : "")
      : "—"))
    : el("p", { class: "muted" }, t("c_no_device"));
  return el("section", { class: "card device", "aria-labelledby": "device-h" }, el("h3", { id: "device-h" }, t("c_device")), body);
}

function historyCard(pop) {
  const recent = (pop && pop.recent_calls) || [], tasks = (pop && pop.open_tasks) || [];
  return el("section", { class: "card history", "aria-labelledby": "history-h" },
    el("h3", { id: "history-h" }, t("c_history")),
    recent.length ? el("ul", { class: "plain compact" }, recent.map((c) => el("li", {},
      fmtTime(c.created_at), " · ", triggerLabel(c.trigger), " · ", categoryLabel(c.category), " · ",
      tk("call_state_" + c.state, c.state)))) : el("p", { class: "muted" }, t("c_no_history")),
    el("h3", {}, t("c_open_tasks")),
    tasks.length ? el("ul", { class: "plain compact" }, tasks.map((k) => el("li", {},
      el("span", { class: "badge " + (k.priority === 0 ? "bad" : "") }, tk("prio_" + k.priority, "")), " ",
      taskKindLabel(k.kind), " · ", t("c_due", { time: fmtTime(k.due_at) })))) : el("p", { class: "muted" }, t("c_no_open_tasks")));
}

function servicesCard(pop) {
  const items = (pop && pop.services) || [];
  return el("section", { class: "card services", "aria-labelledby": "services-h" },
    el("h3", { id: "services-h" }, t("c_services")),
    items.length ? el("ul", { id: "services", class: "plain" }, items.map((s) => {
      // What the facility offers, the one that made it suitable first.
      const codes = [...(s.services || [])];
      if (s.service && !codes.includes(s.service)) codes.unshift(s.service);
      else if (s.service) codes.sort((a, b) => (b === s.service) - (a === s.service));
      // A suspended facility is listed so the operator sees why not to send there.
      const suspended = s.status === "suspended";
      const selId = "svc-" + s.id;
      return el("li", { class: "item service" + (suspended ? " suspended" : ""), dataset: { facilityId: s.id, status: s.status || "" } },
        el("div", { class: "svc-head" }, el("strong", {}, s.name), " ",
          el("span", { class: "badge info" }, tk("kind_" + s.kind, s.kind)), " ",
          suspended ? el("span", { class: "badge bad" }, "✕ ", t("c_suspended"))
            : el("span", { class: "badge " + (s.open_now ? "ok" : "warn") }, s.open_now ? t("c_open_now") : t("c_closed_now"))),
        el("div", { class: "small" }, t("c_walk", { m: s.walk_minutes, d: s.distance_m }),
          s.phone ? [" · ", telLink(s.phone)] : null),
        el("div", { class: "small muted" }, s.address || ""),
        codes.length && !suspended ? el("div", { class: "row dispatch" },
          el("div", {}, el("label", { for: selId }, t("c_service_for", { name: s.name })),
            el("select", { id: selId }, codes.map((code) =>
              el("option", { value: code, selected: code === s.service }, serviceName(code))))),
          el("div", { class: "shrink" }, el("button", { type: "button", class: "dispatch-btn",
            "aria-label": t("c_dispatch_label", { name: s.name }),
            onclick: (ev) => dispatch(s, ev.currentTarget) }, t("c_dispatch")))) : null,
        errorBox("svc-error-" + s.id));
    })) : el("p", { class: "muted" }, t("c_no_services")));
}

function ordersCard() {
  return el("section", { class: "card orders", "aria-labelledby": "orders-h" },
    el("h3", { id: "orders-h" }, t("c_orders")),
    el("ul", { id: "orders", class: "plain" }),
    errorBox("orders-error"));
}

function actionsCard() {
  const form = (id, onsubmit, ...children) => el("form", { id, novalidate: true, onsubmit: (ev) => { ev.preventDefault(); onsubmit(ev); } }, ...children);
  return el("section", { class: "card handling", "aria-labelledby": "handling-h" },
    el("h3", { id: "handling-h", class: "visually-hidden" }, t("c_actions")),
    form("classify-form", classify,
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "classify-cat" }, t("c_classify")),
          el("select", { id: "classify-cat" }, el("option", { value: "" }, t("c_choose")),
            CATEGORIES.map((c) => el("option", { value: c }, categoryLabel(c))))),
        el("div", {}, el("label", { for: "classify-note" }, t("c_note_optional")),
          el("input", { id: "classify-note", maxlength: 500, autocomplete: "off" })),
        el("div", { class: "shrink" }, el("button", { type: "submit", id: "classify-go" }, t("c_save_classify")))),
      errorBox("classify-error")),
    el("h4", {}, t("c_escalate")),
    el("div", { class: "actions escalate" }, ["120", "119", "110"].map((target) =>
      el("button", { type: "button", class: "escalate-btn", onclick: (ev) => escalate(target, ev.currentTarget) }, t("c_esc_" + target)))),
    errorBox("escalate-error"),
    form("note-form", addNote,
      el("label", { for: "note-text" }, t("c_note_label")),
      el("textarea", { id: "note-text", maxlength: 500, rows: 3 }),
      el("div", { class: "actions" }, el("button", { type: "submit", id: "note-go" }, t("c_add_note"))),
      errorBox("note-error")),
    el("details", { class: "follow" },
      el("summary", {}, t("c_follow_heading")),
      form("follow-form", addFollowUp,
        el("div", { class: "row" },
          el("div", {}, el("label", { for: "follow-at" }, t("c_follow_at")), el("input", { id: "follow-at", type: "datetime-local" })),
          el("div", {}, el("label", { for: "follow-note" }, t("c_follow_note")), el("input", { id: "follow-note", maxlength: 500, autocomplete: "off" }))),
        el("div", { class: "actions" }, el("button", { type: "submit", class: "secondary", id: "follow-go" }, t("c_follow_add"))),
        errorBox("follow-error"))),
    form("close-form", closeCall,
      el("h4", {}, t("c_close_heading")),
      el("label", { for: "close-outcome" }, t("c_outcome")),
      el("textarea", { id: "close-outcome", maxlength: 500, rows: 2 }),
      el("p", { id: "close-hint", class: "small warn-text", hidden: true }, t("c_close_hint")),
      el("div", { class: "actions" }, el("button", { type: "submit", id: "close-go", class: "big" }, t("c_close"))),
      errorBox("close-error")));
}

/** Builds the call panel for S.current (once per call, and after a language switch). */
function buildCall() {
  const cur = S.current;
  const box = $("call");
  if (!cur) return;
  box.dataset.callId = String(cur.id);
  const pop = cur.pop;
  box.replaceChildren(...[
    el("div", { class: "card call-head" },
      triggerIcon(cur.call.trigger, cur.call.urgent),
      el("h2", { id: "call-h", tabindex: "-1" }, t("c_call_heading", { id: cur.id }), " · ", triggerLabel(cur.call.trigger)),
      el("span", { id: "call-state", class: "badge ok" }),
      el("span", { id: "call-cat", class: "badge" }),
      el("span", { id: "call-timer", class: "muted" }),
      errorBox("call-error")),
    cur.popError ? el("p", { class: "notice error", role: "alert" }, t("c_pop_failed"), cur.popError.explain ? cur.popError.explain() : String(cur.popError))
      : !pop ? el("p", { class: "notice" }, t("loading")) : null,
    pop ? el("div", { class: "pop-grid" }, personCard(pop), contactsCard(pop), deviceCard(pop, cur.device), historyCard(pop)) : null,
    el("div", { class: "work-grid" }, el("div", {}, pop ? servicesCard(pop) : null, ordersCard()), actionsCard()),
    el("section", { class: "card", "aria-labelledby": "timeline-h" },
      el("h3", { id: "timeline-h" }, t("c_timeline")),
      el("ol", { id: "timeline", class: "timeline" }))].filter(Boolean));
  updateCall();
}

/** The account that acted in a timeline row, named as the row names it. */
const actor = (row) => who(row.user_id, row.display_name || row.username);

function timelineText(row, call) {
  const d = row.detail || {};
  switch (row.kind) {
    case "created": return t("tl_created", { trigger: triggerLabel(d.trigger || call.trigger) });
    // An offer's row names the operator it rang for in its detail.
    case "offered": case "offer_expired": case "declined": case "offer_released":
      return t("tl_" + row.kind, { who: who(d.operator_id, d.display_name || d.username) });
    case "answered": return t("tl_answered", { who: actor(row) });
    case "classified": return t("tl_classified", { category: categoryLabel(d.category) }) + (d.note ? t("c_colon") + d.note : "");
    case "closed": return t("tl_closed") + (d.outcome ? t("c_colon") + d.outcome : "");
    case "action": {
      const a = (call.actions || []).find((x) => x.id === d.action_id) || {};
      const note = d.note ? t("c_colon") + d.note : "";
      switch (d.kind) {
        case "service_order": return t("tl_service_order", { facility: a.facility_name || "#" + d.facility_id, service: serviceName(d.service) }) + note;
        case "contact": return t(d.reached ? "tl_contact_reached" : "tl_contact_not_reached", { n: d.position }) + note;
        case "escalation": return t("tl_escalation", { target: d.target }) + note;
        case "follow_up": return t("tl_follow_up", { time: fmtTime(d.due_at) }) + note;
        case "note": return t("tl_note") + note;
        default: return d.kind || row.kind;
      }
    }
    case "action_updated": {
      const a = (call.actions || []).find((x) => x.id === d.action_id) || {};
      return (a.facility_name ? a.facility_name + " · " : "") +
        t("tl_action_updated", { from: tk("order_" + d.from, d.from), to: tk("order_" + d.state, d.state) }) + (d.note ? t("c_colon") + d.note : "");
    }
    default: return tk("tl_" + row.kind, row.kind);
  }
}

/** Updates what changes during a call: state, category, contacts tried,
 * service orders, timeline. */
function updateCall() {
  const cur = S.current;
  if (!cur || !$("call-state")) return;
  const c = cur.call;
  $("call-state").textContent = tk("call_state_" + c.state, c.state);
  $("call-cat").textContent = categoryLabel(c.category);
  $("call-cat").className = "badge " + (c.category ? "info" : "warn");
  const timer = $("call-timer");
  timer.replaceChildren(c.answered_at ? since(c.answered_at, "c_call_talking") : "");
  const sel = $("classify-cat");
  if (sel && c.category && sel.dataset.server !== c.category) { sel.value = c.category; sel.dataset.server = c.category; }
  $("close-hint").hidden = !!c.category;

  const actions = c.actions || [];
  for (const li of document.querySelectorAll("#contacts li")) {
    const pos = Number(li.dataset.position);
    const tries = actions.filter((a) => a.kind === "contact" && a.contact_position === pos);
    const box = li.querySelector(".tries");
    box.replaceChildren(...(tries.length ? [t("c_tries"), ...tries.map((a) =>
      el("span", { class: "badge " + (a.state === "reached" ? "ok" : "warn") },
        t(a.state === "reached" ? "c_try_reached" : "c_try_not_reached", { time: fmtTime(a.created_at, false) })))] : []));
  }

  const orders = actions.filter((a) => a.kind === "service_order");
  $("orders").replaceChildren(...(orders.length ? orders.map((a) => {
    const next = (ORDER_NEXT[a.state] || []).concat(a.state in ORDER_NEXT ? ["failed"] : []);
    return el("li", { class: "item order", dataset: { actionId: a.id, state: a.state } },
      el("div", {}, el("strong", {}, a.facility_name || "#" + a.facility_id), " · ", serviceName(a.service), " ",
        el("span", { class: "badge " + (a.state === "done" ? "ok" : a.state === "failed" ? "bad" : "info") }, tk("order_" + a.state, a.state)),
        el("span", { class: "small muted" }, " " + fmtTime(a.updated_at, false))),
      a.note ? el("div", { class: "small" }, a.note) : null,
      next.length ? el("div", { class: "actions tight" }, next.map((s) =>
        el("button", { type: "button", class: (s === "failed" ? "secondary" : "ok") + " small-btn",
          "aria-label": t("c_move_label", { facility: a.facility_name || "", state: t("c_move_" + s) }),
          onclick: (ev) => moveOrder(a, s, ev.currentTarget) }, t("c_move_" + s)))) : null);
  }) : [el("li", { class: "muted" }, t("c_no_orders"))]));

  $("timeline").replaceChildren(...(c.timeline || []).map((row) => {
    // Who acted, when it was a person other than the one reading.
    const by = row.user_id && row.user_id !== S.me.id && !["answered", "declined"].includes(row.kind) ? actor(row) : null;
    return el("li", { dataset: { kind: row.kind } }, el("time", { datetime: row.at, class: "muted" }, clock(row.at)), " ",
      timelineText(row, c), by ? el("span", { class: "small muted by" }, " · " + by) : null);
  }));
}

// ---- what the operator does with the call ----

async function postAction(body, btn, box) {
  const cur = S.current;
  return act(btn, box, async () => {
    await api("POST", `/api/v1/calls/${cur.id}/actions`, body);
    await refreshCall();
  });
}

async function classify() {
  const cur = S.current;
  const cat = $("classify-cat").value, note = $("classify-note").value.trim();
  const box = "classify-error";
  if (!cat) { showError(t("c_classify_missing"), $(box)); return; }
  const ok = await act($("classify-go"), box, async () => {
    await api("POST", `/api/v1/calls/${cur.id}/classify`, note ? { category: cat, note } : { category: cat });
    await refreshCall();
  });
  if (ok) { $("classify-note").value = ""; announce(t("c_classified", { category: categoryLabel(cat) }), "ok"); }
}

async function dispatch(s, btn) {
  const service = $("svc-" + s.id).value;
  const ok = await postAction({ kind: "service_order", facility_id: s.id, service }, btn, "svc-error-" + s.id);
  if (ok) announce(t("c_dispatched", { name: s.name }), "ok");
}

async function moveOrder(a, state, btn) {
  const cur = S.current;
  const ok = await act(btn, "orders-error", async () => {
    await api("PATCH", `/api/v1/calls/${cur.id}/actions/${a.id}`, { state });
    await refreshCall();
  });
  if (ok) announce(t("c_order_moved", { facility: a.facility_name || "", state: tk("order_" + state, state) }), "ok");
}

async function contactTried(position, reached, btn) {
  await postAction({ kind: "contact", contact_position: position, reached }, btn, "contacts-error");
}

/** The confirmation before an escalation: answers the note, or null when
 * the operator went back. */
function confirmEscalation(target) {
  const dlg = $("confirm-dialog");
  $("confirm-h").textContent = t("c_esc_title", { target });
  $("confirm-text").textContent = t("c_esc_text", { target });
  $("confirm-dial").replaceChildren(telLink(target, t("c_dial", { target })));
  $("confirm-note").value = "";
  dlg.returnValue = "";
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok" ? $("confirm-note").value.trim() : null), { once: true });
    dlg.showModal();
    $("confirm-cancel").focus();
  });
}

async function escalate(target, btn) {
  const note = await confirmEscalation(target);
  if (note === null) return;
  const body = { kind: "escalation", target };
  if (note) body.note = note;
  const ok = await postAction(body, btn, "escalate-error");
  if (ok) announce(t("c_escalated", { target }), "ok");
}

async function addNote() {
  const text = $("note-text").value.trim();
  const box = "note-error";
  if (!text) { showError(t("c_note_missing"), $(box)); return; }
  const ok = await postAction({ kind: "note", note: text }, $("note-go"), box);
  if (ok) { $("note-text").value = ""; announce(t("c_note_added"), "ok"); }
}

async function addFollowUp() {
  const at = $("follow-at").value, note = $("follow-note").value.trim();
  const box = "follow-error";
  if (!at) { showError(t("c_follow_missing"), $(box)); return; }
  const due = new Date(at);
  if (isNaN(due)) { showError(t("c_follow_missing"), $(box)); return; }
  const body = { kind: "follow_up", due_at: due.toISOString() };
  if (note) body.note = note;
  const ok = await postAction(body, $("follow-go"), box);
  if (ok) { $("follow-at").value = ""; $("follow-note").value = ""; announce(t("c_follow_added", { time: fmtTime(body.due_at) }), "ok"); }
}

async function closeCall() {
  const cur = S.current;
  const outcome = $("close-outcome").value.trim();
  let closed = null;
  const ok = await act($("close-go"), "close-error", async () => {
    closed = await api("POST", `/api/v1/calls/${cur.id}/close`, outcome ? { outcome } : {});
  });
  if (ok && S.current === cur) {
    endCall(closed);
    announce(t("c_closed"), "ok");
    $("idle-h").setAttribute("tabindex", "-1");
    $("idle-h").focus();
  }
}

// ---- tasks ----

function taskOrder(a, b) {
  return a.priority - b.priority || Date.parse(a.due_at) - Date.parse(b.due_at) || a.id - b.id;
}

let tasksSeq = 0;
/** Reads the task list (the next page when `more`) for the chosen kind and
 * "mine", and draws it. The list is aria-busy until the latest read is
 * drawn (or refused). */
async function loadTasks(more = false) {
  const box = $("tasks-error");
  const my = ++tasksSeq;
  $("tasks").setAttribute("aria-busy", "true");
  hideError(box);
  const q = new URLSearchParams({ limit: "100" });
  if (S.taskKind) q.set("kind", S.taskKind);
  if (S.taskMine) q.set("mine", "true");
  if (more && S.taskCursor) q.set("cursor", S.taskCursor);
  const kind = S.taskKind, mine = S.taskMine;
  try {
    const page = await api("GET", "/api/v1/tasks?" + q.toString());
    if (kind !== S.taskKind || mine !== S.taskMine) return;
    const items = page.items || [];
    if (more) {
      const have = new Set(S.tasks.map((x) => x.id));
      S.tasks.push(...items.filter((x) => !have.has(x.id)));
    } else S.tasks = items;
    S.tasks.sort(taskOrder);
    S.taskCursor = page.next_cursor || null;
    renderTasks();
  } catch (e) {
    showError(e, box);
  } finally {
    if (my === tasksSeq) $("tasks").setAttribute("aria-busy", "false");
  }
}

let tasksTimer = null;
/** Redraws the task list soon: the scheduler may make many tasks at once. */
function renderTasksSoon() {
  if (!tasksTimer) tasksTimer = setTimeout(() => { tasksTimer = null; renderTasks(); }, 200);
}

function upsertTask(task, soon = false) {
  const i = S.tasks.findIndex((x) => x.id === task.id);
  const keep = (task.state === "open" || task.state === "claimed") && (!S.taskKind || task.kind === S.taskKind) &&
    (!S.taskMine || (task.state === "claimed" && task.operator_id === S.me.id));
  if (i >= 0) {
    if (keep) S.tasks[i] = task; else S.tasks.splice(i, 1);
  } else if (keep) {
    // A task past the loaded pages is left for "load more", so the list has no holes.
    const last = S.tasks[S.tasks.length - 1];
    if (!S.taskCursor || !last || taskOrder(task, last) < 0) S.tasks.push(task);
  } else return;
  S.tasks.sort(taskOrder);
  if (soon) renderTasksSoon(); else renderTasks();
}

function renderTaskKinds() {
  const sel = $("task-kind");
  sel.replaceChildren(el("option", { value: "" }, t("c_all_kinds")),
    ...TASK_KINDS.map((k) => el("option", { value: k }, taskKindLabel(k))));
  sel.value = S.taskKind;
}

function taskItem(k) {
  const mine = k.state === "claimed" && S.me && k.operator_id === S.me.id;
  const admin = S.me && S.me.role === "admin";
  const overdue = Date.parse(k.due_at) < Date.now();
  const name = k.person_name || "—";
  const phone = k.person_id && S.taskPhones.get(k.person_id);
  const errId = "task-error-" + k.id;
  const outcomeId = "task-outcome-" + k.id;
  return el("li", { class: "item task p" + k.priority + (mine ? " mine" : ""), dataset: { taskId: k.id, state: k.state } },
    el("div", { class: "task-head" },
      el("span", { class: "badge " + (k.priority === 0 ? "bad" : k.priority === 2 ? "" : "info") }, tk("prio_" + k.priority, "")), " ",
      el("strong", {}, taskKindLabel(k.kind)), " ",
      el("span", { class: "badge " + (k.state === "claimed" ? "warn" : "") }, tk("tstate_" + k.state, k.state))),
    el("div", {}, el("strong", {}, name), el("span", { class: "small muted" }, " · " + communityName(k.community_code))),
    el("div", { class: "small" }, t("c_due", { time: fmtTime(k.due_at) }), " ",
      overdue ? el("span", { class: "badge warn" }, t("c_overdue")) : null,
      k.call_id ? el("span", { class: "muted" }, " · " + t("c_linked_call", { id: k.call_id })) : null),
    k.note ? el("p", { class: "small task-note" }, k.note) : null,
    k.state === "claimed" ? el("div", { class: "small muted" },
      mine ? t("c_claimed_by_me") : t("c_claimed_by", { name: k.operator || "#" + k.operator_id })) : null,
    k.state === "open" ? el("div", { class: "actions tight" },
      el("button", { type: "button", class: "small-btn", "aria-label": t("c_claim_label", { kind: taskKindLabel(k.kind), name }),
        onclick: (ev) => claimTask(k, ev.currentTarget) }, t("c_claim"))) : null,
    mine ? el("div", { class: "task-finish" },
      k.person_id ? el("div", { class: "actions tight" }, phone
        ? telLink(phone, t("c_task_call", { phone }))
        : el("button", { type: "button", class: "secondary small-btn", "aria-label": t("c_show_phone_label", { name }),
          onclick: (ev) => revealPhone(k, ev.currentTarget) }, t("c_show_phone"))) : null,
      el("label", { for: outcomeId }, t("c_task_outcome")),
      el("textarea", { id: outcomeId, rows: 2, maxlength: 200 }),
      el("div", { class: "actions tight" },
        el("button", { type: "button", class: "ok small-btn", onclick: (ev) => finishTask(k, "done", ev.currentTarget) }, t("c_task_done")),
        el("button", { type: "button", class: "secondary small-btn", onclick: (ev) => finishTask(k, "failed", ev.currentTarget) }, t("c_task_failed")))) : null,
    admin ? el("div", { class: "actions tight" },
      el("button", { type: "button", class: "secondary small-btn", onclick: (ev) => cancelTask(k, ev.currentTarget) }, t("c_task_cancel"))) : null,
    errorBox(errId));
}

function renderTasks() {
  const list = $("tasks");
  keepInputs(list, () => list.replaceChildren(...S.tasks.map(taskItem)));
  $("tasks-empty").hidden = S.tasks.length > 0;
  $("tasks-empty").textContent = t(S.taskMine ? "c_tasks_empty_mine" : "c_tasks_empty");
  $("tasks-more").hidden = !S.taskCursor;
  $("tasks-count").textContent = t(S.taskCursor ? "c_tasks_shown_more" : "c_tasks_shown", { n: S.tasks.length });
  $("tasks-count").className = "badge " + (S.tasks.some((k) => k.priority === 0 && k.state === "open") ? "bad" : "");
}

async function claimTask(k, btn) {
  const box = "task-error-" + k.id;
  let task = null;
  const ok = await act(btn, box, async () => { task = await api("POST", `/api/v1/tasks/${k.id}/claim`); });
  if (ok) {
    upsertTask(task);
    announce(t("c_claimed", { kind: taskKindLabel(k.kind), name: k.person_name || "" }), "ok");
    const o = $("task-outcome-" + k.id);
    if (o) o.focus();
  }
}

async function finishTask(k, state, btn) {
  const box = "task-error-" + k.id;
  const outcome = ($("task-outcome-" + k.id) || {}).value?.trim() || "";
  if (!outcome) { showError(t("c_task_outcome_missing"), $(box)); return; }
  let task = null;
  const ok = await act(btn, box, async () => { task = await api("POST", `/api/v1/tasks/${k.id}/finish`, { state, outcome }); });
  if (ok) {
    upsertTask(task);
    announce(t("c_task_finished", { kind: taskKindLabel(k.kind), name: k.person_name || "" }), "ok");
  }
}

async function cancelTask(k, btn) {
  const box = "task-error-" + k.id;
  let task = null;
  const ok = await act(btn, box, async () => { task = await api("POST", `/api/v1/tasks/${k.id}/cancel`, {}); });
  if (ok) { upsertTask(task); announce(t("c_task_cancelled"), "ok"); }
}

async function revealPhone(k, btn) {
  const box = "task-error-" + k.id;
  const ok = await act(btn, box, async () => {
    const p = await api("GET", `/api/v1/people/${k.person_id}?reveal=phone`);
    if (p.phone) S.taskPhones.set(k.person_id, p.phone);
  });
  if (ok) renderTasks();
}

// ---- the stream ----

function onEvent(type, data) {
  switch (type) {
    case "console.sync": {
      // Live from here on: the page is in step with the server (onState).
      S.connected = true;
      S.syncs++;
      S.presence = data.presence;
      S.presenceSince = data.since;
      S.queues = new Map();
      for (const c of data.queue || []) {
        const code = c.community_code || "";
        if (!S.queues.has(code)) S.queues.set(code, []);
        S.queues.get(code).push(c);
      }
      // A lost connection made the operator away: put back what they chose.
      if (S.syncs > 1 && S.wantAvailable && S.presence === "away" && !S.current) {
        api("PUT", "/api/v1/console/presence", { state: "available" }).then((r) => {
          S.presence = r.state;
          S.presenceSince = r.since;
          renderPresence();
          renderCentre();
          announce(t("c_presence_restored"), "ok");
        }).catch((e) => showError(e, $("presence-error")));
      }
      renderConn();
      renderPresence();
      renderQueue();
      renderCentre();
      restoreFromSync(data.current_call || null, data.offer || null, data.offer_expires_at || null);
      if (S.syncs > 1) loadTasks();
      break;
    }
    case "console.offer":
      onOffer(data);
      break;
    case "console.queue":
      if ((data.calls || []).length) S.queues.set(data.community_code, data.calls);
      else S.queues.delete(data.community_code);
      renderQueue();
      break;
    case "console.call": {
      const call = data.call;
      offerUpdate(call);
      if (S.current && S.current.id === call.id) scheduleRefresh();
      else if (!S.current && call.operator_id === S.me.id && (call.state === "answered" || call.state === "classified")) {
        startCall(call, S.offer && S.offer.call.id === call.id ? S.offer.pop : null);
      }
      break;
    }
    case "console.task":
      if (data.task) upsertTask(data.task, true);
      break;
    case "console.presence":
      S.presence = data.state;
      S.presenceSince = data.since;
      if (data.state === "away" && S.connected) S.wantAvailable = false;
      renderPresence();
      renderCentre();
      if (data.current_call && !S.current) {
        api("GET", `/api/v1/calls/${data.current_call}`).then((c) => { if (!S.current) startCall(c, null); })
          .catch((e) => showError(e, $("page-error")));
      }
      break;
    default:
      break;
  }
}

function onState(state) {
  // A stream that opens is not live yet: until its console.sync the page
  // shows the presence as it was, and a choice made meanwhile would be
  // overwritten by the sync. console.sync makes it live.
  if (state === "open") return;
  S.connected = false;
  // The server makes an operator without a console away and takes back
  // an offer; the page shows it until the stream is back.
  S.offer = null;
  S.presence = "away";
  renderConn();
  renderPresence();
  renderCentre();
}

// ---- start ----

function renderAll() {
  renderConn();
  renderPresence();
  renderQueue();
  renderTaskKinds();
  renderTasks();
  if (S.current) keepInputs($("call"), buildCall);
  renderCentre();
}

async function main() {
  startPage();
  const s = await requireLogin(["operator", "admin"]);
  S.me = s.user;

  $("ring-sound").checked = localStorage.getItem(SOUND) !== "0";
  $("ring-sound").addEventListener("change", (ev) => { localStorage.setItem(SOUND, ev.target.checked ? "1" : "0"); prepareAudio(); });
  for (const r of document.querySelectorAll("input[name=presence]")) {
    r.addEventListener("change", (ev) => { if (ev.target.checked) setPresence(ev.target.value); });
  }
  $("task-kind").addEventListener("change", (ev) => { S.taskKind = ev.target.value; S.taskCursor = null; loadTasks(); });
  $("task-mine").addEventListener("change", (ev) => { S.taskMine = ev.target.checked; S.taskCursor = null; loadTasks(); });
  $("tasks-more").addEventListener("click", () => loadTasks(true));
  onLangChange(renderAll);
  renderAll();

  // Labels for codes: the catalogue of services and the communities' names.
  const labels = Promise.all([
    api("GET", "/api/v1/services", undefined, { anonymous: true })
      .then((r) => { for (const x of r.items || []) S.catalogue.set(x.code, x); }),
    api("GET", "/api/v1/areas?level=community&limit=1000", undefined, { anonymous: true })
      .then((r) => { for (const x of r.items || []) S.areas.set(x.code, x.name); }),
  ]).catch(() => { /* codes stay codes */ });

  stream("/api/v1/console/events", onEvent, onState);
  loadTasks();
  await labels;
  renderAll();
  setInterval(tick, 1000);
}

main().catch((e) => showError(e, $("page-error")));
