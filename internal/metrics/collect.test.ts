// collect() and readiness(): status objects in, samples and verdicts out (pure, no prom-client).
import t from 'tap'
import { collect, readiness, FAMILIES, BGP_STATES, type Samples } from './collect.ts'

const NOW = Date.parse('2026-01-01T00:10:00Z')
const values = (s: Samples, name: keyof Samples) => (s[name] ?? []).map((x) => [x.labels, x.value])

t.test('every family is porter_ prefixed, counters end in _total and gauges do not', async (t) => {
  const names = Object.keys(FAMILIES)
  t.ok(names.length >= 25, `${names.length} families`)
  for (const [n, d] of Object.entries(FAMILIES)) {
    t.match(n, /^porter_[a-z_]+$/, n)
    t.equal(n.endsWith('_total'), d.type === 'counter', `${n} is a ${d.type}`)
  }
})

t.test('a peer has one state series per RFC 4271 state, 1 for the current one', async (t) => {
  const s = collect('controller', { peers: [{ name: 'r4', address: '192.0.2.1', state: 'OpenSent', flaps: 2, prefixesSent: 0, prefixesReceived: 0, updatesReceived: 0 }] }, NOW)
  t.same(values(s, 'porter_bgp_session_state'), BGP_STATES.map((st) => [{ peer: 'r4', state: st }, st === 'OpenSent' ? 1 : 0]))
  t.same(values(s, 'porter_bgp_session_uptime_seconds'), [[{ peer: 'r4' }, 0]], 'not Established: uptime 0')
  t.same(values(s, 'porter_bgp_session_flaps_total'), [[{ peer: 'r4' }, 2]])
  const odd = collect('controller', { peers: [{ address: '192.0.2.9', state: 'Weird' }] }, NOW)
  t.same(values(odd, 'porter_bgp_session_state').filter(([, v]) => v === 1), [[{ peer: '192.0.2.9', state: 'Weird' }, 1]], 'an unknown state is a series of its own; the address names an unnamed peer')
  t.equal(odd.porter_bgp_session_state!.length, 7)
})

t.test('next-hop health: up and "no check" are healthy; pending and down are not', async (t) => {
  const s = collect('controller', { vips: [{ name: 'web', address: '203.0.113.10', announced: true, nextHops: [
    { address: '198.51.100.1', health: 'up', announced: true },
    { address: '198.51.100.2', health: 'no check', announced: true },
    { address: '198.51.100.3', health: 'pending', announced: false },
    { address: '198.51.100.4', health: 'down', lastError: 'refused', announced: false },
  ] }] }, NOW)
  t.same(values(s, 'porter_vip_nexthop_healthy').map(([l, v]) => [(l as { nexthop: string }).nexthop, v]), [['198.51.100.1', 1], ['198.51.100.2', 1], ['198.51.100.3', 0], ['198.51.100.4', 0]])
  t.same(values(s, 'porter_vip_nexthop_announced').map(([, v]) => v), [1, 1, 0, 0])
  t.same(values(s, 'porter_vip_announced'), [[{ vip: '203.0.113.10' }, 1]])
})

t.test('Kubernetes: stale seconds from staleSince, leader, pools with string sizes, last pass', async (t) => {
  const s = collect('controller', { peers: [], vips: [], kubernetes: {
    synced: true, connected: false, staleSince: '2026-01-01T00:08:30Z', leader: { leader: false, holder: 'other', transitions: 1 },
    services: 4, allocated: 0, announced: 3, pools: [{ name: 'v4', size: '256', used: 3 }, { name: 'v6', size: '18446744073709551616', used: 1 }],
    lastPass: { at: '2026-01-01T00:09:59Z', durationMs: 7, writes: 2, errors: 1 },
    vips: [{ prefix: '203.0.113.20/32', nextHops: ['198.51.100.1'] }, { prefix: '2001:db8:100::20/128', nextHops: [] }],
  } }, NOW)
  t.same(values(s, 'porter_kubernetes_stale_seconds'), [[{}, 90]])
  t.same(values(s, 'porter_kubernetes_connected'), [[{}, 0]])
  t.same(values(s, 'porter_kubernetes_synced'), [[{}, 1]])
  t.same(values(s, 'porter_kubernetes_leader'), [[{}, 0]])
  t.same(values(s, 'porter_ipam_pool_size'), [[{ pool: 'v4' }, 256], [{ pool: 'v6' }, 2 ** 64]])
  t.same(values(s, 'porter_ipam_pool_used'), [[{ pool: 'v4' }, 3], [{ pool: 'v6' }, 1]])
  t.same(values(s, 'porter_reconcile_duration_ms'), [[{ mode: 'controller' }, 7]])
  t.same(values(s, 'porter_kubernetes_last_pass_errors'), [[{}, 1]])
  t.same(values(s, 'porter_vip_announced'), [[{ vip: '203.0.113.20' }, 1], [{ vip: '2001:db8:100::20' }, 0]], 'Services\' VIPs')
  const ok = collect('controller', { kubernetes: { connected: true, synced: true, leader: { leader: true, disabled: true } } }, NOW)
  t.same(values(ok, 'porter_kubernetes_stale_seconds'), [[{}, 0]], 'connected: 0')
  t.same(values(ok, 'porter_kubernetes_leader'), [[{}, 1]], 'leader election off counts as leader')
})

t.test('sections that are off give no samples; garbage gives no samples and no exception', async (t) => {
  const s = collect('controller', { peers: [], vips: [] }, NOW)
  t.same(Object.keys(s), ['porter_ready'])
  for (const junk of [{}, { peers: 'x', vips: [null, 3, { address: 7 }], kubernetes: [] }, { peers: [{ state: 5, flaps: 'many', prefixesSent: NaN }] }, { agent: 'x' }]) {
    t.doesNotThrow(() => collect('controller', junk as Record<string, unknown>, NOW))
    t.doesNotThrow(() => collect('agent', junk as Record<string, unknown>, NOW))
  }
  const j = collect('controller', { peers: [{ state: 5, flaps: 'many', prefixesSent: NaN }] }, NOW)
  t.same(Object.keys(j).sort(), ['porter_ready'], 'no numbers made up')
})

t.test('agent: counters, last reconcile, programmed VIPs, Kubernetes', async (t) => {
  const st = { agent: { interface: 'lo', backend: 'nftables', vips: ['203.0.113.10', '203.0.113.11'], foreign: [],
    lastReconcile: { at: '2026-01-01T00:00:00.000Z', ok: true, changes: 0, durationMs: 12 },
    counters: { reconciles: 9, changes: 5, failures: 1, driftRepairs: 2 },
    kubernetes: { server: 'https://x', nodeName: 'n1', connected: true, synced: false, services: 3, announced: 1 } } }
  const s = collect('agent', st, NOW)
  t.same(values(s, 'porter_agent_reconciles_total'), [[{}, 9]])
  t.same(values(s, 'porter_agent_changes_total'), [[{}, 5]])
  t.same(values(s, 'porter_agent_failures_total'), [[{}, 1]])
  t.same(values(s, 'porter_agent_drift_repairs_total'), [[{}, 2]])
  t.same(values(s, 'porter_reconcile_duration_ms'), [[{ mode: 'agent' }, 12]])
  t.same(values(s, 'porter_agent_last_reconcile_ok'), [[{}, 1]])
  t.same(values(s, 'porter_agent_vips_programmed'), [[{}, 2]])
  t.same(values(s, 'porter_kubernetes_synced'), [[{}, 0]])
  t.same(values(s, 'porter_ready'), [[{}, 0]], 'not synced: not ready')
  t.same(values(s, 'porter_bgp_session_state'), [], 'no BGP series in agent mode')
})

t.test('readiness, step by step', async (t) => {
  const rows: [string, 'controller' | 'agent', Record<string, unknown>, boolean, string][] = [
    ['controller without Kubernetes', 'controller', { peers: [] }, true, 'ok'],
    ['controller, Kubernetes not synced', 'controller', { kubernetes: { synced: false } }, false, 'Kubernetes has not synced yet'],
    ['controller, Kubernetes synced (disconnected later: still ready, it announces the last state)', 'controller', { kubernetes: { synced: true, connected: false } }, true, 'ok'],
    ['agent not started', 'agent', {}, false, 'the agent has not started'],
    ['agent before its first reconcile', 'agent', { agent: { counters: {} } }, false, 'no reconcile has run yet'],
    ['agent, last reconcile failed', 'agent', { agent: { lastReconcile: { ok: false, error: 'nft: No such file\nor directory' } } }, false, 'the last reconcile failed: nft: No such file or directory'],
    ['agent, ok, no Kubernetes', 'agent', { agent: { lastReconcile: { ok: true } } }, true, 'ok'],
    ['agent, ok, Kubernetes not synced', 'agent', { agent: { lastReconcile: { ok: true }, kubernetes: { synced: false } } }, false, 'Kubernetes has not synced yet'],
    ['agent, ok, Kubernetes synced', 'agent', { agent: { lastReconcile: { ok: true }, kubernetes: { synced: true } } }, true, 'ok'],
  ]
  for (const [what, mode, st, ready, reason] of rows) t.same(readiness(mode, st), { ready, reason }, what)
})
