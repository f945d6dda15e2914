/**
 * The owner's status page at `GET /`: a static shell with no data and no
 * secret in it. Its script (page-script.ts, served at `/status-page.js`)
 * reads `GET /v1/pool` with the same access rules as every `/v1` route and
 * redraws every few seconds. Strict CSP: no inline script or style, no
 * framing, nothing fetched but this origin.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>codex-proxy status</title>
<link rel="stylesheet" href="/status-page.css">
</head>
<body>
<header>
  <h1>codex-proxy</h1>
  <p id="summary" aria-live="polite">Loading…</p>
</header>
<form id="key-form" hidden>
  <label for="key">This proxy needs its PROXY_API_KEY to show its status:</label>
  <input id="key" type="password" autocomplete="off" spellcheck="false">
  <button type="submit">Show</button>
  <p class="hint">The key stays in this browser tab (session storage) and is sent only to this proxy.</p>
</form>
<main>
  <section>
    <h2>Accounts <small id="strategy"></small></h2>
    <div id="accounts"></div>
  </section>
  <section>
    <h2>Last requests</h2>
    <table id="recent">
      <thead><tr><th>time</th><th>method</th><th>path</th><th>model</th><th>account</th><th>status</th><th>ms</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<script src="/status-page.js" defer></script>
</body>
</html>
`;

export const STATUS_PAGE_CSS = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { max-width: 64rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { margin: 0; font-size: 1.4rem; }
h2 { font-size: 1.1rem; margin-top: 1.5rem; }
h2 small { font-weight: normal; opacity: .7; }
.account { border: 1px solid #8884; border-radius: .5rem; padding: .6rem .9rem; margin: .6rem 0; }
.account h3 { margin: 0 0 .3rem; font-size: 1rem; }
.state { font-size: .8rem; padding: .1rem .45rem; border-radius: .8rem; margin-left: .4rem; background: #8883; }
.state.ready { background: #2a84; }
.state.cooling_down, .state.backing_off { background: #d924; }
.state.disabled, .state.needs_login, .state.no_codex, .state.unreadable { background: #d334; }
.meta { font-size: .85rem; opacity: .8; margin: .2rem 0; }
.window { display: grid; grid-template-columns: 7rem 1fr 11rem; gap: .6rem; align-items: center; font-size: .85rem; margin: .25rem 0; }
.bar { height: .7rem; background: #8883; border-radius: .35rem; overflow: hidden; }
.fill { height: 100%; background: #2a8; }
.fill.high { background: #d92; }
.fill.full { background: #d33; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #8883; }
.hint { font-size: .8rem; opacity: .7; }
`;
