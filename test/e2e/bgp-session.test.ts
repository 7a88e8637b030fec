// Session behaviour against BIRD 2: graceful restart keeps the router forwarding while Porter
// restarts; a stop without graceful restart withdraws at once; maxPrefixes ends the session
// with Cease; a reload that changes one peer resets only that peer.
import t from 'tap'
import { createLab, waitFor } from './lib/netns.ts'
import { Bird } from './lib/bird.ts'
import { PorterProc } from './lib/porter.ts'
import { routerAndPorter, porterYaml, gateways, ROUTER_AS, PORTER_AS, HOPS4 } from './lib/bgp-lab.ts'

const VIP4 = '203.0.113.10/32'

t.test('graceful restart: the router keeps the VIP route while porter restarts', async (t) => {
  const lab = createLab(t)
  const { r, p } = await routerAndPorter(lab)
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4', gracefulRestart: true },
  ] })
  await bird.start()
  const yaml = porterYaml({ v4hops: HOPS4, v6hops: [] }).replace(/\n    - \{ name: r6[^\n]*/, '')
  const porter = new PorterProc(lab, p, yaml)
  t.teardown(() => porter.cleanup())
  await porter.start()
  await porter.waitPeers('Established')
  await waitFor(async () => (await gateways(r, VIP4)).length === 3, { what: 'ECMP' })
  t.equal(await porter.stop(), 0)
  // the session is down, but BIRD keeps the routes as stale (RFC 4724 receiving speaker)
  await waitFor(async () => !(await bird.birdc(['show', 'protocols', 'porter4'])).stdout.includes('Established'), { what: 'BIRD sees the session down' })
  t.same(await gateways(r, VIP4), HOPS4, 'router still forwards to all three next hops')
  const stale = await bird.birdc(['show', 'route', 'table', 'master4', 'for', VIP4, 'all'])
  t.equal(stale.stdout.match(/unicast \[porter4 /g)?.length, 3, 'the three paths stay in the BGP table while the session is down')
  const again = new PorterProc(lab, p, yaml)
  t.teardown(() => again.cleanup())
  await again.start()
  await again.waitPeers('Established')
  await bird.waitEstablished()
  t.same(await gateways(r, VIP4), HOPS4, 'route unchanged after the restart')
  t.equal(await again.stop(), 0)
})

t.test('without graceful restart a stop withdraws the routes at once (Cease)', async (t) => {
  const lab = createLab(t)
  const { r, p } = await routerAndPorter(lab)
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [{ address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4' }] })
  await bird.start()
  const yaml = porterYaml({ v4hops: HOPS4, v6hops: [] }).replace(/\n    - \{ name: r6[^\n]*/, '').replace('connectRetry: 1', 'connectRetry: 1\n  gracefulRestart: { enabled: false }')
  const porter = new PorterProc(lab, p, yaml)
  t.teardown(() => porter.cleanup())
  await porter.start()
  await porter.waitPeers('Established')
  await waitFor(async () => (await gateways(r, VIP4)).length === 3, { what: 'ECMP' })
  t.equal(await porter.stop(), 0)
  await waitFor(async () => (await gateways(r, VIP4)).length === 0, { what: 'withdrawn' })
  const proto = await bird.birdc(['show', 'protocols', 'all', 'porter4'])
  t.match(proto.stdout, /Administrative shutdown|shutdown/i, 'BIRD got Cease / Administrative Shutdown')
})

t.test('maxPrefixes: a peer sending more routes than allowed is closed with Cease', async (t) => {
  const lab = createLab(t)
  const { r, p } = await routerAndPorter(lab)
  const bird = new Bird(lab, {
    ns: r, as: ROUTER_AS, routerId: '192.0.2.1',
    peers: [{ address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4' }],
    extra: ['protocol static { ipv4; route 198.51.100.0/28 blackhole; route 198.51.100.16/28 blackhole; route 198.51.100.32/28 blackhole; }'],
  })
  await bird.start()
  const yaml = porterYaml({ v4hops: HOPS4, v6hops: [] }).replace(/\n    - \{ name: r6[^\n]*/, '').replace('families: [ipv4-unicast]', 'families: [ipv4-unicast], maxPrefixes: 2')
  const porter = new PorterProc(lab, p, yaml)
  t.teardown(() => porter.cleanup())
  await porter.start()
  await waitFor(async () => porter.logs().some((l) => l.msg === 'maximum prefixes exceeded: closing the session'), { what: 'max prefix' })
  const st = await porter.status()
  t.match(st.peers[0]!.lastError, /6\/1|Maximum|prefix/i, 'status names the cause')
  const proto = await bird.birdc(['show', 'protocols', 'all', 'porter4'])
  t.match(proto.stdout, /Maximum number of prefixes reached/i, 'BIRD received Cease / Maximum Number of Prefixes Reached')
})

t.test('reload: changing one peer resets only that peer', async (t) => {
  const lab = createLab(t)
  const { r, p } = await routerAndPorter(lab)
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4' },
    { address: '2001:db8::2', as: PORTER_AS, passive: true, name: 'porter6', families: ['ipv6'] },
  ] })
  await bird.start()
  const yaml = porterYaml({ v4hops: HOPS4, v6hops: ['2001:db8::11'] })
  const porter = new PorterProc(lab, p, yaml)
  t.teardown(() => porter.cleanup())
  await porter.start()
  await porter.waitPeers('Established')
  await bird.waitEstablished()
  const since = async (name: string) => ((await bird.birdc(['show', 'protocols', name])).stdout.match(/Established|up\s+(\S+ \S+)/) ?? [''])[0]
  const v6Before = await since('porter6')
  porter.writeConfig(yaml.replace('name: r4, address: 192.0.2.1', 'name: r4, address: 192.0.2.1, export: { communities: ["65002:7"] }'))
  porter.signal('SIGHUP')
  await waitFor(async () => porter.logs().some((l) => l.msg === 'peer definition changed: resetting its session' && l.peer === 'r4'), { what: 'r4 reset' })
  await porter.waitPeers('Established')
  const routes = await waitFor(async () => { const x = await bird.routes(['table', 'master4', 'for', VIP4, 'all']); return x.length === 3 && x.every((y) => y.communities.includes('65002:7')) ? x : undefined }, { what: 'new MED' })
  t.equal(routes.length, 3)
  t.notOk(porter.logs().some((l) => l.msg === 'peer definition changed: resetting its session' && l.peer === 'r6'), 'r6 not reset')
  t.equal(await since('porter6'), v6Before, 'the IPv6 session stayed up')
  t.equal(await porter.stop(), 0)
})

t.test('TCP MD5: porter signs its sessions, active and passive, with a key from a file', async (t) => {
  const lab = createLab(t)
  const { r, p } = await routerAndPorter(lab)
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4', password: 's3cret-md5' },
    { address: '2001:db8::2', as: PORTER_AS, passive: false, name: 'porter6', families: ['ipv6'], password: 's3cret-md5' },
  ] })
  await bird.start()
  const porter = new PorterProc(lab, p, '')
  t.teardown(() => porter.cleanup())
  const keyFile = `${porter.dir}/md5.key`
  const { writeFileSync } = await import('node:fs')
  writeFileSync(keyFile, 's3cret-md5\n', { mode: 0o600 })
  // IPv4: porter connects (active); IPv6: porter listens (passive) and BIRD connects
  porter.writeConfig(porterYaml({ v4hops: HOPS4, v6hops: ['2001:db8::11'] })
    .replace('listenPort: 0', 'listenPort: 179\n  listenAddress: "::"')
    .replace('families: [ipv4-unicast]', `families: [ipv4-unicast], passwordFile: ${keyFile}`)
    .replace('families: [ipv6-unicast]', `families: [ipv6-unicast], passive: true, passwordFile: ${keyFile}`))
  await porter.start()
  await porter.waitPeers('Established', 60_000)
  await bird.waitEstablished()
  await waitFor(async () => (await gateways(r, VIP4)).length === 3, { what: 'routes over the signed session' })
  const tcp = await lab.exec(p, ['ss', '-tni', 'state', 'established', '( sport = :179 or dport = :179 )'])
  t.match(tcp.stdout, /md5/, 'the kernel signs the sessions (ss shows md5)')
  t.notMatch(porter.logs().map((l) => JSON.stringify(l)).join('\n'), 's3cret-md5', 'the key is never logged')
  t.notMatch(JSON.stringify(await porter.status()), 's3cret-md5', 'nor shown in status')
  const code = await porter.stop()
  if (code !== 0) console.error(porter.logs().slice(-8).map((l) => JSON.stringify(l)).join('\n'))
  t.equal(code, 0)
})
