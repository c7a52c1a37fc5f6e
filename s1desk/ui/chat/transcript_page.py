"""The transcript's HTML page: styles, a strict Content-Security-Policy and a small JS API.

Model output arrives only as HTML already escaped by ``s1desk.render`` and is
inserted as data; the policy allows no script but the page's own (by nonce),
no network, no plugins, no forms. Python drives the page through ``S1.*`` calls.
The app's own links (Edit, Copy, …) carry the page's key, which only the page's
script knows: a link written by the model cannot act even if one got through.
"""

from __future__ import annotations

import functools
import secrets

from s1desk.render.css import render_css

_CSS = """
:root { color-scheme: light; --bg:#ffffff; --fg:#1d2024; --muted:#6b7280; --user:#eef2f8;
  --border:#dde1e6; --accent:#2f6fde; --code:#f4f5f7; --err-bg:#fde8e8; --err-fg:#8a1c1c; }
:root.dark { color-scheme: dark; --bg:#16181c; --fg:#e6e6e6; --muted:#9aa4b2; --user:#23272e;
  --border:#33373e; --accent:#7aa7ff; --code:#202329; --err-bg:#4a1f24; --err-fg:#ffd7d5; }
html, body { background: var(--bg); color: var(--fg); margin: 0; }
body { font: 15px/1.55 system-ui, "Segoe UI", "Noto Sans", "DejaVu Sans", sans-serif; }
#log { max-width: 860px; margin: 0 auto; padding: 16px 20px 40px; }
#empty { color: var(--muted); text-align: center; margin-top: 18vh; }
#empty h1 { font-size: 22px; font-weight: 600; color: var(--fg); margin-bottom: 6px; }
.ex { margin: 0 0 22px; }
.user { display: flex; flex-direction: column; align-items: flex-end; margin-bottom: 10px; }
.user .bubble { background: var(--user); border: 1px solid var(--border); border-radius: 12px;
  padding: 8px 12px; white-space: pre-wrap; max-width: 80%; overflow-wrap: anywhere; }
.tools { font-size: 12.5px; color: var(--muted); margin-top: 3px; }
.tools a { color: var(--muted); text-decoration: none; margin-left: 10px; }
.tools a:hover { color: var(--accent); text-decoration: underline; }
.summary { display: inline-block; font-size: 13px; color: var(--muted); text-decoration: none;
  border: 1px solid var(--border); border-radius: 999px; padding: 2px 10px; margin-bottom: 6px; }
.summary:hover { color: var(--accent); border-color: var(--accent); }
.summary.live { color: var(--accent); }
.summary.selected { border-color: var(--accent); }
.answer { overflow-wrap: anywhere; }
.answer p { margin: 0.4em 0; }
.answer pre { background: var(--code); border: 1px solid var(--border); border-radius: 6px;
  padding: 8px 10px; overflow-x: auto; }
.answer code { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 13.5px;
  background: var(--code); border-radius: 4px; padding: 0 3px; }
.answer pre code { padding: 0; background: none; }
.answer table { border-collapse: collapse; }
.answer th, .answer td { border: 1px solid var(--border); padding: 3px 8px; }
.answer a { color: var(--accent); }
.answer pre { position: relative; }
.answer pre > a.copy { position: absolute; top: 5px; right: 6px;
  font: 12px/1.6 system-ui, sans-serif; color: var(--muted); background: var(--bg);
  border: 1px solid var(--border); border-radius: 5px;
  padding: 0 7px; text-decoration: none; opacity: 0.8; }
.answer pre > a.copy::after { content: "Copy"; }
.answer pre > a.copy.copied::after { content: "Copied"; }
.answer pre:hover > a.copy { opacity: 1; color: var(--accent); border-color: var(--accent); }
.answer .math.display, .answer .math.block { text-align: center; }
.answer math { font-size: 1.1em;
  font-family: "STIX Two Math", "Latin Modern Math", "Cambria Math", "DejaVu Serif", math; }
.note, .notice { font-size: 13px; color: var(--muted); margin-top: 4px; }
.error { background: var(--err-bg); color: var(--err-fg); border-radius: 6px; padding: 6px 10px;
  margin-top: 6px; font-size: 13.5px; }
.meta { font-size: 12px; color: var(--muted); margin-top: 6px; }
.meta .tools { display: none; }
.versions { margin-left: 10px; white-space: nowrap; }
.versions .count { color: var(--fg); font-variant-numeric: tabular-nums; }
.tools .versions a { margin: 0 2px; padding: 0 4px; font-size: 15px; color: var(--fg); }
.tools .versions a.disabled { opacity: 0.35; cursor: default; text-decoration: none; }
.tools .versions a.disabled:hover { color: var(--muted); }
body.busy .versions { display: none; }
.ex.done .meta .tools { display: inline; }
.ex:not(.last) .only-last { display: none; }
.hidden { display: none !important; }
"""

_JS = r"""
"use strict";
const S1 = (() => {
  const log = () => document.getElementById("log");
  const empty = () => document.getElementById("empty");
  const atBottom = () => window.innerHeight + window.scrollY >= document.body.scrollHeight - 48;
  const follow = (f) => {
    const b = atBottom(); f(); if (b) window.scrollTo(0, document.body.scrollHeight);
  };
  const el = (tag, cls, text) => { const e = document.createElement(tag);
    if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  const link = (href, text, cls) => { const a = el("a", cls, text); a.href = href; return a; };
  // An app action: "s1desk:NAME/INDEX[?query]" with the page's key added.
  const act = (path) => "s1desk:" + path + (path.includes("?") ? "&" : "?") + "key=" + KEY;
  const section = (i) => document.getElementById("ex-" + i);
  const markLast = () => { const all = log().querySelectorAll(".ex");
    all.forEach((s, k) => s.classList.toggle("last", k === all.length - 1));
    empty().classList.toggle("hidden", all.length > 0); };
  function truncate(i) {
    log().querySelectorAll(".ex").forEach((s) => { if (Number(s.dataset.i) >= i) s.remove(); });
    markLast();
  }
  function add(i, userText) {
    follow(() => {
      truncate(i);
      const s = el("section", "ex"); s.id = "ex-" + i; s.dataset.i = i;
      const u = el("div", "user"); u.appendChild(el("div", "bubble", userText));
      const ut = el("div", "tools"); ut.appendChild(link(act("edit/" + i), "Edit"));
      u.appendChild(ut); s.appendChild(u);
      log().appendChild(s); markLast();
    });
  }
  function startReply(i) {
    const s = section(i); if (!s) return;
    const old = s.querySelector(".assistant"); if (old) old.remove();
    s.classList.remove("done");
    const a = el("div", "assistant");
    a.appendChild(link(act("reasoning/" + i), "", "summary live"));
    a.appendChild(el("div", "notice hidden"));
    a.appendChild(el("div", "answer"));
    a.appendChild(el("div", "note hidden"));
    a.appendChild(el("div", "error hidden"));
    const m = el("div", "meta"); m.appendChild(el("span", "stats"));
    const t = el("span", "tools");
    const v = el("span", "versions hidden"); v.setAttribute("role", "group");
    v.appendChild(el("a", "prev", "‹")); v.append(" ");
    v.appendChild(el("span", "count")); v.append(" ");
    v.appendChild(el("a", "next", "›"));
    t.appendChild(v);
    t.appendChild(link(act("copy-answer/" + i), "Copy answer"));
    t.appendChild(link(act("copy-reasoning/" + i), "Copy reasoning"));
    t.appendChild(link(act("regenerate/" + i), "Regenerate", "only-last"));
    t.appendChild(link(act("think-longer/" + i), "Think longer", "only-last"));
    m.appendChild(t); a.appendChild(m); s.appendChild(a);
    follow(() => {});
  }
  // The answer's nodes: first those of finished blocks (kept), then those of the open tail.
  function setAnswer(a, i, u) {
    if (u.reset) { a.textContent = ""; a.dataset.kept = "0"; }
    const kept = Number(a.dataset.kept || 0);
    while (a.childNodes.length > kept) a.lastChild.remove();
    if (u.append) {
      a.insertAdjacentHTML("beforeend", u.append); a.dataset.kept = a.childNodes.length;
    }
    a.insertAdjacentHTML("beforeend", u.tail);
    a.querySelectorAll("pre").forEach((pre, k) => {
      let c = pre.firstElementChild;
      if (!c || !c.classList.contains("copy")) {
        c = link("#", undefined, "copy"); c.title = "Copy code"; pre.prepend(c);
      }
      c.href = act("copy-code/" + i + "?block=" + k);
    });
  }
  document.addEventListener("click", (e) => {
    const c = e.target instanceof Element ? e.target.closest("a.copy") : null;
    if (!c) return;
    c.classList.add("copied"); setTimeout(() => c.classList.remove("copied"), 1500);
  });
  // The "‹ n/m ›" switcher between a reply's answer versions (n, m from 1); hidden for one.
  function arm(a, i, to, m, what) {
    const ok = to >= 1 && to <= m;
    if (ok) a.href = act("version/" + i + "?n=" + (to - 1)); else a.removeAttribute("href");
    a.classList.toggle("disabled", !ok);
    a.setAttribute("aria-disabled", String(!ok));
    a.title = ok ? what + ": version " + to + " of " + m : "No " + what.toLowerCase();
    a.setAttribute("aria-label", a.title);
  }
  function setVersions(v, i, n, m) {
    v.classList.toggle("hidden", m < 2);
    const label = "Answer version " + n + " of " + m;
    v.setAttribute("aria-label", label);
    const c = v.querySelector(".count");
    c.textContent = n + "/" + m; c.title = label;
    arm(v.querySelector(".prev"), i, n - 1, m, "Previous answer");
    arm(v.querySelector(".next"), i, n + 1, m, "Next answer");
  }
  function setText(node, text) {
    node.textContent = text || ""; node.classList.toggle("hidden", !text);
  }
  function reply(i, d) {
    const s = section(i); if (!s) return;
    follow(() => {
      const sum = s.querySelector(".summary");
      sum.textContent = (d.live ? "◌ " : "▸ ") + d.summary;
      sum.classList.toggle("live", d.live);
      if (d.answer !== null) setAnswer(s.querySelector(".answer"), i, d.answer);
      setText(s.querySelector(".notice"), d.notice);
      setText(s.querySelector(".note"), d.note);
      setText(s.querySelector(".error"), d.error);
      s.querySelector(".stats").textContent = d.stats;
      setVersions(s.querySelector(".versions"), i, d.version, d.versions);
      s.classList.toggle("done", d.done);
    });
  }
  function select(i) {
    document.querySelectorAll(".summary.selected").forEach((e) => e.classList.remove("selected"));
    const sum = section(i) && section(i).querySelector(".summary");
    if (sum) sum.classList.add("selected");
  }
  function clear() { truncate(0); }
  function setTheme(dark) { document.documentElement.classList.toggle("dark", dark); }
  function setBusy(busy) { document.body.classList.toggle("busy", busy); }
  function count() { return log().querySelectorAll(".ex").length; }
  const part = (i, sel) => { const s = section(i); return s ? s.querySelector(sel) : null; };
  function answerText(i) { const e = part(i, ".answer"); return e ? e.innerText : null; }
  function summaryText(i) { const e = part(i, ".summary"); return e ? e.textContent : null; }
  function answerHtml(i) { const e = part(i, ".answer"); return e ? e.innerHTML : null; }
  // What the switcher shows ("" when hidden): for checks and tests.
  function versionsText(i) { const e = part(i, ".versions");
    return e && e.offsetParent !== null ? e.textContent : ""; }
  return { add, startReply, reply, truncate, select, clear, setTheme, setBusy, count,
    answerText, summaryText, answerHtml, versionsText };
})();
window.S1 = S1;
"""


@functools.cache
def _page_css() -> str:
    """The page's own styles, then highlighted code and math (dark under ``:root.dark``)."""
    return _CSS + render_css(":root.dark")


def transcript_html(dark: bool, key: str) -> str:
    """The page, with a fresh nonce for its one script; its action links carry ``key``."""
    if not key.isalnum():
        raise ValueError("the page key must be letters and digits")
    nonce = secrets.token_urlsafe(16)
    csp = (
        "default-src 'none'; "
        f"script-src 'nonce-{nonce}'; "
        "style-src 'unsafe-inline'; "
        "img-src data:; "
        "font-src 'none'; connect-src 'none'; media-src 'none'; object-src 'none'; "
        "frame-src 'none'; form-action 'none'; base-uri 'none'"
    )
    root_class = ' class="dark"' if dark else ""
    css = _page_css()
    return f"""<!DOCTYPE html>
<html{root_class}><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<style>{css}</style>
<script nonce="{nonce}">const KEY = "{key}";{_JS}</script>
</head><body>
<div id="log"><div id="empty"><h1>Ask s1 something</h1>
<div>It thinks first (the pane on the right shows how), then answers.<br>
Set how long it may think with the budget slider below.</div></div></div>
</body></html>"""
