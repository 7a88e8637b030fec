import t from 'tap'
import { renderStatus, table } from '../../internal/cli/table.ts'

t.test('table pads columns and shows "-" for missing cells', async (t) => {
  t.equal(table(['A', 'BB'], [['x', undefined], ['long', 2]]), 'A     BB\nx     -\nlong  2')
})

t.test('status of a controller and of an agent with Kubernetes', async (t) => {
  const c = renderStatus({
    version: '0.1.0', commit: 'abc', node: 'v20', mode: 'controller', pid: 7, uptimeSeconds: 3725, configFile: '/etc/porter/porter.yaml',
    lastReload: { at: 'T', ok: false, error: 'porter.yaml:3:1: bad' },
    peers: [{ name: 'leaf1', address: '192.0.2.1', peerAs: 65001, state: 'Established', uptimeSeconds: 61, prefixesSent: 3, prefixesReceived: 0, updatesReceived: 0, flaps: 0, ecmp: 'add-path' }],
    vips: [{ address: '203.0.113.10', announced: true, nextHops: [{ address: '198.51.100.11', health: 'up', announced: true }, { address: '198.51.100.12', health: 'down', announced: false }] }],
  })
  t.match(c, 'porter 0.1.0 (abc) controller, pid 7, up 1h2m')
  t.match(c, 'last reload T: FAILED: porter.yaml:3:1: bad')
  t.match(c, /leaf1\s+65001\s+Established\s+1m1s\s+3\s+0\s+add-path/)
  t.match(c, /203\.0\.113\.10\s+198\.51\.100\.12\s+down\s+no/)
  const a = renderStatus({
    version: '0.1.0', commit: 'abc', node: 'v20', mode: 'agent', pid: 8, uptimeSeconds: 5, configFile: 'x',
    agent: {
      backend: 'nftables', interface: 'lo', mode: 'address', foreign: [], lastReconcile: { at: 'T', ok: true, changes: 3, durationMs: 1 }, counters: { reconciles: 4, changes: 3, failures: 0, driftRepairs: 1 }, vips: ['203.0.113.50'],
      kubernetes: { server: 'https://k:6443', nodeName: 'n1', connected: true, synced: true, services: 2, announced: 1, reasons: { noLocalEndpoints: 1 }, endpointSlices: 1, vips: ['203.0.113.50'], invalid: [], informers: [] },
    },
  })
  t.match(a, 'firewall nftables, interface lo, mode address, last reconcile T: ok')
  t.match(a, 'changes 3, failures 0, drift repairs 1')
  t.match(a, 'kubernetes https://k:6443 as node n1: connected; 2 LoadBalancer service(s), 1 announced here (not: noLocalEndpoints 1)')
  t.match(a, /PROGRAMMED VIP\n203\.0\.113\.50/)
})
