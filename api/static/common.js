// Shared helpers of the pages: sign-in (OAuth2 client credentials), API calls, SVG charts.
"use strict";

const CL = (() => {
  const tokenKey = (role) => `carbon-ledger-token-${role}`;

  async function signIn(role, clientId, clientSecret) {
    const body = new URLSearchParams({ grant_type: "client_credentials" });
    const response = await fetch("/auth/token", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: "Basic " + btoa(`${clientId}:${clientSecret}`),
      },
      body,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.message || data.error_description || "sign-in failed");
    sessionStorage.setItem(tokenKey(role), data.access_token);
    const me = await api(role, "/v1/me");
    if (me.role !== role) {
      sessionStorage.removeItem(tokenKey(role));
      throw new Error(`these credentials are for the role ${me.role}, not ${role}`);
    }
    return me;
  }

  function signedIn(role) {
    return Boolean(sessionStorage.getItem(tokenKey(role)));
  }

  function signOut(role) {
    sessionStorage.removeItem(tokenKey(role));
  }

  async function api(role, path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    headers.authorization = "Bearer " + sessionStorage.getItem(tokenKey(role));
    const response = await fetch(path, Object.assign({}, options, { headers }));
    if (options.raw) {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response;
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.message || `HTTP ${response.status}`);
      error.body = data;
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  const svgNs = "http://www.w3.org/2000/svg";
  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(svgNs, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const kg = (grams) => (Number(grams) / 1000).toLocaleString("en", { maximumFractionDigits: 1 });

  // Horizontal stacked bars: rows of {label, parts: [{value, colour, name}]}.
  function barChart(rows, { unit = "kg", label = "chart" } = {}) {
    const labelW = 190, barW = 420, rowH = 26;
    const totals = rows.map((r) => r.parts.reduce((s, p) => s + p.value, 0));
    const peak = Math.max(1e-9, ...totals);
    const root = svg("svg", { width: labelW + barW + 120, height: rowH * rows.length + 10,
                              role: "img", "aria-label": label });
    rows.forEach((row, i) => {
      const y = 5 + i * rowH;
      root.append(svg("text", { x: 0, y: y + 16, "font-size": 12 }, row.label.slice(0, 30)));
      let x = labelW;
      for (const part of row.parts) {
        const w = (part.value / peak) * barW;
        const rect = svg("rect", { x: x.toFixed(1), y, width: w.toFixed(1), height: 18,
                                   fill: part.colour });
        rect.append(svg("title", {}, `${part.name}: ${part.value.toLocaleString("en")} ${unit}`));
        root.append(rect);
        x += w;
      }
      root.append(svg("text", { x: (x + 6).toFixed(1), y: y + 14, "font-size": 12 },
                      `${totals[i].toLocaleString("en", { maximumFractionDigits: 1 })} ${unit}`));
    });
    return root;
  }

  const modeColours = { road: "#d95f02", rail: "#1b9e77", sea: "#1f78b4", air: "#e7298a",
                        inland_waterway: "#66a61e", hub: "#a6761d" };

  function legend(colours) {
    const box = el("p", { class: "legend" });
    for (const [name, colour] of Object.entries(colours)) {
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = colour;
      box.append(swatch, ` ${name} `);
    }
    return box;
  }

  function wireSignIn(role, form, onReady) {
    const status = form.querySelector(".status");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.textContent = "signing in…";
      try {
        const me = await signIn(role, form.client_id.value.trim(), form.client_secret.value);
        status.textContent = `signed in: ${me.organisation}`;
        onReady(me);
      } catch (error) {
        status.textContent = error.message;
      }
    });
  }

  return { signIn, signedIn, signOut, api, el, svg, kg, barChart, modeColours, legend, wireSignIn };
})();
