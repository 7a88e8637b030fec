// The dashboard page: plain HTML, CSS and JavaScript, embedded in the binary as strings (esbuild
// bundles this module like any other; nothing is fetched from anywhere but the listener itself:
// no CDN, no web fonts). The script opens `/events` (server-sent events, one DashboardUpdate per
// message, see feed.ts) and redraws from it. Every value from the status is put on the page with
// textContent / createTextNode / setAttribute, never parsed as HTML; the Content-Security-Policy
// below allows only the listener's own script, style and event stream.

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Porter</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>Porter</h1>
  <span id="identity"></span>
  <span id="ready" class="badge muted">…</span>
  <span id="conn" class="badge muted" data-state="connecting">connecting</span>
  <span id="updated" class="muted"></span>
</header>
<noscript><p class="error">This page needs JavaScript; the script comes from porter itself (/dashboard.js).</p></noscript>
<p id="error" class="error" hidden></p>
<main>
<section id="peers-section">
  <h2>BGP peers</h2>
  <table id="peers">
    <thead><tr><th>Peer</th><th>Address</th><th>AS</th><th>State</th><th>Uptime</th><th>Paths sent</th><th>Received</th><th>Flaps</th><th>ECMP</th><th>Last error</th></tr></thead>
    <tbody></tbody>
  </table>
  <p id="peers-empty" class="muted" hidden>No BGP peer configured.</p>
  <p id="bgp-problem" class="error" hidden></p>
</section>
<section id="vips-section">
  <h2>VIPs</h2>
  <table id="vips">
    <thead><tr><th>VIP</th><th>Announced</th><th>Next hop</th><th>Health</th><th>In announcement</th><th>Routers that have it</th><th>Last error</th></tr></thead>
    <tbody></tbody>
  </table>
  <p id="vips-empty" class="muted" hidden>No VIP in the config file.</p>
</section>
<section id="health-section">
  <h2>Health checks</h2>
  <p id="health-summary"></p>
  <ul id="health-failing"></ul>
</section>
<section id="k8s-section" hidden>
  <h2>Kubernetes</h2>
  <p id="k8s-summary"></p>
  <table id="k8s-vips">
    <thead><tr><th>Service VIP</th><th>Next hops</th></tr></thead>
    <tbody></tbody>
  </table>
  <p id="k8s-more" class="muted" hidden></p>
</section>
<section id="agent-section" hidden>
  <h2>Agent</h2>
  <dl id="agent"></dl>
</section>
<section id="events-section">
  <h2>Recent events</h2>
  <ol id="events" reversed></ol>
  <p id="events-empty" class="muted">No event yet.</p>
</section>
</main>
</body>
</html>
`

export const PAGE_CSS = `:root {
  color-scheme: light dark;
  --bg: #fbfbfa; --fg: #1d1f21; --muted: #6b6f76; --line: #d9dbde; --head: #f0f1f2;
  --ok: #1f7a3a; --ok-bg: #dff3e4; --bad: #b3261e; --bad-bg: #fbe1df; --warn: #8a5a00; --warn-bg: #fdf0cf;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #16181b; --fg: #e4e6e8; --muted: #9aa0a6; --line: #33373c; --head: #202327;
    --ok: #7fd492; --ok-bg: #173d22; --bad: #ff9b93; --bad-bg: #4a1c19; --warn: #f3c766; --warn-bg: #47370f; }
}
* { box-sizing: border-box; }
body { margin: 0; padding: 1rem 1.5rem 2rem; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .75rem; border-bottom: 1px solid var(--line); padding-bottom: .5rem; }
h1 { font-size: 1.4rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono, td.addr { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: .6rem; font-size: .85em; font-weight: 600; background: var(--head); }
.badge.ok { color: var(--ok); background: var(--ok-bg); }
.badge.bad { color: var(--bad); background: var(--bad-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.muted { color: var(--muted); }
.error { color: var(--bad); }
#events { padding-left: 0; list-style: none; margin: 0; }
#events li { padding: .2rem 0; border-bottom: 1px solid var(--line); }
#events time { color: var(--muted); margin-right: .6rem; font-variant-numeric: tabular-nums; }
#events .kind { margin-right: .6rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { color: var(--muted); }
dd { margin: 0; }
`

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#1f7a3a"/><path d="M4 8h8M8 4v8" stroke="#fff" stroke-width="2"/></svg>
`

export const PAGE_JS = `'use strict';
(function () {
  var MAX_KUBE_ROWS = 200;

  function $(id) { return document.getElementById(id); }

  // el('td', { class: 'num', 'data-x': v }, child...): children are nodes or text (never HTML)
  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'class') e.className = String(v);
        else e.setAttribute(k, String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === undefined || c === null) continue;
      e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function badge(text, kind, extra) {
    var attrs = { class: 'badge ' + kind };
    if (extra) Object.keys(extra).forEach(function (k) { attrs[k] = extra[k]; });
    return el('span', attrs, text);
  }

  function list(x) { return Array.isArray(x) ? x : []; }

  function duration(s) {
    if (typeof s !== 'number' || !isFinite(s) || s < 0) return '';
    s = Math.floor(s);
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    if (d) return d + 'd ' + h + 'h';
    if (h) return h + 'h ' + m + 'm';
    if (m) return m + 'm ' + sec + 's';
    return sec + 's';
  }

  function clock(iso) {
    var t = new Date(iso);
    return isNaN(t.getTime()) ? String(iso) : t.toLocaleTimeString();
  }

  function healthKind(h) { return h === 'up' ? 'ok' : h === 'down' ? 'bad' : h === 'pending' ? 'warn' : 'muted'; }

  function fill(tbody, rows) {
    tbody.replaceChildren.apply(tbody, rows);
  }

  function renderHeader(u) {
    var st = u.status || {};
    var id = [];
    if (st.mode) id.push(st.mode);
    else if (st.agent) id.push('agent');
    else if (st.peers) id.push('controller');
    if (st.node) id.push('on ' + st.node);
    if (st.version) id.push('version ' + st.version);
    if (typeof st.uptimeSeconds === 'number') id.push('up ' + duration(st.uptimeSeconds));
    $('identity').textContent = id.join(' · ');
    var r = $('ready');
    r.textContent = u.ready && u.ready.ready ? 'ready' : 'not ready' + (u.ready && u.ready.reason ? ': ' + u.ready.reason : '');
    r.className = 'badge ' + (u.ready && u.ready.ready ? 'ok' : 'warn');
    $('updated').textContent = 'updated ' + clock(u.at);
    var err = $('error');
    err.hidden = !u.error;
    err.textContent = u.error || '';
  }

  function renderPeers(st) {
    var peers = list(st.peers);
    fill($('peers').tBodies[0], peers.map(function (p) {
      var up = p.state === 'Established';
      return el('tr', { 'data-peer': p.name || p.address },
        el('td', null, p.name || ''),
        el('td', { class: 'addr' }, p.address),
        el('td', { class: 'num' }, p.peerAs),
        el('td', { class: 'state' }, badge(p.state, up ? 'ok' : 'bad')),
        el('td', { class: 'num' }, up ? duration(p.uptimeSeconds) : ''),
        el('td', { class: 'num prefixes' }, p.prefixesSent),
        el('td', { class: 'num' }, p.prefixesReceived),
        el('td', { class: 'num' }, p.flaps),
        el('td', null, p.ecmp || ''),
        el('td', { class: 'error' }, p.lastError || ''));
    }));
    $('peers-section').hidden = !st.peers;
    $('peers-empty').hidden = peers.length > 0;
    var bp = $('bgp-problem');
    bp.hidden = !st.bgpProblem;
    bp.textContent = st.bgpProblem ? 'BGP is not running: ' + st.bgpProblem : '';
  }

  function renderVips(st) {
    var rows = [];
    var vips = list(st.vips);
    vips.forEach(function (v) {
      var hops = list(v.nextHops);
      var label = v.name ? v.name + ' ' + v.address : v.address;
      var vipCell = el('td', { class: 'addr', rowspan: Math.max(1, hops.length) }, label);
      var annCell = el('td', { rowspan: Math.max(1, hops.length) },
        badge(v.announced ? 'announced' : 'withdrawn', v.announced ? 'ok' : 'bad', { 'data-announced': String(!!v.announced) }));
      if (hops.length === 0) {
        rows.push(el('tr', { 'data-vip': v.address }, vipCell, annCell, el('td', { class: 'muted', colspan: 5 }, 'no next hop')));
        return;
      }
      hops.forEach(function (n, i) {
        var cells = [
          el('td', { class: 'addr' }, n.address),
          el('td', { class: 'health' }, badge(n.health, healthKind(n.health))),
          el('td', { class: 'announced' }, badge(n.announced ? 'yes' : 'no', n.announced ? 'ok' : 'bad')),
          el('td', { class: 'peers' }, Array.isArray(n.peers) ? (n.peers.length ? n.peers.join(', ') : 'none') : ''),
          el('td', { class: 'error' }, n.lastError || ''),
        ];
        var tr = el('tr', { 'data-vip': v.address, 'data-nexthop': n.address });
        if (i === 0) { tr.appendChild(vipCell); tr.appendChild(annCell); }
        cells.forEach(function (c) { tr.appendChild(c); });
        rows.push(tr);
      });
    });
    fill($('vips').tBodies[0], rows);
    $('vips-empty').hidden = vips.length > 0;
    $('vips-section').hidden = !st.vips;
  }

  function renderHealth(st) {
    var counts = { up: 0, down: 0, pending: 0, 'no check': 0 };
    var failing = [];
    list(st.vips).forEach(function (v) {
      list(v.nextHops).forEach(function (n) {
        counts[n.health] = (counts[n.health] || 0) + 1;
        if (n.health === 'down') failing.push(el('li', { 'data-vip': v.address, 'data-nexthop': n.address },
          badge('down', 'bad'), ' ', el('span', { class: 'mono' }, n.address), ' for ', el('span', { class: 'mono' }, v.address),
          n.lastError ? el('span', { class: 'error' }, ': ' + n.lastError) : null));
      });
    });
    var s = $('health-summary');
    s.replaceChildren(
      badge(counts.up + ' up', counts.up ? 'ok' : 'muted', { 'data-health': 'up' }), ' ',
      badge(counts.down + ' down', counts.down ? 'bad' : 'muted', { 'data-health': 'down' }), ' ',
      badge(counts.pending + ' pending', counts.pending ? 'warn' : 'muted', { 'data-health': 'pending' }), ' ',
      badge(counts['no check'] + ' without a check', 'muted', { 'data-health': 'no check' }));
    fill($('health-failing'), failing);
    $('health-section').hidden = !st.vips;
  }

  function renderKube(st) {
    var k = st.kubernetes;
    $('k8s-section').hidden = !k;
    if (!k) return;
    var parts = [
      'API server ' + (k.server || '?'),
      k.synced ? 'synced' : 'not synced',
      k.connected ? 'connected' : 'disconnected' + (k.staleSince ? ' since ' + clock(k.staleSince) : ''),
      k.leader && k.leader.leader ? 'leader' : 'standby' + (k.leader && k.leader.holder ? ' (leader: ' + k.leader.holder + ')' : ''),
      (k.services || 0) + ' Services, ' + (k.announced || 0) + ' announced',
    ];
    list(k.pools).forEach(function (p) { parts.push('pool ' + p.name + ': ' + p.used + ' of ' + p.size + ' used' + (p.error ? ' (' + p.error + ')' : '')); });
    $('k8s-summary').textContent = parts.join(' · ');
    var vips = list(k.vips);
    fill($('k8s-vips').tBodies[0], vips.slice(0, MAX_KUBE_ROWS).map(function (v) {
      var hops = list(v.nextHops);
      return el('tr', { 'data-vip': v.prefix }, el('td', { class: 'addr' }, v.prefix),
        el('td', { class: 'addr' }, hops.length ? hops.join(', ') : 'none'));
    }));
    var more = $('k8s-more');
    more.hidden = vips.length <= MAX_KUBE_ROWS;
    more.textContent = vips.length > MAX_KUBE_ROWS ? 'and ' + (vips.length - MAX_KUBE_ROWS) + ' more (porter status --json lists all)' : '';
  }

  function renderAgent(st) {
    var a = st.agent;
    $('agent-section').hidden = !a;
    if (!a) return;
    var r = a.lastReconcile;
    var c = a.counters || {};
    var items = [
      ['Interface', a.interface], ['Mode', a.mode + (a.backend ? ' (' + a.backend + ')' : '')],
      ['VIPs programmed', list(a.vips).join(', ') || 'none'],
      ['Last reconcile', r ? (r.ok ? 'ok' : 'failed: ' + (r.error || '')) + ' at ' + clock(r.at) + ', ' + r.changes + ' changes in ' + r.durationMs + ' ms' : 'none yet'],
      ['Counters', (c.reconciles || 0) + ' reconciles, ' + (c.changes || 0) + ' changes, ' + (c.failures || 0) + ' failures, ' + (c.driftRepairs || 0) + ' drift repairs'],
    ];
    var nodes = [];
    items.forEach(function (it) { nodes.push(el('dt', null, it[0]), el('dd', null, it[1])); });
    $('agent').replaceChildren.apply($('agent'), nodes);
  }

  function renderEvents(events) {
    var evs = list(events).slice().reverse();
    fill($('events'), evs.map(function (e) {
      return el('li', { 'data-kind': e.kind, 'data-seq': e.seq },
        el('time', { datetime: e.at }, clock(e.at)),
        badge(e.kind, e.severity === 'warning' ? 'warn kind' : 'muted kind'),
        el('span', null, e.message));
    }));
    $('events-empty').hidden = evs.length > 0;
  }

  function render(u) {
    var st = u.status || {};
    renderHeader(u);
    if (u.status) {
      renderPeers(st);
      renderVips(st);
      renderHealth(st);
      renderKube(st);
      renderAgent(st);
    }
    renderEvents(u.events);
  }

  function setConn(state, text) {
    var c = $('conn');
    c.setAttribute('data-state', state);
    c.textContent = text;
    c.className = 'badge ' + (state === 'live' ? 'ok' : 'warn');
  }

  function connect() {
    var es = new EventSource('/events');
    es.onopen = function () { setConn('live', 'live'); };
    es.onerror = function () { setConn('reconnecting', 'reconnecting…'); };
    es.onmessage = function (m) {
      var u;
      try { u = JSON.parse(m.data); } catch (e) { setConn('error', 'bad update'); return; }
      render(u);
      document.body.setAttribute('data-updated', u.at);
    };
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', connect);
  else connect();
})();
`
