// Session faults with the built dist/porter and real routers:
// - a frozen peer (the router daemon SIGSTOPped): Porter's hold timer (3 s) ends the session,
//   `porter status` shows why, and the session comes back after SIGCONT; the same while Porter's
//   writes are blocked (small socket buffers, 768 paths): the next session delivers them all;
// - graceful restart (RFC 4724) as the receiving speaker sees it: Porter killed, BIRD keeps the
//   routes for Porter's restart time and flushes them when Porter does not come back; Porter
//   back within the time: FRR's stale paths are refreshed with no FIB flap.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLab, waitFor, type Lab } from './lib/netns.ts'
import { Bird } from './lib/bird.ts'
import { Frr } from './lib/frr.ts'
import { PorterProc, type PorterStatus } from './lib/porter.ts'
import { routerAndPorter, porterYaml, gateways, ROUTER_AS, PORTER_AS, HOPS4 } from './lib/bgp-lab.ts'
import { frrNeighbor, birdImportUpdates } from './lib/router-stats.ts'
import { kernelRoutes } from './lib/fib.ts'
import { builtPorter } from '../lib/dist.ts'

const VIP4 = '203.0.113.10/32'

/** Porter's config with the IPv4 peer only; `bgpExtra`: more lines of the bgp section */
const v4Yaml = (bgpExtra = ''): string =>
  porterYaml({ v4hops: HOPS4, v6hops: [] }).replace(/\n    - \{ name: r6[^\n]*/, '').replace('connectRetry: 1', `connectRetry: 1${bgpExtra}`)

/** `porter status` as a user runs it (the built binary), text and JSON */
async function porterStatusCli(lab: Lab, ns: string, binary: string, porter: PorterProc): Promise<{ text: string; json: PorterStatus }> {
  const text = await lab.exec(ns, [binary, 'status', '--socket', porter.socket])
  const json = await lab.exec(ns, [binary, 'status', '--socket', porter.socket, '--json'])
  return { text: text.stdout, json: JSON.parse(json.stdout) as PorterStatus }
}

t.test('a frozen router (SIGSTOP): porter\'s hold timer ends the session; SIGCONT brings it back', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, p } = await routerAndPorter(lab)
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4', holdTime: 3 },
  ] })
  await bird.start()
  const porter = new PorterProc(lab, p, v4Yaml().replace('holdTime: 9', 'holdTime: 3'), 'controller', binary)
  t.teardown(() => porter.cleanup())
  await porter.start()
  const up = await porter.waitPeers('Established')
  t.equal(up.peers[0]!.holdTime, 3, 'hold time 3 s negotiated')
  await waitFor(async () => (await gateways(r, VIP4)).length === 3, { what: 'ECMP' })

  const pid = bird.pid!
  process.kill(pid, 'SIGSTOP')
  let frozen = true
  t.teardown(() => { if (frozen) process.kill(pid, 'SIGCONT') })
  const down = await waitFor(async () => {
    const s = await porter.status()
    return s.peers[0]!.state !== 'Established' ? s : undefined
  }, { timeoutMs: 20_000, what: 'porter to drop the session of the frozen router' })
  const peer = down.peers[0]!
  t.match(peer.lastError, /hold timer expired/i, `status: last error "${peer.lastError}"`)
  t.equal(peer.flaps, 1, 'one flap')
  t.equal(peer.prefixesSent, 0, 'nothing counted as sent while down')
  t.ok(porter.logs().some((l) => l.msg === 'sending NOTIFICATION' && l.code === 4 && l.subcode === 0), 'NOTIFICATION 4/0 (Hold Timer Expired) sent')
  const cli = await porterStatusCli(lab, p, binary, porter)
  t.match(cli.text, /hold timer expired/i, '`porter status` shows the cause')
  t.notMatch(cli.text, /Established/, '`porter status` does not show the session up')
  t.match(cli.json.peers[0]!.lastError, /hold timer expired/i, '`porter status --json` lastError')

  process.kill(pid, 'SIGCONT')
  frozen = false
  // BIRD wakes up with porter's new connection queued before the NOTIFICATION of the old one, and
  // takes it as porter restarting gracefully (its trace log: "Neighbor graceful restart detected")
  await porter.waitPeers('Established', 60_000)
  await bird.waitEstablished(undefined, 30_000)
  t.same(await waitFor(async () => { const g = await gateways(r, VIP4); return g.length === 3 ? g : undefined }, { what: 'ECMP again' }), HOPS4, 'routes back in the router FIB')
  // the last error is not wiped by the new session (BIRD waking up may add its own, e.g. about the
  // old connection, so only that one is kept is not asserted)
  t.ok((await porter.status()).peers[0]!.lastError, 'a last error is still shown after the session came back')
  t.equal(await porter.stop(), 0)
})

t.test('frozen while porter sends 768 paths into small socket buffers: the blocked session times out, the next one delivers everything', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, p } = await routerAndPorter(lab)
  // 4 KiB socket buffers on both ends: the routes cannot all be in flight while the router sleeps
  for (const ns of [r, p]) await lab.sysctl(ns, { 'net.ipv4.tcp_rmem': '4096 4096 4096', 'net.ipv4.tcp_wmem': '4096 4096 4096' })
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4', holdTime: 3 },
  ] })
  await bird.start()
  const one = v4Yaml().replace('holdTime: 9', 'holdTime: 3')
  const many = one.replace(/\nvips:[\s\S]*$/, `\nvips:\n${Array.from({ length: 256 }, (_, i) =>
    `  - { name: v${i}, address: 203.0.113.${i}, nextHops: [${HOPS4.join(', ')}], export: { communities: ["65002:${i}"] } }`).join('\n')}\n`)
  const porter = new PorterProc(lab, p, one, 'controller', binary)
  t.teardown(() => porter.cleanup())
  await porter.start()
  await porter.waitPeers('Established')
  await waitFor(async () => (await gateways(r, VIP4)).length === 3, { what: 'ECMP' })

  const pid = bird.pid!
  process.kill(pid, 'SIGSTOP')
  let frozen = true
  t.teardown(() => { if (frozen) process.kill(pid, 'SIGCONT') })
  porter.writeConfig(many)
  porter.signal('SIGHUP')
  // the writes back up: bytes wait in porter's send queue towards the sleeping router
  const queued = await waitFor(async () => {
    const ss = await lab.exec(p, ['ss', '-Htn', 'dport = :179'])
    return ss.stdout.split('\n').map((l) => Number(l.trim().split(/\s+/)[2] ?? 0)).find((q) => q > 0)
  }, { timeoutMs: 20_000, intervalMs: 100, what: 'a send queue towards the frozen router' })
  t.ok(queued > 0, `${queued} bytes stuck in the send queue`)
  const down = await waitFor(async () => { const s = await porter.status(); return s.peers[0]!.state !== 'Established' ? s : undefined }, { timeoutMs: 20_000, what: 'the hold timer' })
  t.match(down.peers[0]!.lastError, /hold timer expired/i, 'the blocked session ends with the hold timer')

  process.kill(pid, 'SIGCONT')
  frozen = false
  await porter.waitPeers('Established', 60_000)
  const routes = await waitFor(async () => {
    const x = (await kernelRoutes(r, { family: 4, protocol: 'bird' })).filter((k) => k.prefix.startsWith('203.0.113.'))
    return x.length === 256 && x.every((k) => k.gateways.length === 3) ? x : undefined
  }, { timeoutMs: 60_000, what: '256 ECMP routes in the router FIB' })
  t.equal(routes.length, 256, 'all 256 VIPs, each with three next hops')
  const imported = await birdImportUpdates(bird, 'porter4')
  t.ok(imported.accepted >= 768 && imported.rejected + imported.filtered === 0, `BIRD accepted the 768 paths (${imported.accepted} accepted updates)`)
  t.equal((await porter.status()).peers[0]!.prefixesSent, 768, 'porter counts 768 paths sent')
  t.equal(await porter.stop(), 0)
})

interface FrrPath { stale?: boolean; gracefulRestartSecondsRemaining?: number; nexthops?: { ip?: string }[] }
async function vipPaths(frr: Frr): Promise<FrrPath[]> {
  const j = await frr.json<{ paths?: FrrPath[] }>(`show bgp ipv4 unicast ${VIP4} json`)
  return j.paths ?? []
}

/** FRR as graceful-restart helper with one passive IPv4 peer (porter), and porter with `restartTime` */
async function grLab(t: Test, restartTime: number) {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, p } = await routerAndPorter(lab)
  const frr = new Frr(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', gracefulRestart: true, peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true },
  ] })
  await frr.start()
  const yaml = v4Yaml(`\n  gracefulRestart: { enabled: true, restartTime: ${restartTime} }`)
  const porter = new PorterProc(lab, p, yaml, 'controller', binary)
  t.teardown(() => porter.cleanup())
  await porter.start()
  await porter.waitPeers('Established')
  await frr.waitEstablished()
  await waitFor(async () => (await gateways(r, VIP4)).length === 3, { what: 'ECMP' })
  const n = await frrNeighbor(frr, '192.0.2.2')
  t.equal(n.gracefulRestartInfo?.timers?.receivedRestartTimer, restartTime, `FRR got porter's restart time ${restartTime} s`)
  t.ok((await vipPaths(frr)).every((x) => !x.stale), 'paths fresh')
  return { lab, binary, r, p, frr, yaml, porter }
}

t.test('graceful restart, porter does not come back: BIRD keeps the routes for porter\'s restart time, then flushes them', async (t) => {
  // BIRD here: FRR 8.4.4 leaves all but one ADD-PATH path of a peer stale in its BGP table after
  // the restart timer (the FIB route goes); BIRD flushes the peer's routes
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, p } = await routerAndPorter(lab)
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4', gracefulRestart: true },
  ] })
  await bird.start()
  const porter = new PorterProc(lab, p, v4Yaml('\n  gracefulRestart: { enabled: true, restartTime: 5 }'), 'controller', binary)
  t.teardown(() => porter.cleanup())
  await porter.start()
  await porter.waitPeers('Established')
  await waitFor(async () => (await gateways(r, VIP4)).length === 3, { what: 'ECMP' })
  const caps = (await bird.birdc(['show', 'protocols', 'all', 'porter4'])).stdout
  t.match(caps.slice(caps.indexOf('Neighbor capabilities')), /Graceful restart\s+Restart time: 5\s+AF supported: ipv4\s+AF preserved: ipv4/, 'porter announced graceful restart, 5 s, IPv4 forwarding preserved')

  porter.signal('SIGKILL')
  const gr = await waitFor(async () => {
    const text = (await bird.birdc(['show', 'protocols', 'all', 'porter4'])).stdout
    return /Neighbor graceful restart active/.test(text) ? text : undefined
  }, { timeoutMs: 10_000, what: 'BIRD to start the graceful restart of the peer' })
  const left = Number(/Restart timer:\s+([\d.]+)/.exec(gr)?.[1])
  t.ok(left > 0 && left <= 5, `BIRD runs porter's restart time (${left} s left), not its own 120 s`)
  t.same(await gateways(r, VIP4), HOPS4, 'the FIB still forwards to the three next hops')
  t.equal((await bird.routes(['table', 'master4', 'for', VIP4])).length, 3, 'the three paths stay in the BGP table')
  await waitFor(async () => (await gateways(r, VIP4)).length === 0, { timeoutMs: 30_000, what: 'the FIB route to go when the restart timer expires' })
  await waitFor(async () => /Network not found/.test((await bird.birdc(['show', 'route', 'table', 'master4', 'for', VIP4], true)).stdout), { timeoutMs: 10_000, what: 'the paths to leave the BGP table' })
  t.pass('routes flushed from the FIB and the BGP table when the restart time expired')
  t.notMatch((await bird.birdc(['show', 'protocols', 'all', 'porter4'])).stdout, /Neighbor graceful restart active/, 'the graceful restart is over')
})

t.test('graceful restart, porter back within the restart time: routes refreshed, no FIB flap', async (t) => {
  const { lab, binary, r, p, frr, yaml, porter } = await grLab(t, 60)
  const before = await frrNeighbor(frr, '192.0.2.2')
  // every change of the VIP's kernel route from here on
  const monitorLog = join(lab.dir, 'ip-monitor.log')
  const monitor = lab.spawn(r, ['ip', '-4', 'monitor', 'route'], { logFile: monitorLog })
  t.teardown(() => lab.kill(monitor))
  // a route of our own proves the monitor is listening
  await waitFor(async () => {
    await lab.exec(r, ['ip', 'route', 'replace', '198.51.100.99/32', 'via', '192.0.2.11'])
    return readFileSync(monitorLog, 'utf8').includes('198.51.100.99')
  }, { timeoutMs: 10_000, what: 'ip monitor to report a route' })
  porter.signal('SIGKILL')
  await waitFor(async () => { const ps = await vipPaths(frr); return ps.length === 3 && ps.every((x) => x.stale) }, { timeoutMs: 10_000, what: 'stale paths' })
  const again = new PorterProc(lab, p, yaml, 'controller', binary)
  t.teardown(() => again.cleanup())
  await again.start()
  await again.waitPeers('Established')
  await frr.waitEstablished()
  const fresh = await waitFor(async () => {
    const ps = await vipPaths(frr)
    return ps.length === 3 && ps.every((x) => !x.stale) ? ps : undefined
  }, { timeoutMs: 20_000, what: 'the paths to be refreshed (no longer stale)' })
  t.same(fresh.map((x) => x.nexthops?.[0]?.ip).sort(), HOPS4, 'the three paths, fresh')
  const after = await frrNeighbor(frr, '192.0.2.2')
  t.equal((after.connectionsEstablished ?? 0) - (before.connectionsEstablished ?? 0), 1, 'one new session')
  t.equal(after.gracefulRestartInfo?.endOfRibRecv?.ipv4Unicast, true, 'End-of-RIB received on the new session')
  t.same(await gateways(r, VIP4), HOPS4, 'the FIB has the three next hops')
  await lab.kill(monitor, 'SIGINT')
  const changes = readFileSync(monitorLog, 'utf8').split('\n').filter((l) => l.includes('203.0.113.10'))
  t.same(changes.filter((l) => l.startsWith('Deleted')), [], `the VIP's kernel route was never deleted (${changes.length} changes seen)`)
  t.equal(await again.stop(), 0)
})
