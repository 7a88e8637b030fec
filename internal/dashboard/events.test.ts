// statusEvents as a story: one status after another, the events each step must produce; and the
// EventLog's bound and numbering.
import t from 'tap'
import { statusEvents, EventLog, type AnyStatus, type StatusChange } from './events.ts'
import type { PeerStatus, VipStatus } from '../admin/index.ts'

const peer = (name: string, state: string, extra: Partial<PeerStatus> = {}): PeerStatus => ({
  name, address: name === 'r4' ? '192.0.2.1' : '2001:db8::1', peerAs: 65001, state, prefixesReceived: 0, updatesReceived: 0, flaps: 0, prefixesSent: 0, ...extra,
})
const hop = (address: string, health: string, announced: boolean, lastError?: string) => ({ address, health, announced, ...(lastError ? { lastError } : {}) })
const vip = (address: string, announced: boolean, nextHops: VipStatus['nextHops']): VipStatus => ({ name: 'web', address, announced, nextHops })
const brief = (cs: StatusChange[]) => cs.map((c) => `${c.kind} ${c.subject}`)

t.test('a controller story: start, sessions up, a health check fails and heals, a router goes away', async (t) => {
  const steps: { what: string; status: AnyStatus; expect: string[] }[] = [
    {
      what: 'first sample: sessions still down, checks pending: nothing is up yet',
      status: { peers: [peer('r4', 'Active'), peer('r6', 'Connect')], vips: [vip('203.0.113.10', false, [hop('192.0.2.11', 'pending', false), hop('192.0.2.12', 'pending', false)])] },
      expect: [],
    },
    {
      what: 'checks pass: both next hops announced, the VIP too',
      status: { peers: [peer('r4', 'OpenSent'), peer('r6', 'Active')], vips: [vip('203.0.113.10', true, [hop('192.0.2.11', 'up', true), hop('192.0.2.12', 'up', true)])] },
      expect: ['vip-announced 203.0.113.10', 'nexthop-announced 203.0.113.10 via 192.0.2.11', 'nexthop-announced 203.0.113.10 via 192.0.2.12'],
    },
    {
      what: 'sessions Established (intermediate states are not events)',
      status: { peers: [peer('r4', 'Established'), peer('r6', 'Established')], vips: [vip('203.0.113.10', true, [hop('192.0.2.11', 'up', true), hop('192.0.2.12', 'up', true)])] },
      expect: ['session-up r4', 'session-up r6'],
    },
    {
      what: 'nothing changed but counters: no event',
      status: { peers: [peer('r4', 'Established', { uptimeSeconds: 9, prefixesSent: 2 }), peer('r6', 'Established')], vips: [vip('203.0.113.10', true, [hop('192.0.2.11', 'up', true), hop('192.0.2.12', 'up', true)])] },
      expect: [],
    },
    {
      what: '192.0.2.12 fails its check and leaves the announcement',
      status: { peers: [peer('r4', 'Established'), peer('r6', 'Established')], vips: [vip('203.0.113.10', true, [hop('192.0.2.11', 'up', true), hop('192.0.2.12', 'down', false, 'exec check: exit 1')])] },
      expect: ['health-down 203.0.113.10 via 192.0.2.12', 'nexthop-withdrawn 203.0.113.10 via 192.0.2.12'],
    },
    {
      what: 'still down: no repeat',
      status: { peers: [peer('r4', 'Established'), peer('r6', 'Established')], vips: [vip('203.0.113.10', true, [hop('192.0.2.11', 'up', true), hop('192.0.2.12', 'down', false, 'exec check: exit 1')])] },
      expect: [],
    },
    {
      what: '192.0.2.11 fails too: the VIP is withdrawn',
      status: { peers: [peer('r4', 'Established'), peer('r6', 'Established')], vips: [vip('203.0.113.10', false, [hop('192.0.2.11', 'down', false), hop('192.0.2.12', 'down', false)])] },
      expect: ['vip-withdrawn 203.0.113.10', 'health-down 203.0.113.10 via 192.0.2.11', 'nexthop-withdrawn 203.0.113.10 via 192.0.2.11'],
    },
    {
      what: 'both heal',
      status: { peers: [peer('r4', 'Established'), peer('r6', 'Established')], vips: [vip('203.0.113.10', true, [hop('192.0.2.11', 'up', true), hop('192.0.2.12', 'up', true)])] },
      expect: ['vip-announced 203.0.113.10', 'health-up 203.0.113.10 via 192.0.2.11', 'nexthop-announced 203.0.113.10 via 192.0.2.11', 'health-up 203.0.113.10 via 192.0.2.12', 'nexthop-announced 203.0.113.10 via 192.0.2.12'],
    },
    {
      what: 'r4 goes down; r6 removed from the config',
      status: { peers: [peer('r4', 'Idle', { lastError: 'hold timer expired' })], vips: [vip('203.0.113.10', true, [hop('192.0.2.11', 'up', true), hop('192.0.2.12', 'up', true)])] },
      expect: ['session-down r4', 'peer-removed r6'],
    },
    {
      what: 'a new peer that is not up yet; BGP stops with a problem',
      status: { peers: [peer('r4', 'Idle'), peer('r9', 'Idle')], bgpProblem: 'no router ID', vips: [vip('203.0.113.10', true, [hop('192.0.2.11', 'up', true), hop('192.0.2.12', 'up', true)])] },
      expect: ['peer-added r9', 'bgp-problem bgp'],
    },
    {
      what: 'the problem clears; the VIP and its next hops leave the config',
      status: { peers: [peer('r4', 'Idle'), peer('r9', 'Idle')], vips: [] },
      expect: ['bgp-ok bgp', 'vip-withdrawn 203.0.113.10'],
    },
  ]
  let prev: AnyStatus | undefined
  for (const s of steps) {
    t.same(brief(statusEvents(prev, s.status)), s.expect, s.what)
    prev = s.status
  }
  const down = statusEvents(steps[3]!.status, steps[4]!.status)
  t.match(down[0]!.message, /192\.0\.2\.12.*web 203\.0\.113\.10.*exec check: exit 1/, 'the check\'s error is in the message')
  t.equal(down[0]!.severity, 'warning')
  t.match(statusEvents(steps[7]!.status, steps[8]!.status)[0]!.message, /went down to Idle: hold timer expired/)
})

t.test('the first sample reports what is already up', async (t) => {
  const st: AnyStatus = { peers: [peer('r4', 'Established'), peer('r6', 'Active')], vips: [vip('203.0.113.10', true, [hop('192.0.2.11', 'no check', true), hop('192.0.2.12', 'down', false)])] }
  t.same(brief(statusEvents(undefined, st)), [
    'session-up r4', 'vip-announced 203.0.113.10', 'nexthop-announced 203.0.113.10 via 192.0.2.11', 'health-down 203.0.113.10 via 192.0.2.12',
  ])
})

t.test('BGP starting (no peer before) is not a list of added peers', async (t) => {
  t.same(brief(statusEvents({ peers: [], vips: [] }, { peers: [peer('r4', 'Established'), peer('r6', 'Idle')], vips: [] })), ['session-up r4'])
})

t.test('Kubernetes VIPs: announced, next hops added and removed, withdrawn', async (t) => {
  const k = (vips: { prefix: string; nextHops: string[] }[]): AnyStatus => ({ peers: [], vips: [], kubernetes: { vips } as NonNullable<AnyStatus['kubernetes']> })
  const a = k([{ prefix: '203.0.113.20/32', nextHops: ['192.0.2.21', '192.0.2.22'] }])
  const b = k([{ prefix: '203.0.113.20/32', nextHops: ['192.0.2.22', '192.0.2.23'] }, { prefix: '203.0.113.21/32', nextHops: ['192.0.2.21'] }])
  const c = k([{ prefix: '203.0.113.21/32', nextHops: ['192.0.2.21'] }])
  t.same(brief(statusEvents(k([]), a)), ['vip-announced 203.0.113.20/32'])
  t.same(brief(statusEvents(a, b)), ['nexthop-announced 203.0.113.20/32 via 192.0.2.23', 'nexthop-withdrawn 203.0.113.20/32 via 192.0.2.21', 'vip-announced 203.0.113.21/32'])
  t.same(brief(statusEvents(b, c)), ['vip-withdrawn 203.0.113.20/32'])
  t.same(statusEvents(c, c), [], 'no change, no event')
})

t.test('agent: reconcile failures and programmed VIPs', async (t) => {
  const ag = (at: string, ok: boolean, vips: string[], error?: string): AnyStatus => ({
    agent: { interface: 'lo', mode: 'host', vips, foreign: [], lastReconcile: { at, ok, changes: 0, durationMs: 1, ...(error ? { error } : {}) }, counters: { reconciles: 1, changes: 0, failures: 0, driftRepairs: 0 } },
  })
  t.same(brief(statusEvents(undefined, ag('t1', true, ['203.0.113.10']))), ['vip-programmed 203.0.113.10'])
  t.same(brief(statusEvents(ag('t1', true, ['203.0.113.10']), ag('t2', false, ['203.0.113.10'], 'EPERM'))), ['reconcile-failed lo'])
  t.same(brief(statusEvents(ag('t2', false, ['203.0.113.10']), ag('t3', false, ['203.0.113.10']))), [], 'a second failure in a row is not news')
  t.same(brief(statusEvents(ag('t3', false, ['203.0.113.10']), ag('t4', true, []))), ['reconcile-ok lo', 'vip-unprogrammed 203.0.113.10'])
})

t.test('odd input gives no event rather than a throw', async (t) => {
  const odd = { peers: 'x', vips: [{ address: '203.0.113.10', announced: true, nextHops: null }], kubernetes: { vips: 3 } } as unknown as AnyStatus
  t.same(brief(statusEvents(odd, odd)), [])
  t.same(brief(statusEvents(undefined, {})), [])
})

t.test('EventLog keeps the last `max` events, numbered and stamped', async (t) => {
  const log = new EventLog(3)
  const c = (s: string): StatusChange => ({ kind: 'session-up', severity: 'info', subject: s, message: s })
  t.same(log.push([c('a'), c('b')], 'T1').map((e) => [e.seq, e.at, e.subject]), [[1, 'T1', 'a'], [2, 'T1', 'b']])
  log.push([], 'T2')
  log.push([c('c'), c('d')], 'T3')
  t.same(log.list().map((e) => [e.seq, e.subject]), [[2, 'b'], [3, 'c'], [4, 'd']], 'oldest dropped, numbering goes on')
  const l = log.list()
  l.pop()
  t.equal(log.list().length, 3, 'list() is a copy')
  t.throws(() => new EventLog(0), RangeError)
})
