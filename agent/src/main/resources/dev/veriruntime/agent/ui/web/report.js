// The static report: the same chain and details as the live page, from the verdict embedded in
// this file, and the evidence records. Reads nothing from the network.
"use strict";
(function () {
  const C = window.VeriRuntimeChain;
  document.addEventListener("DOMContentLoaded", () => {
    const data = JSON.parse(document.getElementById("report-data").textContent);
    C.renderChain(document.getElementById("chain"), data.verdict);
    C.renderDetails(document.getElementById("details"), data.verdict);
    const ev = document.getElementById("evidence");
    if (!data.evidence.length) {
      ev.append(C.el("p", null, "No evidence records: " + data.evidenceNote));
    }
    data.evidence.forEach((r) => ev.append(C.el("pre", { class: "evidence" }, JSON.stringify(r, null, 2))));
  });
})();
