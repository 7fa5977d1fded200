// The importer page: consignments naming the importer's EORI, the 50 t tally, the declaration's
// totals by CN code and origin, cost on default vs actual values, and the signed download.
"use strict";

(() => {
  const ROLE = "importer";
  const $ = (id) => document.getElementById(id);
  const td = (text, cls) => CL.el("td", cls ? { class: cls, text } : { text });

  function estimates() {
    return $("estimates").value.split(/[\s,;]+/).filter(Boolean);
  }

  function query() {
    const params = new URLSearchParams({ year: $("year").value });
    for (const e of estimates()) params.append("estimate", e);
    return params.toString();
  }

  async function load() {
    const status = $("load-status");
    status.textContent = "computing…";
    try {
      const listed = await CL.api(ROLE, `/v1/importer/consignments?year=${$("year").value}`);
      const body = $("consignments").querySelector("tbody");
      body.replaceChildren(...listed.consignments.map((c) => CL.el("tr", {},
        td(c.shipmentId), td(c.importDate || ""), td(c.cnCode), td(c.originCountry),
        td(c.installationId || ""), td(c.dataType), td(c.netMassKg, "num"),
        td(c.embeddedEmissionsKg, "num"))));
      const t = listed.threshold;
      const card = (label, value) => CL.el("div", { class: "card" }, CL.el("b", { text: value }), label);
      $("cards").replaceChildren(
        card("consignments", String(listed.consignments.length)),
        card(`t counted of ${t.thresholdT} t`, t.netMassT),
        card("liable", t.liable ? "yes" : t.warning ? "not yet (warning level)" : "no"));
      if (!listed.consignments.length) {
        status.textContent = "no anchored consignment names this EORI in that year";
        return;
      }
      const d = await CL.api(ROLE, `/v1/importer/declaration?${query()}`);
      $("by-cn").querySelector("tbody").replaceChildren(...d.byCnCode.map((r) => CL.el("tr", {},
        td(r.cnCode), td(r.originCountry), td(r.netMassT, "num"),
        td(r.embeddedEmissionsT, "num"), td(r.certificatesT, "num"), td(r.costEur, "num"))));
      const f = d.forecast;
      $("forecast").querySelector("tbody").replaceChildren(
        CL.el("tr", {}, td("cost on the declared values (EUR)"), td(f.costOnDeclaredValuesEur, "num")),
        CL.el("tr", {}, td("cost on default values only (EUR)"), td(f.costOnDefaultValuesEur || "n/a", "num")),
        CL.el("tr", {}, td("saving from actual values (EUR)"), td(f.savingFromActualValuesEur || "n/a", "num")),
        CL.el("tr", {}, td("certificates to surrender"), td(String(d.totals.certificatesToSurrender), "num")));
      status.textContent = d.containsEstimates ? "computed (contains price estimates)" : "computed";
    } catch (error) {
      status.textContent = error.message;
    }
  }

  async function sign() {
    const status = $("sign-status");
    status.textContent = "signing…";
    try {
      const response = await CL.api(ROLE, "/v1/importer/declarations", {
        method: "POST", raw: true, headers: { "content-type": "application/json" },
        body: JSON.stringify({ year: Number($("year").value), estimates: estimates() }) });
      const blob = await response.blob();
      const name = (response.headers.get("content-disposition") || "").split('filename="')[1];
      const link = CL.el("a", { href: URL.createObjectURL(blob),
                                download: name ? name.replace(/"$/, "") : "declaration.json",
                                text: "download the signed declaration" });
      status.replaceChildren(link);
      link.click();
    } catch (error) {
      status.textContent = error.message;
    }
  }

  CL.wireSignIn(ROLE, $("signin-form"), () => { $("board").classList.remove("hidden"); load(); });
  $("load-button").addEventListener("click", load);
  $("sign-button").addEventListener("click", sign);
  if (CL.signedIn(ROLE)) { $("board").classList.remove("hidden"); load(); }
})();
