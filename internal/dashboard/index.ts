// The live dashboard on the metrics listener (admin.metricsAddress): one page (page.ts) fed by
// server-sent events (sse.ts) from a feed that samples the status contract once a second
// (feed.ts) and derives recent events from successive samples (events.ts, pure).
export { DashboardFeed, SAMPLE_BUDGET, type DashboardFeedOptions, type DashboardUpdate, type Subscriber } from './feed.ts'
export { statusEvents, EventLog, type AnyStatus, type DashboardEvent, type StatusChange, type EventKind, type Severity } from './events.ts'
export { redactReplacer, redactString } from './redact.ts'
export { dashboardRoute, hostAllowed, DASHBOARD_PATHS, SECURITY_HEADERS, type DashboardRoute } from './routes.ts'
export { serveEvents, sseFrame, type EventStreamOptions } from './sse.ts'
export { CONTENT_SECURITY_POLICY, PAGE_HTML, PAGE_CSS, PAGE_JS, FAVICON_SVG } from './page.ts'
