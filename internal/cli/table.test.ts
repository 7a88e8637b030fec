// porter status, VIPS table: ANNOUNCED says "yes" only for next hops some peer has; a healthy
// next hop no peer received (no ADD-PATH, no session) is "not sent", with the peers listed.
import t from 'tap'
import { renderStatus } from './table.ts'
import type { DaemonStatus } from '../admin/index.ts'

const base = { version: '0.1.0', commit: 'abc', node: 'v20', mode: 'controller', pid: 7, uptimeSeconds: 3, configFile: 'x' } as const

t.test('a peer without ADD-PATH: one next hop "yes", the others "not sent", with a note', async (t) => {
  const st: DaemonStatus = {
    ...base,
    peers: [{ name: 'r4', address: '192.0.2.1', peerAs: 65001, state: 'Established', prefixesSent: 1, prefixesReceived: 0, updatesReceived: 0, flaps: 0, ecmp: 'unavailable: no ADD-PATH with this peer, 1 prefix(es) sent with one next hop' }],
    vips: [{ address: '203.0.113.10', announced: true, peers: ['r4'], nextHops: [
      { address: '192.0.2.11', health: 'no check', announced: true, peers: ['r4'] },
      { address: '192.0.2.12', health: 'no check', announced: true, peers: [] },
      { address: '192.0.2.13', health: 'down', announced: false, peers: [] },
    ] }, { address: '203.0.113.20', announced: true, peers: [], nextHops: [] }],
  }
  const out = renderStatus(st)
  t.match(out, /VIP\s+NEXT HOP\s+HEALTH\s+ANNOUNCED\s+PEERS\n/)
  t.match(out, /203\.0\.113\.10\s+192\.0\.2\.11\s+no check\s+yes\s+r4\n/)
  t.match(out, /203\.0\.113\.10\s+192\.0\.2\.12\s+no check\s+not sent\s+-\n/)
  t.match(out, /203\.0\.113\.10\s+192\.0\.2\.13\s+down\s+no\s+-\n/)
  t.match(out, /203\.0\.113\.20\s+-\s+-\s+not sent\s+-\n/)
  t.match(out, /\nnot sent: healthy, but no peer has this next hop \(no session, or no ADD-PATH: see ECMP under PEERS\)$/)
})

t.test('every next hop with a peer: all "yes", peers listed, no note', async (t) => {
  const out = renderStatus({ ...base, vips: [{ address: '203.0.113.10', announced: true, peers: ['r4', 'r6'], nextHops: [
    { address: '192.0.2.11', health: 'up', announced: true, peers: ['r4', 'r6'] },
    { address: '192.0.2.12', health: 'up', announced: true, peers: ['r4'] },
  ] }] })
  t.match(out, /192\.0\.2\.11\s+up\s+yes\s+r4,r6\n/)
  t.match(out, /192\.0\.2\.12\s+up\s+yes\s+r4$/)
  t.notMatch(out, /not sent/)
})

t.test('Kubernetes VIPs: the next hops no peer has are listed', async (t) => {
  const out = renderStatus({ ...base, kubernetes: {
    server: 'https://k:6443', synced: true, connected: true, leader: { leader: true, disabled: true }, services: 2, allocated: 2, announced: 2, notAnnounced: {}, pools: [], informers: [],
    vips: [{ prefix: '203.0.113.50/32', nextHops: ['192.0.2.11', '192.0.2.12'], notSent: ['192.0.2.12'] }, { prefix: '203.0.113.51/32', nextHops: ['192.0.2.11'] }],
  } })
  t.match(out, /SERVICE VIP\s+NEXT HOPS\s+NOT SENT TO ANY PEER\n/)
  t.match(out, /203\.0\.113\.50\/32\s+192\.0\.2\.11, 192\.0\.2\.12\s+192\.0\.2\.12\n/)
  t.match(out, /203\.0\.113\.51\/32\s+192\.0\.2\.11\s+-$/)
})

t.test('PEERS: a BFD column when some peer runs BFD (state, agreed intervals, why it is down)', async (t) => {
  const peer = { address: '192.0.2.1', peerAs: 65001, prefixesSent: 0, prefixesReceived: 0, updatesReceived: 0, flaps: 0 }
  const bfd = { remoteState: 'Up', sinceSeconds: 5, downs: 0 }
  const out = renderStatus({ ...base, peers: [
    { ...peer, name: 'r1', state: 'Established', bfd: { ...bfd, state: 'Up', diag: 'No Diagnostic', txIntervalMs: 100, detectTimeMs: 300 } },
    { ...peer, name: 'r2', state: 'Idle', bfd: { ...bfd, state: 'Down', diag: 'Control Detection Time Expired', txIntervalMs: 1000, detectTimeMs: 0, downs: 1 } },
    { ...peer, name: 'r3', state: 'Active' },
  ] })
  t.match(out, /PEER\s+AS\s+STATE\s+BFD\s+UPTIME/)
  t.match(out, /r1\s+65001\s+Established\s+Up 100ms\/300ms\s/)
  t.match(out, /r2\s+65001\s+Idle\s+Down \(Control Detection Time Expired\)\s/)
  t.match(out, /r3\s+65001\s+Active\s+-\s/)
  t.notMatch(renderStatus({ ...base, peers: [{ ...peer, name: 'r3', state: 'Active' }] }), /BFD/, 'no BFD column without BFD')
})

t.test('node liveness: a BFD column for next hops with a bfd check, the agent\'s LIVENESS table, Kubernetes NOT LIVE and NODE', async (t) => {
  const bfd = { remoteState: 'Up', sinceSeconds: 5, downs: 0, diag: 'No Diagnostic', txIntervalMs: 100, detectTimeMs: 300 }
  const down = { ...bfd, state: 'Down', remoteState: 'Down', diag: 'Control Detection Time Expired', txIntervalMs: 1000, detectTimeMs: 0, downs: 2 }
  const out = renderStatus({ ...base, vips: [{ address: '203.0.113.10', announced: true, peers: ['r4'], nextHops: [
    { address: '198.51.100.11', health: 'up', announced: true, peers: ['r4'], bfd: { ...bfd, state: 'Up' } },
    { address: '198.51.100.12', health: 'down', announced: false, peers: [], bfd: down },
    { address: '198.51.100.13', health: 'up', announced: true, peers: ['r4'] },
  ] }] })
  t.match(out, /VIP\s+NEXT HOP\s+HEALTH\s+BFD\s+ANNOUNCED\s+PEERS\n/)
  t.match(out, /198\.51\.100\.11\s+up\s+Up 100ms\/300ms\s+yes\s+r4\n/)
  t.match(out, /198\.51\.100\.12\s+down\s+Down \(Control Detection Time Expired\)\s+no\s+-\n/)
  t.match(out, /198\.51\.100\.13\s+up\s+-\s+yes\s+r4/, 'a next hop without a bfd check: -')
  const agent = renderStatus({ ...base, mode: 'agent', agent: { interface: 'lo', mode: 'address', vips: [], foreign: [], counters: { reconciles: 1, changes: 0, failures: 0, driftRepairs: 0 },
    liveness: [{ address: '198.51.100.10', ...bfd, state: 'Up' }, { address: '198.51.100.20', accepted: true, ...down }] } })
  t.match(agent, /LIVENESS PEER\s+BFD\s+DOWNS\n198\.51\.100\.10\s+Up 100ms\/300ms\s+0\n198\.51\.100\.20 \(accepted\)\s+Down \(Control Detection Time Expired\)\s+2\n/)
  const kube = renderStatus({ ...base, kubernetes: {
    server: 'https://127.0.0.1:6443', synced: true, connected: true, leader: { leader: true, disabled: true }, services: 1, allocated: 1, announced: 1, notAnnounced: {}, pools: [], informers: [],
    vips: [{ prefix: '203.0.113.10/32', nextHops: ['192.0.2.11', '192.0.2.12'], notLive: ['192.0.2.12'] }],
    nodeLiveness: [{ address: '192.0.2.11', ...bfd, state: 'Up' }, { address: '192.0.2.12', ...down }],
  } })
  t.match(kube, /SERVICE VIP\s+NEXT HOPS\s+NOT SENT TO ANY PEER\s+NOT LIVE \(BFD\)\n203\.0\.113\.10\/32\s+192\.0\.2\.11, 192\.0\.2\.12\s+-\s+192\.0\.2\.12\n/)
  t.match(kube, /NODE\s+BFD\s+DOWNS\n192\.0\.2\.11\s+Up 100ms\/300ms\s+0\n192\.0\.2\.12\s+Down \(Control Detection Time Expired\)\s+2/)
})
