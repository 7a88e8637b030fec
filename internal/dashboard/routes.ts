// PURE: which of the metrics listener's paths the dashboard answers, and with what.
//   GET /              the page (page.ts)
//   GET /dashboard.js  its script, /dashboard.css its style, /favicon.svg its icon
//   GET /events        server-sent events, one DashboardUpdate per message (sse.ts streams them)
// Every answer carries the Content-Security-Policy and the other protective headers. A request
// whose Host is a name other than "localhost" is refused with 403: a loopback listener must not
// be readable by a web page through DNS rebinding (a name that resolves to 127.0.0.1), so the
// dashboard answers only requests addressed to an IP address or localhost.
import { isIP } from '../ip/index.ts'
import { CONTENT_SECURITY_POLICY, FAVICON_SVG, PAGE_CSS, PAGE_HTML, PAGE_JS } from './page.ts'

/** Sent with every dashboard answer, the event stream included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
})

export type DashboardRoute =
  | { kind: 'static'; status: number; contentType: string; body: string; headers: Readonly<Record<string, string>> }
  | { kind: 'events'; headers: Readonly<Record<string, string>> }

const STATIC = new Map<string, { contentType: string; body: string }>([
  ['/', { contentType: 'text/html; charset=utf-8', body: PAGE_HTML }],
  ['/dashboard.js', { contentType: 'text/javascript; charset=utf-8', body: PAGE_JS }],
  ['/dashboard.css', { contentType: 'text/css; charset=utf-8', body: PAGE_CSS }],
  ['/favicon.svg', { contentType: 'image/svg+xml', body: FAVICON_SVG }],
])

/** The paths the dashboard answers. */
export const DASHBOARD_PATHS: readonly string[] = Object.freeze([...STATIC.keys(), '/events'])

/** Whether a Host header names an IP address or localhost (any port). No Host header (HTTP/1.0) is accepted. */
export function hostAllowed(host: string | undefined): boolean {
  if (host === undefined || host === '') return true
  const m = /^(\[[0-9a-fA-F:.%a-zA-Z]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host)
  if (!m) return false
  const name = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!
  if (isIP(name) !== 0) return true
  const lower = name.toLowerCase().replace(/\.$/, '')
  return lower === 'localhost' || lower.endsWith('.localhost')
}

/** The dashboard's answer for `path` (query string removed), or undefined when the path is not the dashboard's. */
export function dashboardRoute(path: string, host: string | undefined): DashboardRoute | undefined {
  const isEvents = path === '/events'
  const s = STATIC.get(path)
  if (!s && !isEvents) return undefined
  if (!hostAllowed(host)) {
    return {
      kind: 'static', status: 403, contentType: 'text/plain; charset=utf-8', headers: SECURITY_HEADERS,
      body: 'The dashboard answers only requests addressed to an IP address or localhost (Host header); open it as http://127.0.0.1:PORT/\n',
    }
  }
  if (isEvents) return { kind: 'events', headers: SECURITY_HEADERS }
  return { kind: 'static', status: 200, contentType: s!.contentType, body: s!.body, headers: SECURITY_HEADERS }
}
