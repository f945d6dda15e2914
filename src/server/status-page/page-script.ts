/**
 * The status page's script, served as `/status-page.js`. Plain browser
 * JavaScript in a string (the proxy has no front-end build). Every value
 * from the API goes into the page through `textContent`, never as HTML, so
 * an account name or e-mail cannot inject markup.
 */
export const STATUS_PAGE_SCRIPT = `"use strict";
(() => {
  const REFRESH_MS = 3000;
  const KEY_ITEM = "codex-proxy-key";
  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function label(minutes) {
    if (!minutes) return "window";
    if (minutes === 300) return "5-hour";
    if (minutes === 10080) return "weekly";
    if (minutes % 1440 === 0) return minutes / 1440 + "-day";
    if (minutes % 60 === 0) return minutes / 60 + "-hour";
    return minutes + "-minute";
  }

  function inWords(ms) {
    const minutes = Math.max(0, Math.round(ms / 60000));
    if (minutes < 60) return minutes + " min";
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + " h " + (minutes % 60) + " min";
    return Math.floor(hours / 24) + " days";
  }

  function windowRow(window) {
    const row = el("div", "window");
    const used = Math.max(0, Math.min(100, Number(window.usedPercent) || 0));
    row.append(el("span", "", label(window.windowMinutes)));
    const bar = el("div", "bar");
    bar.setAttribute("role", "meter");
    bar.setAttribute("aria-valuenow", String(used));
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    const fill = el("div", "fill" + (used >= 100 ? " full" : used >= 80 ? " high" : ""));
    fill.style.width = used + "%";
    bar.append(fill);
    row.append(bar);
    const resets = window.resetsAt ? " · resets in " + inWords(window.resetsAt * 1000 - Date.now()) : "";
    row.append(el("span", "", used + "% used" + resets));
    return row;
  }

  function accountCard(account) {
    const card = el("div", "account");
    card.dataset.account = account.name;
    const title = el("h3", "", account.name);
    title.append(el("span", "state " + account.state, account.state.replace("_", " ")));
    card.append(title);
    const facts = [account.email, account.plan && "plan " + account.plan];
    if (account.expiresAt) facts.push("token expires in " + inWords(account.expiresAt - Date.now()));
    if (account.handedOffTo) facts.push("handed off to " + account.handedOffTo);
    card.append(el("p", "meta", facts.filter(Boolean).join(" · ")));
    if (account.reason || account.cooldownUntil) {
      const until = account.cooldownUntil ? " until " + new Date(account.cooldownUntil).toLocaleString() : "";
      card.append(el("p", "meta reason", (account.reason || account.state) + until));
    }
    const windows = (account.rateLimits && account.rateLimits.windows) || [];
    if (windows.length === 0) card.append(el("p", "meta", "no usage seen yet"));
    for (const window of windows) card.append(windowRow(window));
    return card;
  }

  function render(pool) {
    const accounts = pool.accounts || [];
    const ready = accounts.filter((a) => a.state === "ready").length;
    $("summary").textContent = ready + " of " + accounts.length + " account" + (accounts.length === 1 ? "" : "s") + " ready · updated " + new Date().toLocaleTimeString();
    $("strategy").textContent = pool.strategy ? "(strategy: " + pool.strategy + ")" : "";
    $("accounts").replaceChildren(...accounts.map(accountCard));
    const rows = (pool.recent || []).map((r) => {
      const row = el("tr");
      for (const value of [new Date(r.time).toLocaleTimeString(), r.method, r.path, r.model || "", r.account || "", r.status, r.ms])
        row.append(el("td", "", value === undefined ? "" : value));
      return row;
    });
    $("recent").tBodies[0].replaceChildren(...rows);
  }

  async function refresh() {
    const key = sessionStorage.getItem(KEY_ITEM);
    const headers = key ? { authorization: "Bearer " + key } : {};
    try {
      const response = await fetch("/v1/pool", { headers, cache: "no-store" });
      if (response.status === 401) {
        sessionStorage.removeItem(KEY_ITEM);
        $("key-form").hidden = false;
        $("summary").textContent = key ? "That key was refused." : "Enter the key to see the status.";
        return;
      }
      if (!response.ok) throw new Error("HTTP " + response.status);
      $("key-form").hidden = true;
      render(await response.json());
    } catch (error) {
      $("summary").textContent = "Could not read the status (" + error.message + "); retrying.";
    }
  }

  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_ITEM, $("key").value.trim());
    $("key").value = "";
    void refresh();
  });
  void refresh();
  setInterval(refresh, REFRESH_MS);
})();
`;
