// createPorterRegistry: a status object in -> Prometheus text out, parsed back and checked
// series by series (names, types, labels, values).
import t from 'tap'
import { createPorterRegistry } from './registry.ts'
import { parsePromText, promValue } from '../../test/lib/prom-text.ts'

const NOW = Date.parse('2026-01-01T00:10:00Z')

/** The shape of the controller's service.status() (internal/controller/service.ts). */
function controllerStatus(): Record<string, unknown> {
  return {
    peers: [
      { name: 'r4', address: '192.0.2.1', peerAs: 65001, state: 'Established', uptimeSeconds: 42, holdTime: 9, families: ['ipv4-unicast'], addPath: ['ipv4-unicast'], prefixesReceived: 5, updatesReceived: 7, flaps: 1, prefixesSent: 3, ecmp: 'add-path' },
      { name: 'r6', address: '2001:db8::1', peerAs: 65001, state: 'Active', prefixesReceived: 0, updatesReceived: 0, flaps: 0, prefixesSent: 0 },
    ],
    refusedConnections: 2,
    vips: [{ name: 'web', address: '203.0.113.10', announced: true, nextHops: [
      { address: '192.0.2.11', health: 'up', announced: true },
      { address: '192.0.2.12', health: 'down', lastError: 'connection refused', announced: false },
    ] }],
    kubernetes: {
      server: 'https://192.0.2.100:6443', synced: true, connected: true, leader: { leader: true, holder: 'a', transitions: 1 },
      services: 2, allocated: 2, announced: 2, notAnnounced: {},
      pools: [{ name: 'eip-v4', size: '254', used: 2 }],
      lastPass: { at: '2026-01-01T00:09:59.000Z', durationMs: 4, writes: 1, errors: 0 },
      informers: [], vips: [{ prefix: '203.0.113.50/32', nextHops: ['192.0.2.11'] }],
    },
  }
}

t.test('controller status -> exposition text with the expected series and values', async (t) => {
  const reg = createPorterRegistry({ mode: 'controller', status: controllerStatus, now: () => NOW })
  t.match(reg.contentType, /^text\/plain; version=0\.0\.4/)
  const p = parsePromText(await reg.metrics())
  t.equal(promValue(p, 'porter_bgp_session_state', { peer: 'r4', state: 'Established' }), 1)
  t.equal(promValue(p, 'porter_bgp_session_state', { peer: 'r4', state: 'Idle' }), 0)
  t.equal(promValue(p, 'porter_bgp_session_state', { peer: 'r6', state: 'Active' }), 1)
  t.equal(promValue(p, 'porter_bgp_session_state', { peer: 'r6', state: 'Established' }), 0)
  t.equal(p.samples.filter((s) => s.name === 'porter_bgp_session_state').length, 12, 'six states for each of two peers')
  t.equal(promValue(p, 'porter_bgp_session_uptime_seconds', { peer: 'r4' }), 42)
  t.equal(promValue(p, 'porter_bgp_session_uptime_seconds', { peer: 'r6' }), 0)
  t.equal(promValue(p, 'porter_bgp_session_flaps_total', { peer: 'r4' }), 1)
  t.equal(promValue(p, 'porter_bgp_prefixes_sent', { peer: 'r4' }), 3)
  t.equal(promValue(p, 'porter_bgp_prefixes_received', { peer: 'r4' }), 5)
  t.equal(promValue(p, 'porter_bgp_updates_received_total', { peer: 'r4' }), 7)
  t.equal(promValue(p, 'porter_bgp_refused_connections_total'), 2)
  t.equal(promValue(p, 'porter_vip_announced', { vip: '203.0.113.10' }), 1)
  t.equal(promValue(p, 'porter_vip_announced', { vip: '203.0.113.50' }), 1, 'a Service VIP')
  t.equal(promValue(p, 'porter_vip_nexthop_healthy', { vip: '203.0.113.10', nexthop: '192.0.2.11' }), 1)
  t.equal(promValue(p, 'porter_vip_nexthop_healthy', { vip: '203.0.113.10', nexthop: '192.0.2.12' }), 0)
  t.equal(promValue(p, 'porter_ipam_pool_size', { pool: 'eip-v4' }), 254)
  t.equal(promValue(p, 'porter_ipam_pool_used', { pool: 'eip-v4' }), 2)
  t.equal(promValue(p, 'porter_kubernetes_connected'), 1)
  t.equal(promValue(p, 'porter_kubernetes_synced'), 1)
  t.equal(promValue(p, 'porter_kubernetes_stale_seconds'), 0)
  t.equal(promValue(p, 'porter_kubernetes_leader'), 1)
  t.equal(promValue(p, 'porter_reconcile_duration_ms', { mode: 'controller' }), 4)
  t.equal(promValue(p, 'porter_ready'), 1)
  t.equal(p.types.get('porter_bgp_session_flaps_total'), 'counter')
  t.equal(p.types.get('porter_bgp_session_state'), 'gauge')
  t.ok(p.help.get('porter_bgp_session_state'), 'with HELP')
  t.equal(promValue(p, 'porter_agent_changes_total'), undefined, 'no agent series in controller mode')
  // prom-client's default metrics, prefixed
  t.ok(p.samples.some((s) => s.name === 'porter_process_cpu_seconds_total'), 'porter_process_cpu_seconds_total')
  t.ok((promValue(p, 'porter_process_resident_memory_bytes') ?? 0) > 0, 'porter_process_resident_memory_bytes > 0')
  t.ok(p.samples.some((s) => s.name.startsWith('porter_nodejs_')), 'porter_nodejs_*')
  t.same(p.samples.filter((s) => !s.name.startsWith('porter_')).map((s) => s.name), [], 'every series is porter_ prefixed')
})

t.test('each scrape reads the status afresh; series of a vanished section or peer disappear', async (t) => {
  let st = controllerStatus()
  let reads = 0
  const reg = createPorterRegistry({ mode: 'controller', status: () => { reads++; return st }, now: () => NOW, defaultMetrics: false })
  let p = parsePromText(await reg.metrics())
  t.equal(reads, 1, 'one status read per scrape')
  t.equal(promValue(p, 'porter_kubernetes_synced'), 1)
  st = { ...controllerStatus(), peers: [{ name: 'r4', address: '192.0.2.1', state: 'Idle', prefixesSent: 0, prefixesReceived: 0, updatesReceived: 7, flaps: 2 }] }
  delete st.kubernetes
  p = parsePromText(await reg.metrics())
  t.equal(promValue(p, 'porter_bgp_session_state', { peer: 'r4', state: 'Established' }), 0)
  t.equal(promValue(p, 'porter_bgp_session_state', { peer: 'r4', state: 'Idle' }), 1)
  t.equal(promValue(p, 'porter_bgp_session_flaps_total', { peer: 'r4' }), 2, 'counters are the status\'s value, not a sum over scrapes')
  t.equal(promValue(p, 'porter_bgp_prefixes_sent', { peer: 'r6' }), undefined, 'removed peer: gone')
  for (const n of ['porter_kubernetes_synced', 'porter_kubernetes_connected', 'porter_ipam_pool_size', 'porter_reconcile_duration_ms']) {
    t.notOk(p.types.has(n), `${n}: no family at all without Kubernetes (not a misleading 0)`)
  }
  t.notOk(p.samples.some((s) => s.name.startsWith('porter_process_')), 'default metrics can be turned off')
})

t.test('agent status -> agent series; readiness from the injected rule', async (t) => {
  const st = { agent: { interface: 'lo', backend: 'nftables', vips: ['203.0.113.10'], foreign: [],
    lastReconcile: { at: '2026-01-01T00:00:00.000Z', ok: true, changes: 2, durationMs: 31 },
    counters: { reconciles: 4, changes: 6, failures: 1, driftRepairs: 3 } } }
  const reg = createPorterRegistry({ mode: 'agent', status: () => st, defaultMetrics: false, ready: () => ({ ready: false, reason: 'the agent is starting' }) })
  const p = parsePromText(await reg.metrics())
  t.equal(promValue(p, 'porter_agent_changes_total'), 6)
  t.equal(promValue(p, 'porter_agent_failures_total'), 1)
  t.equal(promValue(p, 'porter_agent_drift_repairs_total'), 3)
  t.equal(promValue(p, 'porter_agent_reconciles_total'), 4)
  t.equal(promValue(p, 'porter_reconcile_duration_ms', { mode: 'agent' }), 31)
  t.equal(promValue(p, 'porter_agent_vips_programmed'), 1)
  t.equal(promValue(p, 'porter_ready'), 0, 'the injected readiness wins')
  t.equal(p.types.get('porter_agent_changes_total'), 'counter')
  t.equal(promValue(p, 'porter_kubernetes_synced'), undefined)
})

t.test('two registries in one process do not share series (no global state)', async (t) => {
  const a = createPorterRegistry({ mode: 'controller', status: controllerStatus, defaultMetrics: false })
  const b = createPorterRegistry({ mode: 'agent', status: () => ({}), defaultMetrics: false })
  const pa = parsePromText(await a.metrics())
  const pb = parsePromText(await b.metrics())
  t.ok(pa.samples.length > 20)
  t.same(pb.samples.map((s) => s.name), ['porter_ready'])
})
