// admin.js - users and roles (用户与角色): the accounts, their roles and
// working areas, for admins. The server decides what is valid; the page
// shows its reasons next to the fields they are about.
import {
  addStrings, announce, api, apiAll, ApiError, el, onLangChange, requireLogin, showError, startPage, t,
} from "./linli.js";

addStrings({
  zh: {
    adm_title: "用户与角色 · 邻里", adm_heading: "用户与角色", h_create: "新建账号", h_list: "账号",
    f_username: "用户名", f_display_name: "显示名称", f_role: "角色", f_scope: "工作范围", f_scope_street: "街道",
    f_scope_community: "社区", f_password: "初始密码", f_password1: "密码", f_password2: "再输入一次密码",
    f_new_password: "新密码", username_hint: "小写字母、数字、“.”、“_”和“-”。", password_hint: "至少8个字符。",
    pw_typed: "自己输入（输入两次）", pw_generated: "自动生成（只显示一次）", create_submit: "创建账号",
    filter_role: "按角色筛选", all_roles: "全部角色", col_status: "状态", col_actions: "操作", more: "加载更多",
    enabled: "启用", disabled: "已停用", edit: "编辑", disable: "停用", enable: "启用",
    edit_heading: "编辑账号 {username}", save: "保存", close: "关闭", reset_heading: "重置密码", reset_submit: "重置密码",
    sessions_note: "改变角色或范围、停用账号或重置密码后，这个账号已登录的会话都会结束。",
    scope_none: "（无范围）", scope_district: "全区：{name}", scope_whole_street: "（整个街道）",
    pw_mismatch: "两次输入的密码不一样。", created: "已创建账号 {username}。", saved_user: "已保存账号 {username}。",
    nothing_changed: "没有需要保存的修改。", disabled_user: "已停用账号 {username}，它的会话都已结束。",
    enabled_user: "已启用账号 {username}。", reset_done: "已重置 {username} 的密码，它的会话都已结束。",
    secret_once: "{username} 的密码（只显示这一次，请现在交给本人）：", no_users: "没有这个角色的账号。",
    hint_admin: "管理员管理整个系统，没有工作范围。", hint_district: "区级账号需要选“全区”。",
    hint_street: "街道账号需要选一个街道（社区留空）。", hint_community: "社区账号需要选一个社区。",
    hint_operator: "坐席需要一个工作范围：全区、一个街道或一个社区。", hint_auditor: "审计账号需要一个工作范围：全区、一个街道或一个社区。",
    hint_provider: "服务商账号可以不设工作范围。", hint_volunteer: "志愿者账号可以不设工作范围。", hint_resident: "居民账号可以不设工作范围。",
    field_error: "请看表单中标出的问题。", no_password: "未设密码",
  },
  en: {
    adm_title: "Users and roles · Linli", adm_heading: "Users and roles", h_create: "New account", h_list: "Accounts",
    f_username: "Username", f_display_name: "Display name", f_role: "Role", f_scope: "Working area", f_scope_street: "Street",
    f_scope_community: "Community", f_password: "Initial password", f_password1: "Password", f_password2: "Password again",
    f_new_password: "New password", username_hint: "Lower-case letters, digits, '.', '_' and '-'.",
    password_hint: "At least 8 characters.", pw_typed: "Type it (twice)", pw_generated: "Generate one (shown once)",
    create_submit: "Create account", filter_role: "Filter by role", all_roles: "All roles", col_status: "Status",
    col_actions: "Actions", more: "Load more", enabled: "Enabled", disabled: "Disabled", edit: "Edit",
    disable: "Disable", enable: "Enable", edit_heading: "Edit account {username}", save: "Save", close: "Close",
    reset_heading: "Reset the password", reset_submit: "Reset password",
    sessions_note: "Changing the role or the area, disabling the account or resetting its password ends its sessions.",
    scope_none: "(no area)", scope_district: "Whole district: {name}", scope_whole_street: "(the whole street)",
    pw_mismatch: "The two passwords differ.", created: "Account {username} created.", saved_user: "Account {username} saved.",
    nothing_changed: "Nothing to save.", disabled_user: "Account {username} disabled; its sessions have ended.",
    enabled_user: "Account {username} enabled.", reset_done: "The password of {username} is reset; its sessions have ended.",
    secret_once: "The password of {username} (shown this once: hand it over now):", no_users: "No accounts of this role.",
    hint_admin: "Administrators run the whole system and have no area.", hint_district: "A district account needs the whole district.",
    hint_street: "A street account needs a street (leave the community empty).", hint_community: "A community account needs a community.",
    hint_operator: "An operator needs an area: the district, a street or a community.",
    hint_auditor: "An auditor needs an area: the district, a street or a community.",
    hint_provider: "A provider account may have no area.", hint_volunteer: "A volunteer account may have no area.",
    hint_resident: "A resident account may have no area.", field_error: "See the problems marked in the form.",
    no_password: "No password",
  },
});

const ROLES = ["admin", "district", "street", "community", "operator", "auditor", "provider", "volunteer", "resident"];
const PAGE = 100;
const $ = (id) => document.getElementById(id);
const state = { me: null, users: [], next: null, role: "", areas: new Map(), district: null, streets: [], communities: [], editing: null };

// ---- areas and the scope picker ----

async function loadAreas() {
  const [districts, streets, communities] = await Promise.all([
    api("GET", "/api/v1/areas?level=district"), apiAll("/api/v1/areas?level=street&limit=1000"),
    apiAll("/api/v1/areas?level=community&limit=1000", 20000)]);
  state.district = (districts.items || [])[0] || null;
  state.streets = streets;
  state.communities = communities;
  for (const a of [...(districts.items || []), ...streets, ...communities]) state.areas.set(a.code, a);
}

function areaName(code) {
  const a = state.areas.get(code);
  return a ? a.name : code;
}

/** The two selects of a scope picker (prefix "c" or "e"): a street (or the
 * whole district, or none), then a community of that street. */
function scopePicker(prefix) {
  const street = $(prefix + "-scope-street");
  const community = $(prefix + "-scope-community");
  function fillStreets() {
    const keep = street.value;
    const opts = [el("option", { value: "" }, t("scope_none"))];
    if (state.district) opts.push(el("option", { value: state.district.code }, t("scope_district", { name: state.district.name })));
    for (const s of state.streets) opts.push(el("option", { value: s.code }, s.name));
    street.replaceChildren(...opts);
    street.value = keep;
  }
  function fillCommunities() {
    const keep = community.value;
    const s = street.value;
    const isStreet = s && state.streets.some((x) => x.code === s);
    community.replaceChildren(el("option", { value: "" }, t("scope_whole_street")),
      ...(isStreet ? state.communities.filter((c) => c.parent_code === s).map((c) => el("option", { value: c.code }, c.name)) : []));
    community.value = [...community.options].some((o) => o.value === keep) ? keep : "";
    community.disabled = !isStreet;
  }
  street.addEventListener("change", () => { community.value = ""; fillCommunities(); });
  return {
    paint() { fillStreets(); fillCommunities(); },
    value() { return community.value || street.value || null; },
    set(code) {
      const a = code ? state.areas.get(code) : null;
      if (a && a.level === "community") { street.value = a.parent_code; fillCommunities(); community.value = code; }
      else { street.value = code || ""; fillCommunities(); community.value = ""; }
    },
  };
}

function fillRoles(select, withAll) {
  const keep = select.value;
  select.replaceChildren(...(withAll ? [el("option", { value: "" }, t("all_roles"))] : []),
    ...ROLES.map((r) => el("option", { value: r }, t("role_" + r))));
  select.value = keep || (withAll ? "" : "community");
}

function roleHint(prefix) {
  $(prefix + "-role-hint").textContent = t("hint_" + $(prefix + "-role").value);
}

// ---- field errors ----

/** Clears the field errors of a form (prefix "c", "e" or "r"). */
function clearErrors(prefix) {
  document.querySelectorAll(`[id^="${prefix}-"][id$="-error"]`).forEach((p) => { p.hidden = true; p.textContent = ""; });
  document.querySelectorAll(`[id^="${prefix}-"][aria-invalid]`).forEach((i) => i.removeAttribute("aria-invalid"));
}

function fieldError(prefix, field, message) {
  const box = $(`${prefix}-${field}-error`);
  if (!box) return false;
  box.textContent = message;
  box.hidden = false;
  const input = $(`${prefix}-${field}`);
  if (input) input.setAttribute("aria-invalid", "true");
  return true;
}

/** Shows what the server said: each field's message by its field, the
 * rest (and the summary) in the form's error box. */
function showServerError(e, prefix, fieldPrefix = prefix) {
  const box = $(prefix + "-error");
  if (!(e instanceof ApiError)) { showError(e, box); return; }
  const rest = [];
  let placed = 0;
  for (const f of e.errors) {
    if (f.field && fieldError(fieldPrefix, f.field.split(/[.[]/)[0], f.message)) placed++;
    else rest.push((f.field ? f.field + ": " : "") + f.message);
  }
  box.textContent = [e.message, ...rest].join(" ") + (placed ? " " + t("field_error") : "");
  if (e.status === 0 || (e.status === 403 && !e.problem.detail)) box.textContent = e.explain();
  box.hidden = false;
  const first = document.querySelector(`[id^="${fieldPrefix}-"][aria-invalid="true"]`);
  if (first) first.focus();
}

// ---- passwords ----

const ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/** A random password of 16 characters from an alphabet without look-alikes. */
function generatePassword() {
  const out = [];
  const buf = new Uint8Array(64);
  while (out.length < 16) {
    crypto.getRandomValues(buf);
    for (const b of buf) {
      if (b < 256 - (256 % ALPHABET.length) && out.length < 16) out.push(ALPHABET[b % ALPHABET.length]);
    }
  }
  return out.join("");
}

/** The password a form asks for, or null after marking a mismatch. */
function chosenPassword(prefix, fieldPrefix) {
  const mode = document.querySelector(`input[name="${prefix}-pwmode"]:checked`).value;
  if (mode === "generated") return { password: generatePassword(), generated: true };
  const p1 = $(fieldPrefix + "-password").value;
  const p2 = $(fieldPrefix + "-password2").value;
  if (p1 !== p2) {
    fieldError(fieldPrefix, "password2", t("pw_mismatch"));
    $(fieldPrefix + "-password2").focus();
    return null;
  }
  return { password: p1, generated: false };
}

function showSecret(box, username, password) {
  box.replaceChildren(el("p", {}, t("secret_once", { username })),
    el("p", {}, el("code", { class: "secret-value", id: box.id + "-value" }, password)));
  box.hidden = false;
}

function syncPwMode(prefix) {
  const generated = document.querySelector(`input[name="${prefix}-pwmode"]:checked`).value === "generated";
  $(prefix + "-pw-typed").hidden = generated;
}

// ---- the list ----

function userRow(u) {
  const err = el("p", { class: "field-error", id: `row-${u.id}-error`, role: "alert", hidden: true });
  const toggle = el("button", { type: "button", class: u.disabled ? "ok" : "danger", "data-action": "toggle",
    onclick: () => setDisabled(u, !u.disabled, err, toggle) }, u.disabled ? t("enable") : t("disable"));
  return el("tr", { "data-user": u.username, "data-id": u.id },
    el("th", { scope: "row" }, u.username),
    el("td", {}, u.display_name || "—"),
    el("td", { "data-role": u.role }, t("role_" + u.role)),
    el("td", { "data-scope": u.scope || "" }, u.scope ? [areaName(u.scope), el("br"), el("span", { class: "small muted" }, u.scope)] : "—"),
    el("td", {}, u.disabled ? el("span", { class: "badge bad" }, "✗ " + t("disabled")) : el("span", { class: "badge ok" }, "✓ " + t("enabled")),
      u.has_password ? null : [" ", el("span", { class: "badge warn" }, t("no_password"))]),
    el("td", {}, el("div", { class: "row-actions" },
      el("button", { type: "button", class: "secondary", "data-action": "edit", onclick: () => openEdit(u) }, t("edit")),
      // The server refuses to disable one's own account: no button for it.
      state.me && u.id === state.me.id ? null : toggle, err)));
}

function paintList() {
  const body = $("users-body");
  body.replaceChildren(...(state.users.length ? state.users.map(userRow)
    : [el("tr", {}, el("td", { colspan: 6, class: "muted" }, t("no_users")))]));
  $("more").hidden = !state.next;
}

async function loadUsers(more = false) {
  const err = $("list-error");
  try {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (state.role) q.set("role", state.role);
    if (more && state.next) q.set("cursor", state.next);
    const page = await api("GET", "/api/v1/users?" + q);
    state.users = more ? state.users.concat(page.items) : page.items;
    state.next = page.next_cursor;
    err.hidden = true;
    paintList();
  } catch (e) {
    showError(e, err);
  }
}

function replaceUser(u) {
  const i = state.users.findIndex((x) => x.id === u.id);
  if (i >= 0) state.users[i] = u;
  paintList();
}

async function setDisabled(u, disabled, err, button) {
  err.hidden = true;
  button.disabled = true;
  try {
    const got = await api("PATCH", "/api/v1/users/" + u.id, { disabled });
    replaceUser(got);
    announce(t(disabled ? "disabled_user" : "enabled_user", { username: got.username }), "ok");
    const again = document.querySelector(`tr[data-id="${got.id}"] button[data-action="toggle"]`);
    if (again) again.focus();
  } catch (e) {
    button.disabled = false;
    showError(e, err);
  }
}

// ---- creating ----

let createScope, editScope;

async function onCreate(ev) {
  ev.preventDefault();
  clearErrors("c");
  $("c-error").hidden = true;
  $("c-secret").hidden = true;
  const pw = chosenPassword("c", "c");
  if (!pw) return;
  const body = {
    username: $("c-username").value.trim(),
    display_name: $("c-display_name").value.trim() || undefined,
    role: $("c-role").value,
    password: pw.password,
  };
  const scope = createScope.value();
  if (scope) body.scope = scope;
  const go = $("c-submit");
  go.disabled = true;
  try {
    const u = await api("POST", "/api/v1/users", body, { headers: { "Idempotency-Key": crypto.randomUUID() } });
    announce(t("created", { username: u.username }), "ok");
    $("create").reset();
    $("c-role").value = "community";
    createScope.paint();
    syncPwMode("c");
    roleHint("c");
    if (pw.generated) showSecret($("c-secret"), u.username, pw.password);
    if (!state.role || state.role === u.role) {
      state.users = state.users.filter((x) => x.id !== u.id).concat([u]).sort((a, b) => a.id - b.id);
      paintList();
    }
  } catch (e) {
    showServerError(e, "c");
  } finally {
    go.disabled = false;
  }
}

// ---- editing ----

function openEdit(u) {
  state.editing = u;
  clearErrors("e");
  clearErrors("r");
  $("e-error").hidden = true;
  $("r-error").hidden = true;
  $("r-secret").hidden = true;
  $("reset-form").reset();
  syncPwMode("r");
  $("edit-heading").textContent = t("edit_heading", { username: u.username });
  $("e-display_name").value = u.display_name || "";
  $("e-role").value = u.role;
  roleHint("e");
  editScope.paint();
  editScope.set(u.scope);
  const dlg = $("edit");
  dlg.showModal();
  $("e-display_name").focus();
}

async function onSave(ev) {
  ev.preventDefault();
  const u = state.editing;
  clearErrors("e");
  $("e-error").hidden = true;
  const patch = {};
  const name = $("e-display_name").value.trim();
  if (name !== (u.display_name || "")) patch.display_name = name;
  const role = $("e-role").value;
  const scope = editScope.value();
  // Role and scope are checked as a pair: send both when either changes.
  if (role !== u.role || scope !== (u.scope || null)) { patch.role = role; patch.scope = scope; }
  if (!Object.keys(patch).length) { announce(t("nothing_changed")); return; }
  const go = $("e-save");
  go.disabled = true;
  try {
    const got = await api("PATCH", "/api/v1/users/" + u.id, patch);
    state.editing = got;
    replaceUser(got);
    announce(t("saved_user", { username: got.username }), "ok");
    $("edit").close();
  } catch (e) {
    showServerError(e, "e");
  } finally {
    go.disabled = false;
  }
}

async function onReset(ev) {
  ev.preventDefault();
  const u = state.editing;
  clearErrors("r");
  $("r-error").hidden = true;
  $("r-secret").hidden = true;
  const pw = chosenPassword("r", "r");
  if (!pw) return;
  const go = $("r-submit");
  go.disabled = true;
  try {
    const got = await api("PATCH", "/api/v1/users/" + u.id, { password: pw.password });
    replaceUser(got);
    announce(t("reset_done", { username: got.username }), "ok");
    $("reset-form").reset();
    syncPwMode("r");
    if (pw.generated) showSecret($("r-secret"), got.username, pw.password);
  } catch (e) {
    showServerError(e, "r");
  } finally {
    go.disabled = false;
  }
}

// ---- the page ----

function paintAll() {
  fillRoles($("c-role"), false);
  fillRoles($("e-role"), false);
  fillRoles($("filter-role"), true);
  roleHint("c");
  if (state.editing) {
    roleHint("e");
    $("edit-heading").textContent = t("edit_heading", { username: state.editing.username });
  }
  createScope.paint();
  editScope.paint();
  paintList();
}

async function main() {
  startPage();
  const s = await requireLogin(["admin"]);
  state.me = s.user;
  createScope = scopePicker("c");
  editScope = scopePicker("e");
  try {
    await loadAreas();
  } catch (e) {
    showError(e, $("list-error"));
  }
  fillRoles($("c-role"), false);
  fillRoles($("e-role"), false);
  fillRoles($("filter-role"), true);
  createScope.paint();
  roleHint("c");
  $("c-role").addEventListener("change", () => roleHint("c"));
  $("e-role").addEventListener("change", () => roleHint("e"));
  for (const p of ["c", "r"]) {
    document.querySelectorAll(`input[name="${p}-pwmode"]`).forEach((r) => r.addEventListener("change", () => syncPwMode(p)));
  }
  $("create").addEventListener("submit", onCreate);
  $("edit-form").addEventListener("submit", onSave);
  $("reset-form").addEventListener("submit", onReset);
  $("e-cancel").addEventListener("click", () => $("edit").close());
  $("edit").addEventListener("close", () => {
    const u = state.editing;
    state.editing = null;
    const back = u && document.querySelector(`tr[data-id="${u.id}"] button[data-action="edit"]`);
    if (back) back.focus();
  });
  $("filter-role").addEventListener("change", (e) => { state.role = e.target.value; loadUsers(); });
  $("more").addEventListener("click", () => loadUsers(true));
  onLangChange(paintAll);
  await loadUsers();
  $("adm-loading").hidden = true;
  document.body.dataset.loaded = "true";
}

main().catch((e) => showError(e, $("adm-loading")));
