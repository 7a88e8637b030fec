// The dashboard's routes (pure) and the page itself: every answer carries the CSP, only
// IP/localhost Host headers are served, the page loads nothing from outside the listener and its
// script never parses data as HTML.
import t from 'tap'
import { Script } from 'node:vm'
import { dashboardRoute, hostAllowed, DASHBOARD_PATHS, SECURITY_HEADERS } from './routes.ts'
import { CONTENT_SECURITY_POLICY, PAGE_HTML, PAGE_JS, PAGE_CSS, FAVICON_SVG } from './page.ts'

t.test('routes: the page, its assets and the event stream; other paths are not the dashboard\'s', async (t) => {
  t.same([...DASHBOARD_PATHS].sort(), ['/', '/dashboard.css', '/dashboard.js', '/events', '/favicon.svg'])
  const want: Record<string, [string, string]> = {
    '/': ['text/html; charset=utf-8', PAGE_HTML],
    '/dashboard.js': ['text/javascript; charset=utf-8', PAGE_JS],
    '/dashboard.css': ['text/css; charset=utf-8', PAGE_CSS],
    '/favicon.svg': ['image/svg+xml', FAVICON_SVG],
  }
  for (const [path, [type, body]] of Object.entries(want)) {
    const r = dashboardRoute(path, '127.0.0.1:9477')
    t.ok(r?.kind === 'static' && r.status === 200 && r.contentType === type && r.body === body, `${path}: 200 ${type}`)
    t.equal(r?.headers['Content-Security-Policy'], CONTENT_SECURITY_POLICY)
  }
  t.same(dashboardRoute('/events', 'localhost:9477'), { kind: 'events', headers: SECURITY_HEADERS })
  for (const path of ['/metrics', '/healthz', '/index.html', '/events/', '/dashboard.js/x', '//', 'constructor', '/__proto__', '/toString']) {
    t.equal(dashboardRoute(path, '127.0.0.1'), undefined, `${path}: not the dashboard's`)
  }
})

t.test('the Content-Security-Policy allows only the listener itself', async (t) => {
  const csp = SECURITY_HEADERS['Content-Security-Policy']!
  t.match(csp, /default-src 'none'/)
  for (const d of ['script-src', 'style-src', 'connect-src', 'img-src']) t.match(csp, new RegExp(`${d} 'self'(;|$)`), `${d} 'self' only`)
  t.notMatch(csp, /unsafe|\*|data:|https?:/, 'no unsafe-inline/eval, wildcard, data: or remote origin')
  t.match(csp, /frame-ancestors 'none'/)
  t.equal(SECURITY_HEADERS['X-Content-Type-Options'], 'nosniff')
})

t.test('Host: IP addresses and localhost only (DNS rebinding)', async (t) => {
  for (const h of [undefined, '', '127.0.0.1', '127.0.0.1:9477', '[::1]:9477', '[::1]', '192.0.2.2:9477', 'localhost', 'LOCALHOST:9477', 'porter.localhost:80', 'localhost.']) {
    t.ok(hostAllowed(h), `${JSON.stringify(h)} allowed`)
  }
  for (const h of ['evil.example', 'evil.example:9477', 'localhost.evil.example', '127.0.0.1.nip.io:9477', '[::1', 'a:b:c', '127.0.0.1:9477:1']) {
    t.notOk(hostAllowed(h), `${JSON.stringify(h)} refused`)
  }
  const r = dashboardRoute('/', 'rebind.example:9477')
  t.ok(r?.kind === 'static' && r.status === 403, '403 for the page')
  t.equal(r?.headers['Content-Security-Policy'], CONTENT_SECURITY_POLICY)
  t.match(dashboardRoute('/events', 'rebind.example')!, { kind: 'static', status: 403 }, '403 for the event stream')
})

t.test('the page: parses, self-contained, values rendered as text only', async (t) => {
  t.doesNotThrow(() => new Script(PAGE_JS, { filename: 'dashboard.js' }), 'the script parses')
  t.match(PAGE_JS, /^'use strict';/)
  for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'setTimeout(\'', 'srcdoc', 'javascript:']) {
    t.notOk(PAGE_JS.includes(sink), `no ${sink} in the script`)
  }
  t.match(PAGE_JS, /new EventSource\('\/events'\)/, 'live updates from /events')
  t.match(PAGE_JS, /createTextNode/, 'text nodes for values')
  for (const [name, text] of [['html', PAGE_HTML], ['css', PAGE_CSS], ['js', PAGE_JS]] as const) {
    t.notMatch(text, /(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i, `${name}: no remote URL (CDN, fonts)`)
    t.notMatch(text, /@import|url\(/i, `${name}: no imported resource`)
  }
  t.notMatch(PAGE_HTML, /<script>|<style>| on[a-z]+=/i, 'no inline script, style or handler (the CSP would block them)')
  t.match(PAGE_HTML, /<script src="\/dashboard\.js" defer><\/script>/)
  t.match(PAGE_HTML, /<link rel="stylesheet" href="\/dashboard\.css">/)
  for (const id of ['peers', 'vips', 'health-summary', 'events', 'conn', 'ready']) t.match(PAGE_HTML, `id="${id}"`, `#${id} is on the page`)
  // every id the script looks up is on the page
  const ids = [...PAGE_JS.matchAll(/\$\('([a-z0-9-]+)'\)/g)].map((m) => m[1]!)
  t.ok(ids.length > 10, 'the script looks elements up by id')
  for (const id of new Set(ids)) t.match(PAGE_HTML, `id="${id}"`, `#${id} exists`)
})
