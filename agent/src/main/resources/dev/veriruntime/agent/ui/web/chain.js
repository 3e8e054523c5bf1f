// The trust chain of one process as a graph, laid out by dagre (vendor/dagre.js) and drawn as SVG;
// shared by the live page (app.js) and the static report (report.js). Input: the VerifyProcess
// verdict JSON of docs/api.md (vouchedBy, mappedFiles, coverage, findings). No network access.
"use strict";
(function (global) {
  const SVG = "http://www.w3.org/2000/svg";
  const BINARY_SCOPES = ["DISK_HASH", "ELF_HEADER", "ELF_SECTIONS", "SIGNATURE", "LINEAGE"];
  const CHECKED = new Set(["VERIFIED", "NOT_APPLICABLE"]);

  function short(hex, n) {
    return hex ? hex.substring(0, n || 16) + "…" : "(unknown)";
  }

  function clip(s, n) {
    s = s == null ? "" : String(s);
    return s.length > n ? s.substring(0, n - 1) + "…" : s;
  }

  /** The findings of a scope, as "symbol ..., section ..." when they name where. */
  function where(findings, scope) {
    const parts = [];
    (findings || [])
      .filter((f) => f.scope === scope)
      .forEach((f) => {
        const d = f.detail || {};
        if (d.symbol) parts.push("symbol " + d.symbol);
        if (d.section) parts.push("section " + d.section);
        if (d.address) parts.push("address " + d.address);
      });
    return parts.join(", ");
  }

  /** Nodes and edges: {id, kind, lines, verdict} and {from, to, label, unverified}. */
  function chainGraph(v) {
    const nodes = [];
    const edges = [];
    let next = 0;
    const node = (kind, lines, verdict) => {
      const id = "n" + next++;
      nodes.push({ id, kind, lines: lines.filter((l) => l !== null && l !== ""), verdict });
      return id;
    };
    const edge = (from, to, label, unverified) => edges.push({ from, to, label, unverified: !!unverified });

    const unverifiedScopes = (owner, coverage, findings, scopes) => {
      Object.keys(coverage || {})
        .filter((s) => scopes.includes(s) && !CHECKED.has(coverage[s].status))
        .forEach((s) => {
          const at = where(findings, s);
          const id = node(
            "unverified",
            [s + " " + coverage[s].status, clip(coverage[s].reason, 90), at ? clip(at, 90) : null],
            coverage[s].status === "FAILED" ? "FAILED" : "DEGRADED"
          );
          edge(owner, id, s, true);
        });
    };

    const vouchers = (fileId, vouchedBy) => {
      if (!vouchedBy) return;
      const r = vouchedBy.reference;
      if (r) {
        const ref = node(
          "reference",
          [
            r.signed ? "signed reference" : "unsigned reference",
            "subject: " + clip(r.subject || "(none)", 70),
            "statement sha256: " + short(r.statementSha256),
            "file: " + clip(r.file, 70),
            r.signed ? "signer key id: " + short(r.signedBy) : "unsigned: " + (r.unsignedBecause || ""),
          ],
          r.matches && r.signed ? "VERIFIED" : r.matches ? "DEGRADED" : "FAILED"
        );
        edge(fileId, ref, r.matches ? "digest matches" : "digest differs", !r.matches);
        if (r.signed) {
          const key = node(
            "key",
            ["trusted key", "key id: " + short(r.signedBy), "key file: " + clip(r.trustedKeyFile || "(not known)", 70)],
            "VERIFIED"
          );
          edge(ref, key, "signature verified", false);
        }
      }
      const p = vouchedBy.package;
      if (p) {
        const pkg = node(
          "package",
          [
            "package " + p.name + (p.version ? " " + p.version : ""),
            "md5sums: " + clip(p.md5sumsLine, 80),
            p.md5sumsFile ? "in " + clip(p.md5sumsFile, 70) : null,
          ],
          p.matches ? "VERIFIED" : "FAILED"
        );
        edge(fileId, pkg, p.matches ? "md5 matches" : "md5 differs", !p.matches);
      }
      const l = vouchedBy.lineage;
      if (l) {
        let prev = node("lineage", ["build lineage", "root: " + clip(l.root, 70), "written " + l.writtenAt], "VERIFIED");
        edge(fileId, prev, "built in", false);
        (l.chain || []).forEach((step) => {
          const s = node(
            "lineage",
            [clip(step.exe, 70), step.sha256 ? "sha256: " + short(step.sha256) : null, step.toolchain ? "verified toolchain" : null],
            step.toolchain ? "VERIFIED" : "DEGRADED"
          );
          edge(prev, s, "then", false);
          prev = s;
        });
      }
    };

    const proc = node("process", ["process " + v.pid, v.verdict, v.uid >= 0 ? "uid " + v.uid : null], v.verdict);
    const exe = node("executable", ["executable", clip(v.path || "(unreadable)", 80), "sha256: " + short(v.sha256)], v.verdict === "FAILED" && (v.coverage.DISK_HASH || {}).status === "FAILED" ? "FAILED" : null);
    edge(proc, exe, "runs", false);
    vouchers(exe, v.vouchedBy);
    unverifiedScopes(exe, v.coverage, v.findings, BINARY_SCOPES);
    unverifiedScopes(proc, v.coverage, v.findings, ["MEMORY_MAP", "MEMORY_CODE"]);
    (v.mappedFiles || []).forEach((f) => {
      const lib = node(
        "library",
        ["mapped file", clip(f.path, 80), f.sha256 ? "sha256: " + short(f.sha256) : "unreadable: " + clip(f.unreadable, 70)],
        f.verdict
      );
      edge(proc, lib, "maps", false);
      vouchers(lib, f.vouchedBy);
      unverifiedScopes(lib, f.coverage, f.findings, BINARY_SCOPES);
    });
    return { nodes, edges };
  }

  /** Lays the graph out with dagre (left to right) and draws it into {@code container}. */
  function renderChain(container, v) {
    const g = chainGraph(v);
    const layout = new global.dagre.graphlib.Graph();
    layout.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 60, marginx: 10, marginy: 10 });
    layout.setDefaultEdgeLabel(() => ({}));
    g.nodes.forEach((n) => {
      const width = Math.max(...n.lines.map((l) => l.length)) * 6.4 + 18;
      layout.setNode(n.id, { width, height: n.lines.length * 14 + 12 });
    });
    g.edges.forEach((e) => layout.setEdge(e.from, e.to, { label: e.label, width: e.label.length * 6, height: 12 }));
    global.dagre.layout(layout);

    const svg = document.createElementNS(SVG, "svg");
    const size = layout.graph();
    svg.setAttribute("width", Math.ceil(size.width));
    svg.setAttribute("height", Math.ceil(size.height));
    svg.setAttribute("viewBox", "0 0 " + Math.ceil(size.width) + " " + Math.ceil(size.height));
    svg.setAttribute("class", "chain");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "trust chain of process " + v.pid);
    const defs = document.createElementNS(SVG, "defs");
    defs.innerHTML =
      '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker>';
    svg.appendChild(defs);

    g.edges.forEach((e) => {
      const ed = layout.edge(e.from, e.to);
      const path = document.createElementNS(SVG, "polyline");
      path.setAttribute("points", ed.points.map((p) => p.x + "," + p.y).join(" "));
      path.setAttribute("class", "edge" + (e.unverified ? " unverified" : ""));
      path.setAttribute("marker-end", "url(#arrow)");
      svg.appendChild(path);
      const label = document.createElementNS(SVG, "text");
      label.setAttribute("x", ed.x);
      label.setAttribute("y", ed.y + 4);
      label.setAttribute("class", "edge-label" + (e.unverified ? " unverified" : ""));
      label.setAttribute("text-anchor", "middle");
      label.textContent = e.label;
      svg.appendChild(label);
    });
    g.nodes.forEach((n) => {
      const box = layout.node(n.id);
      const group = document.createElementNS(SVG, "g");
      group.setAttribute("class", "node " + n.kind + (n.verdict ? " v-" + n.verdict : ""));
      group.setAttribute("data-kind", n.kind);
      const rect = document.createElementNS(SVG, "rect");
      rect.setAttribute("x", box.x - box.width / 2);
      rect.setAttribute("y", box.y - box.height / 2);
      rect.setAttribute("width", box.width);
      rect.setAttribute("height", box.height);
      rect.setAttribute("rx", 5);
      group.appendChild(rect);
      n.lines.forEach((line, i) => {
        const t = document.createElementNS(SVG, "text");
        t.setAttribute("x", box.x - box.width / 2 + 9);
        t.setAttribute("y", box.y - box.height / 2 + 17 + i * 14);
        if (i === 0) t.setAttribute("class", "title");
        t.textContent = line;
        group.appendChild(t);
      });
      svg.appendChild(group);
    });
    container.replaceChildren(svg);
    return g;
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, val]) => {
      if (val !== null && val !== undefined) e.setAttribute(k, val);
    });
    children.forEach((c) => e.append(c === null || c === undefined ? "" : c));
    return e;
  }

  /** Coverage, findings and mapped files of a verdict as tables. */
  function renderDetails(container, v) {
    const rows = Object.keys(v.coverage || {}).map((s) =>
      el(
        "tr",
        { "data-scope": s, "data-status": v.coverage[s].status, class: "s-" + v.coverage[s].status },
        el("td", null, s),
        el("td", null, v.coverage[s].status),
        el("td", null, v.coverage[s].reason)
      )
    );
    const findings = (v.findings || []).map((f) =>
      el(
        "li",
        { "data-type": f.type, "data-scope": f.scope },
        el("b", null, f.type + " (" + f.scope + ")"),
        " " + f.reason,
        Object.keys(f.detail || {}).length
          ? el("div", { class: "detail" }, Object.entries(f.detail).map(([k, val]) => k + "=" + val).join("  "))
          : null
      )
    );
    const vb = v.vouchedBy || {};
    const vouch = [];
    if (vb.reference) vouch.push("reference " + (vb.reference.subject || "") + " (" + vb.reference.file + (vb.reference.signed ? ", signed by " + vb.reference.signedBy + " key file " + vb.reference.trustedKeyFile : ", unsigned") + ")");
    if (vb.package) vouch.push("package " + vb.package.name + " " + vb.package.version + ": " + vb.package.md5sumsLine);
    if (vb.lineage) vouch.push("build lineage in " + vb.lineage.root + ": " + vb.lineage.chain.map((s) => s.exe).join(" → "));
    const libs = (v.mappedFiles || []).map((f) =>
      el(
        "tr",
        { class: "v-" + f.verdict },
        el("td", null, f.path),
        el("td", null, f.verdict),
        el("td", null, f.vouchedBy && f.vouchedBy.package ? "package " + f.vouchedBy.package.name + " " + f.vouchedBy.package.version : f.vouchedBy && f.vouchedBy.reference ? "reference " + f.vouchedBy.reference.file : f.unreadable || "nothing vouches")
      )
    );
    container.replaceChildren(
      el("h3", { class: "v-" + v.verdict, id: "verdict-line" }, "pid " + v.pid + " " + (v.path || "") + ": " + v.verdict),
      el("p", { class: "sha" }, "sha256 " + (v.sha256 || "(unreadable)") + "  checked " + v.checkedAt),
      el("p", { id: "vouched-by" }, vouch.length ? "vouched for by: " + vouch.join("; ") : "nothing vouches for the executable"),
      el("table", { class: "coverage" }, el("tr", null, el("th", null, "scope"), el("th", null, "status"), el("th", null, "reason")), ...rows),
      el("h4", null, "findings"),
      findings.length ? el("ul", { class: "findings" }, ...findings) : el("p", null, "none"),
      el("h4", null, "mapped files (" + libs.length + ")"),
      el("table", { class: "libs" }, ...libs)
    );
  }

  global.VeriRuntimeChain = { chainGraph, renderChain, renderDetails, el };
})(typeof window !== "undefined" ? window : globalThis);
