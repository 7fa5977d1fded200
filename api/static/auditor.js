// The auditor page: verify a report check by check, chart its legs, link its chain objects.
"use strict";

(() => {
  const ROLE = "auditor";
  const $ = (id) => document.getElementById(id);
  const ILEAP = "https://api.ileap.sine.dev/shipment-footprint.json";
  const ANCHOR = "https://carbon-ledger.invalid/schemas/anchor-v1.json";
  let explorer = null;
  let lastDocument = null;

  fetch("/health").then((r) => r.json()).then((h) => { explorer = h.explorer_url || null; });

  function ready() {
    $("upload").classList.remove("hidden");
    $("history").classList.remove("hidden");
    loadHistory();
  }

  function link(kind, value) {
    if (!value) return document.createTextNode("–");
    if (!explorer) return CL.el("code", { text: value });
    return CL.el("a", { href: `${explorer.replace(/\/$/, "")}/${kind}/${value}`, target: "_blank",
                        rel: "noopener", text: value });
  }

  function extension(footprint, schema) {
    return (footprint.extensions || []).find((e) => e.dataSchema === schema);
  }

  function render(verdict, documentJson) {
    $("result").classList.remove("hidden");
    const banner = $("verdict");
    const skipped = (verdict.skipped || []).length;
    banner.textContent = verdict.verified ? "VERIFIED"
      : "NOT VERIFIED: failed: " + verdict.failed.join(", ")
        + (skipped ? ` (${skipped} check${skipped === 1 ? "" : "s"} not run)` : "");
    banner.className = "banner " + (verdict.verified ? "ok" : "bad");
    $("summary").textContent = `report ${verdict.reportId || "?"} · issuer ${verdict.issuer || "?"}`
      + ` · hash ${verdict.reportHash || "?"}`;
    const body = $("checks").querySelector("tbody");
    body.replaceChildren();
    for (const check of verdict.checks) {
      const row = CL.el("tr", { class: check.status, "data-check": check.name },
        CL.el("td", { text: check.name }), CL.el("td", { text: check.status }),
        CL.el("td", { text: check.detail }));
      body.append(row);
    }
    const footprints = (documentJson && documentJson.credentialSubject
      && documentJson.credentialSubject.productFootprints) || [];
    const rows = [];
    const chainRows = $("chain-objects").querySelector("tbody");
    chainRows.replaceChildren();
    let contract = null;
    for (const footprint of footprints) {
      const ileap = extension(footprint, ILEAP);
      const anchor = extension(footprint, ANCHOR);
      if (ileap && Array.isArray(ileap.data.tces)) {
        for (const tce of ileap.data.tces) {
          const ttw = Number(tce.co2eTTW), wtw = Number(tce.co2eWTW);
          rows.push({ label: String(tce.tceId), parts: [
            { value: ttw, colour: "#1f78b4", name: "TTW" },
            { value: Math.max(0, wtw - ttw), colour: "#a6cee3", name: "WTT" }] });
        }
      }
      if (anchor) {
        contract = anchor.data.contract;
        chainRows.append(CL.el("tr", {},
          CL.el("td", { text: (ileap && ileap.data.shipmentId) || "?" }),
          CL.el("td", { text: `${anchor.data.anchoring} ${anchor.data.merkleRoot || anchor.data.batchId || ""}` }),
          CL.el("td", {}, link("tx", anchor.data.transactionHash)),
          CL.el("td", { class: "num", text: String(anchor.data.blockNumber) })));
      }
    }
    const chart = $("chart");
    chart.replaceChildren();
    if (rows.length) {
      chart.append(CL.barChart(rows, { unit: "kg", label: "Emissions per leg, kg CO2e" }),
                   CL.legend({ "TTW (tank-to-wheel)": "#1f78b4", "WTT (well-to-tank)": "#a6cee3" }));
    } else {
      chart.append(CL.el("p", { text: "no transport legs in this document" }));
    }
    const where = $("contract");
    where.replaceChildren();
    if (contract) where.append("contract ", link("address", contract));
  }

  async function readReport() {
    const file = $("report-file").files[0];
    const text = file ? await file.text() : $("report-text").value;
    if (!text.trim()) throw new Error("choose a report file or paste a report");
    return text;
  }

  async function verify() {
    const status = $("verify-status");
    status.textContent = "verifying…";
    $("attest-button").disabled = true;
    try {
      const text = await readReport();
      let parsed = null;
      try { parsed = JSON.parse(text); } catch (e) { parsed = null; }
      const verdict = await CL.api(ROLE, "/v1/verifications", {
        method: "POST", headers: { "content-type": "application/json" }, body: text });
      lastDocument = text;
      render(verdict, parsed);
      status.textContent = "";
      $("attest-button").disabled = !verdict.verified;
      loadHistory();
    } catch (error) {
      status.textContent = error.message;
    }
  }

  async function attest() {
    const status = $("verify-status");
    status.textContent = "attesting on chain…";
    try {
      const done = await CL.api(ROLE, "/v1/attestations", {
        method: "POST", headers: { "content-type": "application/json" }, body: lastDocument });
      status.replaceChildren("attested in ", link("tx", done.transaction_hash),
                             ` (block ${done.block_number})`);
    } catch (error) {
      status.textContent = error.message;
    }
  }

  async function loadHistory() {
    const body = $("verifications").querySelector("tbody");
    try {
      const data = await CL.api(ROLE, "/v1/verifications");
      body.replaceChildren(...data.verifications.map((v) => CL.el("tr", {},
        CL.el("td", { text: v.report_id || "(malformed)" }),
        CL.el("td", { text: v.verified ? "verified" : "failed: " + v.failed.join(", ") }),
        CL.el("td", { text: v.created_at }))));
    } catch (error) {
      body.replaceChildren(CL.el("tr", {}, CL.el("td", { text: error.message })));
    }
  }

  $("report-file").addEventListener("change", async () => {
    const file = $("report-file").files[0];
    if (file) $("report-text").value = await file.text();
  });
  $("verify-button").addEventListener("click", verify);
  $("attest-button").addEventListener("click", attest);
  CL.wireSignIn(ROLE, $("signin-form"), ready);
  if (CL.signedIn(ROLE)) ready();
})();
