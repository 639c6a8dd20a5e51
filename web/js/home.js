// home.js - the login page, and after login the pages this account may open.
import { addStrings, api, el, pagesFor, saveSession, session, showError, startPage, t, onLangChange } from "./linli.js";

addStrings({
  zh: {
    home_title: "邻里 · 登录", login_heading: "登录", username: "用户名", password: "密码",
    public_heading: "不用登录", public_finder: "查找身边的养老服务：助餐、日间照料、医疗……",
    api_doc: "API 文档 (OpenAPI)", hello: "{name}，您好", why_expired: "登录已过期，请重新登录。",
    login_missing: "请填写用户名和密码。",
  },
  en: {
    home_title: "Linli · Log in", login_heading: "Log in", username: "Username", password: "Password",
    public_heading: "Without logging in", public_finder: "Find elderly services near you: meals, day care, health…",
    api_doc: "API documentation (OpenAPI)", hello: "Hello, {name}", why_expired: "Your session ended. Please log in again.",
    login_missing: "Enter your username and password.",
  },
});

const q = new URLSearchParams(location.search);
// Only a path on this site may be the page to come back to.
function nextPage() {
  const n = q.get("next");
  return n && n.startsWith("/") && !n.startsWith("//") ? n : null;
}

function paint() {
  const s = session();
  document.getElementById("login-box").hidden = !!s;
  document.getElementById("home").hidden = !s;
  if (q.get("why") === "expired" && !s) {
    const why = document.getElementById("why");
    why.textContent = t("why_expired");
    why.hidden = false;
  }
  if (!s) return;
  document.getElementById("hello").textContent = t("hello", { name: s.user.display_name || s.user.username });
  document.getElementById("tiles").replaceChildren(
    ...pagesFor(s.user).map((p) => el("a", { href: p.href }, t(p.key))));
}

document.getElementById("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const err = document.getElementById("login-error");
  err.hidden = true;
  const username = document.getElementById("username").value.trim();
  const password = document.getElementById("password").value;
  if (!username || !password) { showError(t("login_missing"), err); return; }
  const go = document.getElementById("login-go");
  go.disabled = true;
  try {
    const r = await api("POST", "/api/v1/auth/login", { username, password }, { anonymous: true });
    saveSession(r.token, r.user);
    const next = nextPage();
    // A password an admin set: first to the account page to choose one's own.
    if (r.user.must_change_password) {
      location.href = "/account.html" + (next ? "?" + new URLSearchParams({ next }) : "");
      return;
    }
    if (next) { location.href = next; return; }
    startPage();
    paint();
  } catch (e) {
    showError(e, err);
  } finally {
    go.disabled = false;
  }
});

async function check() {
  const s = session();
  if (s) {
    try { saveSession(s.token, await api("GET", "/api/v1/me")); } catch { /* cleared on 401 */ }
  }
  startPage();
  paint();
}
onLangChange(paint);
check();
