// planSessions (pure) as a step table, the status view, and BfdPeers applying plans to a fake
// BfdService one operation at a time.
import t from 'tap'
import { silentLogger } from '../log/index.ts'
import { FakeBfd } from '../../test/lib/fake-bfd.ts'
import { BfdPeers, bfdStatusView, planSessions, wireTimers, type BfdAuthType, type BfdTimersMs, type SessionPlan } from './index.ts'

const T = (minTx = 100, minRx = 100, multiplier = 3): BfdTimersMs => ({ minTx, minRx, multiplier })
const m = (...e: [string, BfdTimersMs][]) => new Map(e)
/** timers with authentication, the key read anew each time (a new Uint8Array) */
const K = (key: string, keyId = 1, type: BfdAuthType = 'meticulous-keyed-sha1'): BfdTimersMs => ({ ...T(), auth: { type, keyId, key: new TextEncoder().encode(key) } })

t.test('planSessions: step table from running to wanted', async (t) => {
  const steps: [string, Map<string, BfdTimersMs>, Map<string, BfdTimersMs>, SessionPlan][] = [
    ['nothing to nothing', m(), m(), { add: [], remove: [], retime: [] }],
    ['start two', m(), m(['192.0.2.1', T()], ['192.0.2.2', T()]), { add: [['192.0.2.1', T()], ['192.0.2.2', T()]], remove: [], retime: [] }],
    ['same set: nothing', m(['192.0.2.1', T()]), m(['192.0.2.1', T()]), { add: [], remove: [], retime: [] }],
    ['one goes, one comes', m(['192.0.2.1', T()]), m(['192.0.2.2', T()]), { add: [['192.0.2.2', T()]], remove: ['192.0.2.1'], retime: [] }],
    ['new timers: retime, not restart', m(['192.0.2.1', T()]), m(['192.0.2.1', T(50)]), { add: [], remove: [], retime: [['192.0.2.1', T(50)]] }],
    ['multiplier alone counts', m(['192.0.2.1', T()]), m(['192.0.2.1', T(100, 100, 5)]), { add: [], remove: [], retime: [['192.0.2.1', T(100, 100, 5)]] }],
    ['all go', m(['192.0.2.1', T()], ['2001:db8::1', T()]), m(), { add: [], remove: ['192.0.2.1', '2001:db8::1'], retime: [] }],
    ['another port: a new session', m(['192.0.2.1', T()]), m(['192.0.2.1', { ...T(), port: 3785 }]), { add: [['192.0.2.1', { ...T(), port: 3785 }]], remove: ['192.0.2.1'], retime: [] }],
    ['a key added: a new session', m(['192.0.2.1', T()]), m(['192.0.2.1', K('k1')]), { add: [['192.0.2.1', K('k1')]], remove: ['192.0.2.1'], retime: [] }],
    ['the same key read again (another object): nothing', m(['192.0.2.1', K('k1')]), m(['192.0.2.1', K('k1')]), { add: [], remove: [], retime: [] }],
    ['another key: a new session', m(['192.0.2.1', K('k1')]), m(['192.0.2.1', K('k2')]), { add: [['192.0.2.1', K('k2')]], remove: ['192.0.2.1'], retime: [] }],
    ['another key ID: a new session', m(['192.0.2.1', K('k1')]), m(['192.0.2.1', K('k1', 2)]), { add: [['192.0.2.1', K('k1', 2)]], remove: ['192.0.2.1'], retime: [] }],
    ['another type: a new session', m(['192.0.2.1', K('k1')]), m(['192.0.2.1', K('k1', 1, 'keyed-sha1')]), { add: [['192.0.2.1', K('k1', 1, 'keyed-sha1')]], remove: ['192.0.2.1'], retime: [] }],
    ['the key removed: a new session', m(['192.0.2.1', K('k1')]), m(['192.0.2.1', T()]), { add: [['192.0.2.1', T()]], remove: ['192.0.2.1'], retime: [] }],
    ['same key, new timers: retime', m(['192.0.2.1', K('k1')]), m(['192.0.2.1', { ...K('k1'), minTx: 50 }]), { add: [], remove: [], retime: [['192.0.2.1', { ...K('k1'), minTx: 50 }]] }],
  ]
  for (const [name, running, wanted, plan] of steps) t.same(planSessions(running, wanted), plan, name)
})

t.test('wireTimers and the status view', async (t) => {
  t.same(wireTimers(T(50, 70, 4)), { desiredMinTx: 50_000, requiredMinRx: 70_000, detectMult: 4 })
  t.same(bfdStatusView(undefined, 5000, 'EADDRINUSE'), { state: 'Down', diag: 'No Diagnostic', remoteState: 'Down', txIntervalMs: 0, detectTimeMs: 0, sinceSeconds: 0, downs: 0, error: 'EADDRINUSE' })
  t.equal(bfdStatusView(undefined, 0).error, 'starting')
  const v = bfdStatusView({ state: 'Up', diag: 'No Diagnostic', remoteState: 'Up', localDiscr: 1, remoteDiscr: 2, txIntervalMs: 100, detectTimeMs: 300, since: 1000, downs: 2, received: 9, sent: 9, discarded: 0 }, 13_400)
  t.same(v, { state: 'Up', diag: 'No Diagnostic', remoteState: 'Up', remoteDiag: undefined, txIntervalMs: 100, detectTimeMs: 300, sinceSeconds: 12, downs: 2 })
})

t.test('BfdPeers: keyed sessions, in order, a failed start shown, state changes handed on', async (t) => {
  const bfd = new FakeBfd()
  const seen: string[] = []
  const peers = new BfdPeers({
    bfd, log: silentLogger(), clock: { now: () => 0 }, keyPrefix: 'nh ',
    localAddress: (a) => (a.includes(':') ? undefined : '192.0.2.100'),
    onState: (a, c) => seen.push(`${a} ${c.to}`),
  })
  peers.sync(m(['192.0.2.1', T()], ['2001:db8::1', T(50)]))
  t.equal(peers.state('192.0.2.1'), 'Down', 'wanted = known, Down while starting')
  t.equal(peers.status('192.0.2.1')!.error, 'starting')
  t.equal(peers.state('192.0.2.9'), undefined, 'not wanted: no state')
  await peers.settled()
  t.same(bfd.calls, ['add nh 192.0.2.1 tx=100000 rx=100000 x3 from 192.0.2.100', 'add nh 2001:db8::1 tx=50000 rx=100000 x3'])
  bfd.move('nh 192.0.2.1', 'Up')
  t.same(seen, ['192.0.2.1 Up'])
  t.equal(peers.status('192.0.2.1')!.state, 'Up')
  // removed while a start is queued behind it: the queue keeps the order, nothing leaks
  bfd.calls = []
  peers.sync(m(['192.0.2.1', T(200)]))
  peers.sync(m(['192.0.2.1', T(200)], ['2001:db8::1', T(50)]))
  peers.sync(m(['192.0.2.1', T(200)]))
  await peers.settled()
  t.same(bfd.calls, ['remove nh 2001:db8::1', 'configure nh 192.0.2.1 tx=200000 rx=100000 x3'], 'the re-added and removed session never started')
  t.same([...bfd.sessions.keys()], ['nh 192.0.2.1'])
  t.same(peers.addresses(), ['192.0.2.1'])
  // a key for the peer: the session is replaced and signs with it
  bfd.calls = []
  peers.sync(m(['192.0.2.1', { ...T(200), auth: K('k1').auth }]))
  await peers.settled()
  t.same(bfd.calls, ['remove nh 192.0.2.1', 'add nh 192.0.2.1 tx=200000 rx=100000 x3 from 192.0.2.100 auth meticulous-keyed-sha1 1'])
  t.same(bfd.sessions.get('nh 192.0.2.1')!.opts.auth!.key, new TextEncoder().encode('k1'))
  peers.sync(m(['192.0.2.1', T(200)]))
  await peers.settled()
  // another port for the peer: the session is replaced, in order
  bfd.calls = []
  peers.sync(m(['192.0.2.1', { ...T(200), port: 3785 }]))
  await peers.settled()
  t.same(bfd.calls, ['remove nh 192.0.2.1', 'add nh 192.0.2.1 tx=200000 rx=100000 x3 from 192.0.2.100 to port 3785'])
  t.same(peers.addresses(), ['192.0.2.1'])
  peers.sync(m(['192.0.2.1', T(200)]))
  await peers.settled()
  // a session that cannot start says why
  bfd.failing.add('192.0.2.2')
  peers.sync(m(['192.0.2.1', T(200)], ['192.0.2.2', T()]))
  await peers.settled()
  t.match(peers.status('192.0.2.2'), { state: 'Down', error: 'Cannot open the BFD socket: EADDRINUSE' })
  // a change from a session no longer wanted is not handed on
  const old = bfd.sessions.get('nh 192.0.2.1')!
  await peers.stop()
  t.same(bfd.sessions.size, 0, 'stop removes every session')
  old.opts.onState?.({ type: 'state', from: 'Up', to: 'Down', diag: 1, remoteState: 'Up' })
  t.same(seen, ['192.0.2.1 Up'], 'nothing after stop')
})

t.test('BfdPeers without a BFD service: every session reports the reason', async (t) => {
  const peers = new BfdPeers({ bfd: undefined, log: silentLogger(), clock: { now: () => 0 }, keyPrefix: '', unavailable: 'no BFD here', onState: () => {} })
  peers.sync(m(['192.0.2.1', T()]))
  await peers.settled()
  t.equal(peers.state('192.0.2.1'), 'Down')
  t.equal(peers.status('192.0.2.1')!.error, 'no BFD here')
})
