// BFD (RFC 5880/5881) between the built dist/porter and real routers in network namespaces:
// BIRD 2 (`protocol bfd` + `bfd on`) and FRR's bfdd (`neighbor X bfd profile`). Each test:
//   - BFD comes Up on both sides (porter status, `birdc show bfd sessions` / `show bfd peers json`)
//     at the agreed 100 ms x 3, next to an Established BGP session with a 9 s hold time;
//   - the router frozen (SIGSTOP): porter's BFD goes Down with "Control Detection Time Expired"
//     and that takes the BGP session down with Cease 6/10 (BFD Down), before the hold timer
//     (the order of porter's log lines says so; no wall-clock assertions);
//   - SIGCONT: BFD Up again and the session Established again;
//   - porter frozen: the router's BFD goes down and the router closes its BGP session itself.
// The TTL side of RFC 5881 (255 sent, others dropped) is in internal/bfd/udp.test.ts.
import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { createLab, waitFor, type Lab } from './lib/netns.ts'
import { Bird, birdBfdProtocol } from './lib/bird.ts'
import { Frr } from './lib/frr.ts'
import { PorterProc, type PorterStatus } from './lib/porter.ts'
import { routerAndPorter, porterYaml, HOPS4, ROUTER_AS, PORTER_AS } from './lib/bgp-lab.ts'
import { builtPorter } from '../lib/dist.ts'

/** porter with the IPv4 peer only, BFD on it at the defaults (100 ms x 3), hold time 9 s */
const yaml = (): string =>
  porterYaml({ v4hops: HOPS4, v6hops: [] }).replace(/\n    - \{ name: r6[^\n]*/, '').replace('families: [ipv4-unicast] }', 'families: [ipv4-unicast], bfd: { enabled: true } }')

type Peer = PorterStatus['peers'][number]

async function peerOf(porter: PorterProc): Promise<Peer> {
  return (await porter.status()).peers[0]!
}

/** porter's log lines from `from` on, as short events in order */
function events(porter: PorterProc, from = 0): string[] {
  return porter.logs().slice(from).flatMap((l) => {
    if (/^BFD session (Up|Down|Init|AdminDown)$/.test(l.msg)) return [l.msg]
    if (l.msg === 'sending NOTIFICATION') return [`NOTIFICATION ${l.code}/${l.subcode}`]
    if (typeof l.msg === 'string' && l.msg.startsWith('closing the session: ')) return [l.msg]
    return []
  })
}

interface RouterSide {
  /** the router's view of its BFD session with porter: 'up', 'down', 'init', 'admindown' or undefined */
  bfdState(): Promise<string | undefined>
  /** the router's BGP session with porter is established */
  bgpUp(): Promise<boolean>
  /** why the router's BGP session with porter last went down, as the router says it */
  downReason(): Promise<string>
  pids(): number[]
}

/** The shared story, for either router: `setup` starts it in namespace `r` (porter runs in `p`). */
async function story(t: Test, setup: (lab: Lab, r: string) => Promise<RouterSide>): Promise<void> {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, p } = await routerAndPorter(lab)
  const router = await setup(lab, r)
  const porter = new PorterProc(lab, p, yaml(), 'controller', binary)
  t.teardown(() => porter.cleanup())
  await porter.start()
  await porter.waitPeers('Established')
  // converged: porter may be Up a moment before the router (it went Up on the router's Init) and
  // then still runs the router's slow start timers (1 s x 3); wait for both sides at 100 ms
  const up = await waitFor(async () => { const x = await peerOf(porter); return x.bfd?.state === 'Up' && x.bfd.txIntervalMs === 100 && x.bfd.remoteState === 'Up' && x.bfd.detectTimeMs === 300 ? x : undefined },
    { timeoutMs: 30_000, what: 'porter: BFD Up at 100 ms, the router Up too' })
  t.equal(up.bfd!.detectTimeMs, 300, 'porter: detection time 3 x 100 ms agreed with the router')
  t.equal(up.bfd!.remoteState, 'Up', 'porter: the router says Up')
  t.equal(await waitFor(async () => (await router.bfdState()) === 'up' ? 'up' : undefined, { timeoutMs: 30_000, what: 'router: BFD Up' }), 'up', 'router: BFD Up with porter')
  t.equal(up.holdTime, 9, 'BGP hold time 9 s (the slow path BFD beats)')

  // the router freezes: BFD first, then the session because of it
  let mark = porter.logs().length
  const downsBefore = (await peerOf(porter)).bfd!.downs // a loaded machine may have flapped before: count from here
  const pids = router.pids()
  for (const pid of pids) process.kill(pid, 'SIGSTOP')
  let frozen = true
  t.teardown(() => { if (frozen) for (const pid of pids) process.kill(pid, 'SIGCONT') })
  const down = await waitFor(async () => { const x = await peerOf(porter); return x.state !== 'Established' ? x : undefined },
    { timeoutMs: 20_000, intervalMs: 50, what: 'porter: the session with the frozen router down' })
  t.equal(down.bfd!.state, 'Down', 'porter: BFD Down')
  t.equal(down.bfd!.diag, 'Control Detection Time Expired', 'porter: by its detection time')
  t.equal(down.bfd!.downs, downsBefore + 1, 'porter: one BFD Up -> Down')
  t.match(down.lastError, /^BFD session down: Control Detection Time Expired$/, `porter: session ended by BFD ("${down.lastError}"), not by the hold timer`)
  const seq = events(porter, mark)
  t.same(seq.slice(0, 3), ['BFD session Down', 'closing the session: BFD session down: Control Detection Time Expired', 'NOTIFICATION 6/10'],
    'porter: BFD Down, then the session closed with Cease / BFD Down (RFC 9384)')
  t.notOk(porter.logs().slice(mark).some((l) => l.msg === 'sending NOTIFICATION' && l.code === 4), 'porter: no hold timer expiry')
  const cli = await lab.exec(p, [binary, 'status', '--socket', porter.socket])
  t.match(cli.stdout, /r4\s+65001\s+\S+\s+Down \(Control Detection Time Expired\)/, '`porter status` shows BFD Down and why')

  // the router wakes up: BFD and BGP come back
  mark = porter.logs().length
  for (const pid of pids) process.kill(pid, 'SIGCONT')
  frozen = false
  await waitFor(async () => { const x = await peerOf(porter); return x.bfd?.state === 'Up' && x.state === 'Established' }, { timeoutMs: 90_000, what: 'porter: BFD Up and the session Established again' })
  await waitFor(async () => (await router.bfdState()) === 'up' && (await router.bgpUp()), { timeoutMs: 60_000, what: 'router: BFD Up and BGP Established again' })
  t.ok(events(porter, mark).includes('BFD session Up'), 'porter: BFD Up again')
  const again = await lab.exec(p, [binary, 'status', '--socket', porter.socket])
  t.match(again.stdout, /r4\s+65001\s+Established\s+Up 100ms\/300ms/, '`porter status`: Established, BFD Up 100ms/300ms')

  // porter freezes: the router's BFD goes down and it closes its BGP session by itself
  const pp = porter.child!.pid!
  process.kill(pp, 'SIGSTOP')
  let porterFrozen = true
  t.teardown(() => { if (porterFrozen) process.kill(pp, 'SIGCONT') })
  await waitFor(async () => (await router.bfdState()) !== 'up' && !(await router.bgpUp()), { timeoutMs: 20_000, intervalMs: 50, what: 'router: BFD and BGP down with porter frozen' })
  t.not(await router.bfdState(), 'up', 'router: BFD no longer Up')
  t.notOk(await router.bgpUp(), 'router: BGP session closed')
  const why = await router.downReason()
  t.comment(`router: last reset "${why}"`)
  t.match(why, /BFD/i, `router: closed because of BFD, not its 9 s hold timer ("${why}")`)
  process.kill(pp, 'SIGCONT')
  porterFrozen = false
  await waitFor(async () => (await router.bfdState()) === 'up' && (await router.bgpUp()), { timeoutMs: 90_000, what: 'router: back after porter wakes' })
  t.equal(await porter.stop(), 0, 'porter exits cleanly')
}

t.test('BIRD 2: protocol bfd + bfd on', (t) => story(t, async (lab, r) => {
  const bird = new Bird(lab, {
    ns: r, as: ROUTER_AS, routerId: '192.0.2.1', extra: [birdBfdProtocol('eth0', 100, 3)],
    peers: [{ address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4', holdTime: 9, extra: ['bfd on;'] }],
  })
  await bird.start()
  return {
    async bfdState() {
      const out = (await bird.birdc(['show', 'bfd', 'sessions'])).stdout
      const line = out.split('\n').find((l) => l.trim().startsWith('192.0.2.2'))
      return line?.trim().split(/\s+/)[2]?.toLowerCase()
    },
    async bgpUp() {
      const out = (await bird.birdc(['show', 'protocols', 'porter4'])).stdout
      return /porter4\s+BGP\s+\S+\s+up\s+\S+\s+\S*\s*Established/.test(out)
    },
    async downReason() {
      const out = (await bird.birdc(['show', 'protocols', 'all', 'porter4'])).stdout
      return /Last error:\s*(.*)/.exec(out)?.[1]?.trim() ?? ''
    },
    pids: () => [bird.pid!],
  }
}))

t.test('FRR: bfdd with a 100 ms x 3 profile, neighbor bfd profile', (t) => story(t, async (lab, r) => {
  const frr = new Frr(lab, {
    ns: r, as: ROUTER_AS, routerId: '192.0.2.1',
    bfd: ['profile fast', '  receive-interval 100', '  transmit-interval 100', '  detect-multiplier 3', ' exit'],
    peers: [{ address: '192.0.2.2', as: PORTER_AS, passive: true, holdTime: 9, extra: ['bfd profile fast'] }],
  })
  await frr.start()
  return {
    async bfdState() {
      const r = await frr.vtysh('bfdd', ['show bfd peers json'])
      const peers = JSON.parse(r.stdout) as { peer: string; status: string }[]
      return peers.find((x) => x.peer === '192.0.2.2')?.status
    },
    async bgpUp() {
      return (await frr.neighbors()).find((n) => n.address === '192.0.2.2')?.state === 'established'
    },
    async downReason() {
      const j = await frr.json<Record<string, Record<string, unknown>>>('show bgp neighbors 192.0.2.2 json')
      const n = j['192.0.2.2'] ?? {}
      return ['lastResetDueTo', 'lastNotificationReason', 'lastErrorCodeSubcode', 'downLastResetCode'].map((k) => `${k}=${String(n[k])}`).join('; ')
    },
    pids: () => [frr.bfddPid!, frr.bgpdPid!],
  }
}))

t.test('BIRD 2 with Meticulous Keyed SHA1 (RFC 5880 6.7.4): Up with the shared key; with another key no session comes Up', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, p } = await routerAndPorter(lab)
  const authProtocol = 'protocol bfd bfd1 { interface "eth0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; authentication meticulous keyed sha1; password "porter-bfd-key" { id 7; }; }; }'
  const bird = new Bird(lab, {
    ns: r, as: ROUTER_AS, routerId: '192.0.2.1', extra: [authProtocol],
    peers: [{ address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4', holdTime: 9, extra: ['bfd on;'] }],
  })
  await bird.start()
  const keyFile = `${lab.dir}/bfd.key`
  writeFileSync(keyFile, 'porter-bfd-key\n', { mode: 0o600 })
  const withAuth = (file: string) => yaml().replace('bfd: { enabled: true }', `bfd: { enabled: true, auth: { type: meticulous-keyed-sha1, keyId: 7, keyFile: ${file} } }`)
  const porter = new PorterProc(lab, p, withAuth(keyFile), 'controller', binary)
  t.teardown(() => porter.cleanup())
  await porter.start()
  await porter.waitPeers('Established')
  const up = await waitFor(async () => { const x = await peerOf(porter); return x.bfd?.state === 'Up' ? x : undefined }, { timeoutMs: 30_000, what: 'porter: authenticated BFD Up' })
  t.equal(up.bfd!.remoteState, 'Up', 'porter: the router says Up')
  const routerState = async () => (await bird.birdc(['show', 'bfd', 'sessions'])).stdout.split('\n').find((l) => l.trim().startsWith('192.0.2.2'))?.trim().split(/\s+/)[2]?.toLowerCase()
  await waitFor(async () => (await routerState()) === 'up' || undefined, { timeoutMs: 30_000, what: 'BIRD: authenticated BFD Up' })
  t.pass('BIRD: BFD Up with porter\'s signed packets')
  t.notOk(JSON.stringify(porter.logs()).includes('porter-bfd-key'), 'the key is in no log line')
  t.notOk(JSON.stringify(await porter.status()).includes('porter-bfd-key'), 'nor in the status')

  // another key: the router drops porter's packets and porter drops the router's
  const wrong = `${lab.dir}/wrong.key`
  writeFileSync(wrong, 'not-the-key\n', { mode: 0o600 })
  porter.writeConfig(withAuth(wrong))
  porter.signal('SIGHUP')
  await waitFor(async () => (await routerState()) !== 'up' || undefined, { timeoutMs: 20_000, intervalMs: 50, what: 'BIRD: BFD down once porter signs with another key' })
  await new Promise((res) => setTimeout(res, 2000))
  t.not((await peerOf(porter)).bfd?.state, 'Up', 'porter: no BFD session Up with a router that signs with another key')
  t.not(await routerState(), 'up', 'BIRD: nor on its side')
  t.equal(await porter.stop(), 0, 'porter exits cleanly')
})
