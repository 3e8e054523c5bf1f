// The live page: the process tree from ListRuntimeState, the trust chain of the selected process
// from VerifyProcess, Health and the journal's status, and live events over server-sent events.
// Every request goes to this page's own origin; the token travels in the cookie the server set.
"use strict";
(function () {
  const C = window.VeriRuntimeChain;
  const el = C.el;
  const $ = (id) => document.getElementById(id);
  // A listing costs the agent a walk of /proc: after events, reload at most every RELOAD_MS.
  const RELOAD_MS = 5000;
  const page = { processes: [], selected: null, started: performance.now(), reloadTimer: null, loadedAt: 0 };

  async function getJson(url) {
    const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || "HTTP " + r.status);
    return body;
  }

  function basename(p) {
    if (!p) return "(unreadable)";
    const i = p.lastIndexOf("/");
    return i < 0 ? p : p.substring(i + 1);
  }

  function filters() {
    return {
      verdict: $("f-verdict").value,
      user: $("f-user").value.trim(),
      container: $("f-container").value.trim(),
      path: $("f-path").value.trim(),
    };
  }

  function passes(p, f) {
    if (f.verdict && p.verdict !== f.verdict) return false;
    if (f.user && String(p.uid) !== f.user) return false;
    if (f.container && !(p.container || "").startsWith(f.container)) return false;
    if (f.path && !(p.path || "").includes(f.path)) return false;
    return true;
  }

  function row(p) {
    const incidents = (p.incidents || []).length;
    const r = el(
      "div",
      { class: "row v-" + p.verdict, "data-pid": p.pid, "data-verdict": p.verdict, title: p.path || "" },
      el("span", { class: "verdict" }, p.verdict),
      el("span", { class: "pid" }, String(p.pid)),
      el("span", { class: "exe" }, basename(p.path)),
      el("span", { class: "meta" }, "uid " + p.uid + (p.container ? " ctr " + p.container : "")),
      incidents ? el("span", { class: "inc", title: (p.incidents || []).map((i) => i.type + " " + (i.id || "")).join("\n") }, incidents + " open incident" + (incidents > 1 ? "s" : "")) : null
    );
    r.addEventListener("click", () => select(p.pid));
    return r;
  }

  function renderTree() {
    const f = filters();
    const filtered = f.verdict || f.user || f.container || f.path;
    const shown = page.processes.filter((p) => passes(p, f));
    const root = el("ul");
    if (filtered) {
      shown.forEach((p) => root.append(el("li", { "data-pid": p.pid }, row(p))));
    } else {
      const byPid = new Map(page.processes.map((p) => [p.pid, p]));
      const children = new Map();
      const roots = [];
      page.processes.forEach((p) => {
        if (p.ppid && byPid.has(p.ppid) && p.ppid !== p.pid) {
          if (!children.has(p.ppid)) children.set(p.ppid, []);
          children.get(p.ppid).push(p);
        } else {
          roots.push(p);
        }
      });
      const add = (ul, p, depth) => {
        const li = el("li", { "data-pid": p.pid }, row(p));
        const kids = children.get(p.pid);
        if (kids && depth < 64) {
          const sub = el("ul");
          kids.forEach((k) => add(sub, k, depth + 1));
          li.append(sub);
        }
        ul.append(li);
      };
      roots.forEach((p) => add(root, p, 0));
    }
    const counts = {};
    page.processes.forEach((p) => (counts[p.verdict] = (counts[p.verdict] || 0) + 1));
    $("tree-summary").textContent =
      shown.length + " of " + page.processes.length + " processes; " + Object.entries(counts).map(([k, n]) => k + " " + n).join(", ");
    $("tree").replaceChildren(root);
    $("tree").setAttribute("data-count", String(page.processes.length));
    if (page.selected) markSelected(page.selected);
  }

  function markSelected(pid) {
    document.querySelectorAll(".row.selected").forEach((r) => r.classList.remove("selected"));
    const r = document.querySelector('.row[data-pid="' + pid + '"]');
    if (r) r.classList.add("selected");
  }

  async function loadState() {
    try {
      page.loadedAt = performance.now();
      const state = await getJson("/api/state");
      page.processes = state.processes || [];
      renderTree();
      if (!document.body.hasAttribute("data-loaded-ms")) {
        document.body.setAttribute("data-loaded-ms", String(Math.round(performance.now() - page.started)));
      }
    } catch (e) {
      $("tree").replaceChildren(el("p", { class: "error" }, "runtime state: " + e.message));
    }
  }

  function scheduleReload() {
    if (page.reloadTimer) return;
    const wait = Math.max(1500, page.loadedAt + RELOAD_MS - performance.now());
    page.reloadTimer = setTimeout(() => {
      page.reloadTimer = null;
      loadState();
    }, wait);
  }

  async function select(pid) {
    page.selected = pid;
    markSelected(pid);
    $("chain").replaceChildren(el("p", { class: "hint" }, "verifying process " + pid + " …"));
    $("details").replaceChildren();
    try {
      const v = await getJson("/api/process/" + encodeURIComponent(pid));
      if (page.selected !== pid) return;
      C.renderChain($("chain"), v);
      C.renderDetails($("details"), v);
      $("chain").setAttribute("data-pid", String(pid));
    } catch (e) {
      $("chain").replaceChildren(el("p", { class: "error", id: "chain-error" }, "process " + pid + ": " + e.message));
    }
  }

  function search(text) {
    document.querySelectorAll(".row.match").forEach((r) => r.classList.remove("match"));
    text = text.trim().toLowerCase();
    if (!text) return;
    let hits;
    if (/^[0-9]+$/.test(text)) {
      hits = page.processes.filter((p) => String(p.pid) === text);
    } else if (/^[0-9a-f]{6,64}$/.test(text)) {
      hits = page.processes.filter((p) => (p.sha256 || "").startsWith(text));
    } else {
      hits = [];
    }
    hits.forEach((p) => {
      const r = document.querySelector('.row[data-pid="' + p.pid + '"]');
      if (r) r.classList.add("match");
    });
    $("tree-summary").textContent = hits.length + " match(es) for " + text;
    if (hits.length) {
      const first = document.querySelector('.row[data-pid="' + hits[0].pid + '"]');
      if (first) first.scrollIntoView({ block: "center" });
      select(hits[0].pid);
    }
  }

  async function loadHealth() {
    try {
      const h = await getJson("/api/health");
      const attached = (h.probe && h.probe.attached) || [];
      const failed = Object.keys((h.probe && h.probe.failed) || {});
      const lost = Object.entries(h.dropped || {}).filter(([, n]) => n > 0);
      const self = h.selfIntegrity || {};
      const bad = failed.length > 0 || lost.length > 0 || self.ok === false;
      $("health").textContent =
        "probe: " + attached.length + " programs attached" + (failed.length ? ", " + failed.length + " failed (" + failed.join(", ") + ")" : "") +
        "; losses: " + (lost.length ? lost.map(([k, n]) => k + " " + n).join(", ") : "none") +
        "; self-integrity: " + (self.ok === false ? "FAILED " + (self.failed || []).join("; ") : "ok");
      $("health").classList.toggle("bad", bad);
      const j = h.journal;
      if (!j) {
        $("journal").textContent = "journal: off";
      } else {
        $("journal").textContent =
          "journal: " + (j.intact ? "chain intact" : "NOT INTACT " + (j.error || (j.problems || []).join("; "))) +
          ", last seq " + j.lastSeq + ", last checkpoint " + (j.lastCheckpointSeq ? "seq " + j.lastCheckpointSeq + " at " + j.lastCheckpointAt : "none yet");
        $("journal").classList.toggle("bad", !j.intact);
      }
    } catch (e) {
      $("health").textContent = "health: " + e.message;
      $("health").classList.add("bad");
    }
  }

  function live() {
    const source = new EventSource("/api/events");
    source.onopen = () => ($("live-status").textContent = "live: connected");
    source.onerror = () => ($("live-status").textContent = "live: reconnecting");
    source.addEventListener("security", (m) => {
      const e = JSON.parse(m.data);
      const item = el(
        "li",
        { class: "fresh", "data-id": e.id, "data-type": e.type, "data-pid": e.pid == null ? "" : e.pid },
        new Date(e.time).toLocaleTimeString() + " " + e.type + (e.pid ? " pid " + e.pid : "") + (e.exe && e.exe.path ? " " + e.exe.path : "") + ": " + e.reason
      );
      const list = $("events");
      list.prepend(item);
      setTimeout(() => item.classList.remove("fresh"), 3000);
      while (list.children.length > 200) list.lastChild.remove();
      scheduleReload();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    ["f-verdict", "f-user", "f-container", "f-path"].forEach((id) => $(id).addEventListener("input", renderTree));
    $("filters").addEventListener("submit", (e) => e.preventDefault());
    $("search").addEventListener("change", (e) => search(e.target.value));
    loadState();
    loadHealth();
    setInterval(loadHealth, 5000);
    live();
  });
})();
