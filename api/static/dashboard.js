// The exporter dashboard: shipments, anchoring progress, totals by month and mode, reports.
"use strict";

(() => {
  const ROLE = "exporter";
  const PAGE = 200;
  const $ = (id) => document.getElementById(id);
  let shown = 0;

  function ready() {
    $("board").classList.remove("hidden");
    const year = new Date().getUTCFullYear();
    $("first-day").value = `${year}-01-01`;
    $("last-day").value = `${year}-12-31`;
    refresh();
  }

  async function refresh() {
    shown = 0;
    $("shipments").querySelector("tbody").replaceChildren();
    await Promise.all([loadSummary(), loadShipments(), loadReports()]);
  }

  async function loadSummary() {
    const s = await CL.api(ROLE, "/v1/summary");
    const card = (label, value) => CL.el("div", { class: "card" }, CL.el("b", { text: value }), label);
    $("cards").replaceChildren(
      card("shipments", String(s.shipments)), card("anchored", String(s.anchored)),
      card("waiting for anchoring", String(s.pending)),
      card("t CO2e WTW", (s.co2e_wtw_g / 1e6).toLocaleString("en", { maximumFractionDigits: 2 })),
      card("t CO2e TTW", (s.co2e_ttw_g / 1e6).toLocaleString("en", { maximumFractionDigits: 2 })));
    const rows = s.by_month.map((m) => ({ label: m.month, parts: Object.entries(m.wtw_by_mode_g)
      .map(([mode, grams]) => ({ value: grams / 1e6, colour: CL.modeColours[mode] || "#888",
                                 name: mode })) }));
    const chart = $("month-chart");
    chart.replaceChildren();
    if (rows.length) {
      chart.append(CL.barChart(rows, { unit: "t", label: "WTW by month and mode" }),
                   CL.legend(CL.modeColours));
    } else {
      chart.append(CL.el("p", { text: "no shipments yet" }));
    }
  }

  async function loadShipments() {
    const data = await CL.api(ROLE, `/v1/shipments?limit=${PAGE}&offset=${shown}`);
    const body = $("shipments").querySelector("tbody");
    for (const s of data.shipments) {
      body.append(CL.el("tr", { "data-shipment": s.shipment_id },
        CL.el("td", { text: s.shipment_id }), CL.el("td", { text: s.anchoring }),
        CL.el("td", { class: "num", text: CL.kg(s.co2e_wtw_g) }),
        CL.el("td", { class: "num", text: CL.kg(s.co2e_ttw_g) }),
        CL.el("td", { class: "num", text: Number(s.activity_tkm).toLocaleString("en") }),
        CL.el("td", { text: Object.keys(s.wtw_by_mode_g).join(", ") })));
    }
    shown += data.shipments.length;
    $("more-button").classList.toggle("hidden", shown >= data.total);
  }

  async function loadReports() {
    const data = await CL.api(ROLE, "/v1/reports");
    const body = $("reports").querySelector("tbody");
    body.replaceChildren(...data.reports.map((r) => {
      const links = CL.el("td");
      const formats = [["json", ""], ["html", "/html"]];
      if (r.cbam_xml) formats.push(["cbam.xml", "/cbam.xml"]);
      for (const [name, suffix] of formats) {
        const button = CL.el("button", { text: name });
        button.addEventListener("click", () => download(`/v1/reports/${r.id}${suffix}`,
          `${r.id.split(":").pop()}.${name}`));
        links.append(button, " ");
      }
      return CL.el("tr", {}, CL.el("td", { text: r.id }),
        CL.el("td", { class: "num", text: String(r.shipments) }),
        CL.el("td", { text: r.created_at }), links);
    }));
  }

  async function download(path, name) {
    const response = await CL.api(ROLE, path, { raw: true });
    const url = URL.createObjectURL(await response.blob());
    const a = CL.el("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 5000);
  }

  async function submit() {
    const status = $("submit-status");
    const file = $("shipments-file").files[0];
    if (!file) { status.textContent = "choose a CSV or JSON file"; return; }
    const form = new FormData();
    form.append("file", file);
    status.textContent = "uploading…";
    try {
      const r = await CL.api(ROLE, "/v1/shipments", { method: "POST", body: form });
      status.textContent = `${r.accepted} accepted: ${r.created} new, ${r.replaced} replaced, `
        + `${r.unchanged} unchanged`;
      refresh();
    } catch (error) {
      const problems = (error.body && error.body.problems) || [];
      status.textContent = error.message + (problems.length
        ? " — " + problems.slice(0, 5).map((p) => `row ${p.row} ${p.field}: ${p.message}`).join("; ")
        : "");
    }
  }

  async function anchor() {
    const status = $("anchor-status");
    const bar = $("anchor-progress");
    $("anchor-button").disabled = true;
    try {
      let job = await CL.api(ROLE, "/v1/anchoring", { method: "POST" });
      bar.classList.remove("hidden");
      while (job.state === "queued" || job.state === "running") {
        bar.max = Math.max(1, job.total);
        bar.value = job.done;
        status.textContent = `${job.state}: ${job.phase}`;
        await new Promise((resolve) => setTimeout(resolve, 500));
        job = await CL.api(ROLE, `/v1/jobs/${job.id}`);
      }
      bar.value = bar.max;
      if (job.state === "done") {
        const txs = job.result.batches.map((b) => b.transaction && b.transaction.hash)
          .filter(Boolean);
        status.textContent = `anchored ${job.result.anchored} shipment(s)`
          + (txs.length ? ` in ${txs.length} transaction(s): ${txs.join(", ")}` : "");
      } else {
        status.textContent = `anchoring failed: ${job.error}`;
      }
      refresh();
    } catch (error) {
      status.textContent = error.message;
    } finally {
      $("anchor-button").disabled = false;
    }
  }

  async function report() {
    const status = $("report-status");
    status.textContent = "issuing…";
    try {
      const ids = [];
      for (let offset = 0; ; offset += 1000) {
        const page = await CL.api(ROLE, `/v1/shipments?limit=1000&offset=${offset}`);
        for (const s of page.shipments) if (s.anchoring === "final" || s.anchoring === "mined") ids.push(s.shipment_id);
        if (offset + page.shipments.length >= page.total) break;
      }
      if (!ids.length) throw new Error("no anchored shipment yet: anchor first");
      const made = await CL.api(ROLE, "/v1/reports", { method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ shipment_ids: ids.slice(0, 1000), first_day: $("first-day").value,
                               last_day: $("last-day").value }) });
      status.textContent = `issued ${made.id}`;
      loadReports();
    } catch (error) {
      status.textContent = error.message;
    }
  }

  $("submit-button").addEventListener("click", submit);
  $("anchor-button").addEventListener("click", anchor);
  $("report-button").addEventListener("click", report);
  $("more-button").addEventListener("click", loadShipments);
  CL.wireSignIn(ROLE, $("signin-form"), ready);
  if (CL.signedIn(ROLE)) ready();
})();
