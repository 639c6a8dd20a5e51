// account.js - my account (我的账号): who the server says I am, and changing
// my own password. The server decides what is valid; the page shows its
// reasons next to the fields they are about.
import {
  addStrings, announce, api, ApiError, el, onLangChange, pick, requireLogin, saveSession, session, showError, startPage, t,
} from "./linli.js";

addStrings({
  zh: {
    acc_title: "我的账号 · 邻里", acc_heading: "我的账号", h_who: "账号信息", h_pw: "修改密码",
    f_username: "用户名", f_display_name: "显示名称", f_role: "角色", f_scope: "工作范围", f_units: "办理单位",
    f_current: "当前密码", f_new: "新密码", f_repeat: "再输入一次新密码",
    password_hint: "至少8个字符，不能和当前密码相同。", pw_submit: "修改密码", continue: "继续",
    sessions_note: "修改后，您在其他设备和浏览器上的登录都会结束；这里的登录保持不变。",
    must_change: "管理员为您设置了密码。请现在改成一个只有您自己知道的新密码。",
    level_district: "区", level_street: "街道", level_community: "社区", all_units: "全部单位",
    unit_community: "社区", unit_street: "街道", unit_district: "区", unit_department: "部门",
    pw_mismatch: "两次输入的新密码不一样。", current_missing: "请填写当前密码。",
    pw_changed: "密码已修改。您在其他地方的登录都已结束。", field_error: "请看表单中标出的问题。",
  },
  en: {
    acc_title: "My account · Linli", acc_heading: "My account", h_who: "Your account", h_pw: "Change your password",
    f_username: "Username", f_display_name: "Display name", f_role: "Role", f_scope: "Working area", f_units: "Units you act for",
    f_current: "Current password", f_new: "New password", f_repeat: "New password again",
    password_hint: "At least 8 characters, not the same as the current one.", pw_submit: "Change password",
    continue: "Continue",
    sessions_note: "Changing it logs you out on your other devices and browsers; you stay logged in here.",
    must_change: "An administrator set your password. Please change it now to one only you know.",
    level_district: "district", level_street: "street", level_community: "community", all_units: "All units",
    unit_community: "community", unit_street: "street", unit_district: "district", unit_department: "department",
    pw_mismatch: "The two new passwords differ.", current_missing: "Enter your current password.",
    pw_changed: "Your password is changed. You are logged out everywhere else.",
    field_error: "See the problems marked in the form.",
  },
});

const $ = (id) => document.getElementById(id);
const state = { me: null, area: null };

// Only a path on this site may be the page to go on to.
function nextPage() {
  const n = new URLSearchParams(location.search).get("next");
  return n && n.startsWith("/") && !n.startsWith("//") ? n : null;
}

// ---- who I am ----

function paintMe() {
  const me = state.me;
  if (!me) return;
  $("me-username").textContent = me.username;
  $("me-display_name").textContent = me.display_name || "—";
  $("me-role").textContent = t("role_" + me.role);
  const scope = $("me-scope");
  if (!me.scope) scope.textContent = t("none");
  else if (state.area) {
    scope.replaceChildren(state.area.name + " (" + t("level_" + state.area.level) + ") ",
      el("span", { class: "small muted" }, me.scope));
  } else scope.textContent = me.scope;
  const units = $("me-units");
  if (me.all_units) units.textContent = t("all_units");
  else if (!me.units || !me.units.length) units.textContent = t("none");
  else {
    units.replaceChildren(el("ul", { class: "plain" }, me.units.map((u) =>
      el("li", { "data-unit": u.code }, pick(u, "name"), " ",
        el("span", { class: "small muted" }, "(" + t("unit_" + u.kind) + ")")))));
  }
  $("acc-must").hidden = !me.must_change_password;
}

/** The name of the account's area (a public read); the code alone when it fails. */
async function loadArea() {
  const code = state.me.scope;
  if (!code || (state.area && state.area.code === code)) return;
  try { state.area = await api("GET", "/api/v1/areas/" + code); } catch { state.area = null; }
}

/** Reads the account again (after a change) and paints it. */
async function loadMe() {
  const me = await api("GET", "/api/v1/me");
  saveSession(session().token, me);
  state.me = me;
  await loadArea();
  paintMe();
}

// ---- field errors ----

function clearErrors() {
  document.querySelectorAll('[id^="p-"][id$="-error"]').forEach((p) => { p.hidden = true; p.textContent = ""; });
  document.querySelectorAll('[id^="p-"][aria-invalid]').forEach((i) => i.removeAttribute("aria-invalid"));
}

function fieldError(field, message) {
  const box = $(`p-${field}-error`);
  if (!box) return false;
  box.textContent = message;
  box.hidden = false;
  const input = $(`p-${field}`);
  if (input) input.setAttribute("aria-invalid", "true");
  return true;
}

/** Shows what the server said: each field's message by its field, the
 * rest (and the summary) in the form's error box. */
function showServerError(e) {
  const box = $("p-error");
  if (!(e instanceof ApiError)) { showError(e, box); return; }
  const rest = [];
  let placed = 0;
  for (const f of e.errors) {
    if (f.field && fieldError(f.field, f.message)) placed++;
    else rest.push((f.field ? f.field + ": " : "") + f.message);
  }
  box.textContent = [e.message, ...rest].join(" ") + (placed ? " " + t("field_error") : "");
  if (e.status === 0 || e.status === 401) box.textContent = e.explain();
  box.hidden = false;
  const first = document.querySelector('[id^="p-"][aria-invalid="true"]');
  if (first) first.focus();
}

// ---- the password ----

async function onChange(ev) {
  ev.preventDefault();
  clearErrors();
  $("p-error").hidden = true;
  $("p-done").hidden = true;
  const current = $("p-current_password").value;
  const fresh = $("p-new_password").value;
  // Caught here: a blank current password, and two new ones that differ.
  if (!current) {
    fieldError("current_password", t("current_missing"));
    $("p-current_password").focus();
    return;
  }
  if (fresh !== $("p-repeat").value) {
    fieldError("repeat", t("pw_mismatch"));
    $("p-repeat").focus();
    return;
  }
  const go = $("p-submit");
  go.disabled = true;
  try {
    await api("POST", "/api/v1/me/password", { current_password: current, new_password: fresh });
    $("pw").reset();
    $("p-done-text").textContent = t("pw_changed");
    const next = nextPage();
    if (next) $("p-next-link").setAttribute("href", next);
    $("p-next").hidden = !next;
    $("p-done").hidden = false;
    announce(t("pw_changed"), "ok");
    await loadMe();
  } catch (e) {
    showServerError(e);
  } finally {
    go.disabled = false;
  }
}

// ---- the page ----

function paintAll() {
  paintMe();
  if (!$("p-done").hidden) $("p-done-text").textContent = t("pw_changed");
}

async function main() {
  startPage();
  const s = await requireLogin();
  state.me = s.user;
  $("pw").addEventListener("submit", onChange);
  onLangChange(paintAll);
  await loadArea();
  paintMe();
  $("acc-loading").hidden = true;
  document.body.dataset.loaded = "true";
}

main().catch((e) => showError(e, $("acc-loading")));
