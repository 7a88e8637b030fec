// Agent with the nftables backend against the real kernel, in namespaces this test creates:
// exact objects, zero writes on a second apply, removal of one VIP, drift repair, cleanup,
// and foreign addresses / routes / nft tables / iptables rules untouched throughout.
import t from 'tap'
import { createLab, waitFor, run, type Lab } from './lib/netns.ts'
import { agentProc, addrs, foreignState, nftSetElems, nftJson, monitorDuring, isTestVip, routes, type AgentProc } from './agent-harness.ts'

const V4 = ['203.0.113.10', '203.0.113.11', '203.0.113.12']
const V6 = ['2001:db8:5::10', '2001:db8:5::11']
const VIPS = [...V4, ...V6]

interface Status { counters: { reconciles: number; changes: number; failures: number; driftRepairs: number }; programmed: string[]; backend: string; lastReconcile?: { ok: boolean; changes: number } }
interface Result { ok: boolean; changes: number; error?: unknown }

/** Foreign objects of every kind, created before the agent runs. */
async function foreignObjects(lab: Lab, ns: string): Promise<void> {
  const peer = await lab.ns('peer')
  await lab.veth({ ns, ifname: 'eth0' }, { ns: peer, ifname: 'eth0' })
  await lab.addr(ns, 'eth0', '198.51.100.1/24')
  await lab.addr(ns, 'eth0', '2001:db8:f::1/64')
  await lab.addr(ns, 'lo', '192.0.2.99/32')
  await run('ip', ['-n', ns, 'route', 'add', '192.0.2.128/25', 'via', '198.51.100.2', 'proto', 'static'])
  await run('ip', ['-n', ns, 'route', 'add', 'blackhole', '192.0.2.64/26'])
  await run('ip', ['-n', ns, '-6', 'route', 'add', '2001:db8:e::/48', 'via', '2001:db8:f::2'])
  await lab.exec(ns, ['nft', 'add table inet filter; add chain inet filter input { type filter hook input priority 0; policy accept; }; add rule inet filter input tcp dport 22 accept comment "ssh"; add table ip nat; add chain ip nat pre { type nat hook prerouting priority -100; }'])
  await lab.exec(ns, ['iptables-nft', '-A', 'INPUT', '-s', '198.51.100.9', '-j', 'ACCEPT'])
  await lab.exec(ns, ['iptables-legacy', '-A', 'FORWARD', '-s', '198.51.100.8', '-j', 'ACCEPT'])
}

async function porterAddrs(ns: string) {
  return (await addrs(ns)).filter((a) => isTestVip(a.local))
}

async function settle(p: AgentProc): Promise<Result> {
  // reconcileNow waits for a reconcile in progress, then runs one more (a no-op when settled)
  return p.call<Result>('reconcileNow')
}

t.test('nftables backend: apply, no-op, remove one, drift, cleanup', async (t) => {
  const lab = createLab(t)
  const ns = await lab.ns('node')
  await foreignObjects(lab, ns)
  const before = await foreignState(ns)
  t.ok(before.addrs.length >= 4 && before.routes.length > 3 && /table inet filter/.test(before.nft) && before.ipt.nft4!.some((l) => l.includes('198.51.100.9')) && before.ipt.legacy4!.some((l) => l.includes('198.51.100.8')), 'foreign objects exist')

  const p = agentProc(lab, ns)
  t.teardown(() => p.close())
  await p.call('create', { config: { firewall: 'nftables' } })
  await p.call('setDesired', { vips: VIPS })
  const started = await p.call<Status>('start')
  t.match(started, { backend: 'nftables', programmed: VIPS, lastReconcile: { ok: true } })

  await t.test('exactly the objects expected', async (t) => {
    const mine = await porterAddrs(ns)
    t.same(mine.map((a) => a.local).sort(), [...VIPS].sort(), 'one address per VIP')
    for (const a of mine) {
      t.equal(a.ifname, 'lo', `${a.local} on lo`)
      t.equal(a.prefixlen, a.family === 'inet' ? 32 : 128, `${a.local} is a host address`)
      if (a.family === 'inet') t.equal(a.label, 'lo:porter', `${a.local} labelled`)
      else t.ok(a.flags.includes('noprefixroute') && a.flags.includes('nodad'), `${a.local} nodad noprefixroute`)
    }
    const dumped = await p.call<{ address: string; proto: number }[]>('dumpAddrs')
    t.same(dumped.filter((a) => isTestVip(a.address)).map((a) => a.proto), VIPS.map(() => 0x50), 'every VIP address carries IFA_PROTO 0x50')
    t.same(dumped.filter((a) => !isTestVip(a.address) && a.proto === 0x50), [], 'no other address does')
    const rts = (await routes(ns)).filter((l) => VIPS.some((v) => l.includes(` ${v} `) || l.startsWith(`${v} `)))
    t.ok(rts.length === VIPS.length && rts.every((l) => l.startsWith('local ') && l.includes('proto kernel')), 'only the kernel\'s own local routes of the addresses')
    t.same(await nftSetElems(ns, 'vips4'), [...V4].sort())
    t.same(await nftSetElems(ns, 'vips6'), [...V6].sort())
    const tbl = await nftJson(ns, 'table', 'inet', 'porter')
    const chains = tbl!.nftables.filter((x) => x.chain).map((x) => x.chain!)
    t.same(chains.map((c) => [c.name, c.type, c.hook, c.prio, c.policy]), [['input', 'filter', 'input', 0, 'accept'], ['forward', 'filter', 'forward', 0, 'accept']])
    t.same(tbl!.nftables.filter((x) => x.rule).map((x) => x.rule!.comment), ['porter:input:ipv4', 'porter:input:ipv6', 'porter:forward:ipv4', 'porter:forward:ipv6'])
    const both = await p.call<{ netlink: unknown; json: unknown }>('nftObserveBoth')
    t.same(both.netlink, both.json, 'the nf_tables netlink reader sees what `nft -j list` sees')
  })

  await t.test('a second apply makes no kernel writes', async (t) => {
    const c0 = (await p.call<Status>('status')).counters.changes
    let r: Result | undefined
    const seen = await monitorDuring(ns, async () => { r = await p.call<Result>('reconcileNow') })
    t.match(r, { ok: true, changes: 0 })
    t.same(seen, [], '`ip monitor` and `nft monitor` saw nothing')
    t.equal((await p.call<Status>('status')).counters.changes, c0, 'change counter unchanged')
  })

  await t.test('removing one VIP removes only it', async (t) => {
    await p.call('setDesired', { vips: VIPS.filter((v) => v !== '203.0.113.11') })
    await settle(p)
    t.same((await porterAddrs(ns)).map((a) => a.local).sort(), VIPS.filter((v) => v !== '203.0.113.11').sort())
    t.same(await nftSetElems(ns, 'vips4'), ['203.0.113.10', '203.0.113.12'])
    t.same(await nftSetElems(ns, 'vips6'), [...V6].sort())
    t.same(await foreignState(ns), before, 'foreign objects untouched')
  })

  await t.test('drift is repaired within one second', async (t) => {
    const d0 = (await p.call<Status>('status')).counters.driftRepairs
    await run('ip', ['-n', ns, 'addr', 'del', '203.0.113.10/32', 'dev', 'lo'])
    let t0 = Date.now()
    await waitFor(async () => (await porterAddrs(ns)).some((a) => a.local === '203.0.113.10'), { timeoutMs: 1000, intervalMs: 20, what: 'the deleted VIP address to come back' })
    t.pass(`address restored after ${Date.now() - t0} ms`)
    await run('ip', ['-n', ns, '-6', 'addr', 'del', '2001:db8:5::10/128', 'dev', 'lo'])
    await waitFor(async () => (await porterAddrs(ns)).some((a) => a.local === '2001:db8:5::10'), { timeoutMs: 1000, intervalMs: 20, what: 'the deleted IPv6 VIP address to come back' })
    await lab.exec(ns, ['nft', 'flush', 'set', 'inet', 'porter', 'vips4'])
    t0 = Date.now()
    await waitFor(async () => (await nftSetElems(ns, 'vips4'))?.length === 2, { timeoutMs: 1000, intervalMs: 20, what: 'vips4 to be refilled' })
    t.pass(`set refilled after ${Date.now() - t0} ms`)
    await lab.exec(ns, ['nft', 'delete', 'table', 'inet', 'porter'])
    await waitFor(async () => (await nftSetElems(ns, 'vips6'))?.length === 2, { timeoutMs: 1000, intervalMs: 20, what: 'the table to be recreated' })
    await settle(p)
    const st = await p.call<Status>('status')
    t.ok(st.counters.driftRepairs >= d0 + 4, `drift repairs counted (${st.counters.driftRepairs - d0})`)
    t.same(await foreignState(ns), before, 'foreign objects untouched by the repairs')
  })

  await t.test('stop leaves everything in place; cleanup removes only Porter\'s objects', async (t) => {
    await p.call('stop')
    t.equal((await porterAddrs(ns)).length, 4, 'stop() keeps the VIPs')
    t.ok(await nftJson(ns, 'table', 'inet', 'porter'), 'and the table')
    const report = await p.call<{ addresses: number; nftables: boolean }>('cleanup')
    t.match(report, { addresses: 4, nftables: true })
    t.same(await porterAddrs(ns), [])
    t.equal(await nftJson(ns, 'table', 'inet', 'porter'), undefined, 'table inet porter is gone')
    t.same(await foreignState(ns), before, 'foreign objects untouched by cleanup')
  })
})

t.test('nftAcceptChain: one accept rule per family in the host chain, found again by its comment', async (t) => {
  const lab = createLab(t)
  const ns = await lab.ns('node')
  await lab.exec(ns, ['nft', 'add table inet filter; add chain inet filter forward { type filter hook forward priority 0; policy drop; }; add rule inet filter forward ct state established accept comment "host"'])
  const hostRules = async () => (await nftJson(ns, 'chain', 'inet', 'filter', 'forward'))!.nftables.filter((x) => x.rule).map((x) => x.rule!)
  const p = agentProc(lab, ns)
  t.teardown(() => p.close())
  await p.call('create', { config: { firewall: 'nftables', nftAcceptChain: 'inet filter forward' } })
  await p.call('setDesired', { vips: VIPS })
  await p.call('start')
  let rules = await hostRules()
  t.same(rules.map((r) => r.comment), ['porter:accept:ipv6', 'porter:accept:ipv4', 'host'], 'inserted at the top, the host rule kept')
  const elems = (r: Record<string, unknown>) => JSON.stringify(r.expr).match(/\d+\.\d+\.\d+\.\d+|2001:db8:[0-9a-f:]+/g)!.sort()
  t.same(elems(rules[1]!), [...V4].sort())
  const h4 = rules[1]!.handle
  await p.call('setDesired', { vips: ['203.0.113.10', ...V6] })
  await settle(p)
  rules = await hostRules()
  t.same(rules.map((r) => r.comment), ['porter:accept:ipv6', 'porter:accept:ipv4', 'host'])
  t.same(elems(rules[1]!), ['203.0.113.10'], 'the IPv4 rule now has one VIP')
  t.equal(rules[1]!.handle, h4, 'replaced in place (same handle)')
  const both = await p.call<{ netlink: unknown; json: unknown }>('nftObserveBoth', { accept: { family: 'inet', table: 'filter', chain: 'forward' } })
  t.same(both.netlink, both.json, 'netlink reader and nft -j agree on the accept rules')
  await p.call('setDesired', { vips: ['203.0.113.10'] })
  await settle(p)
  t.same((await hostRules()).map((r) => r.comment), ['porter:accept:ipv4', 'host'], 'no IPv6 VIPs: no IPv6 rule')
  await p.call('cleanup')
  rules = await hostRules()
  t.same(rules.map((r) => r.comment), ['host'], 'cleanup removes only Porter\'s rule')
  t.match((await nftJson(ns, 'chain', 'inet', 'filter', 'forward'))!.nftables.find((x) => x.chain)!.chain, { policy: 'drop' }, 'the host chain keeps its policy')
})

t.test('local-route mode: VIPs as local routes with protocol 0x50, no addresses', async (t) => {
  const lab = createLab(t)
  const ns = await lab.ns('node')
  await lab.addr(ns, 'lo', '192.0.2.99/32')
  const before = await foreignState(ns)
  const p = agentProc(lab, ns)
  t.teardown(() => p.close())
  await p.call('create', { config: { firewall: 'none' }, mode: 'local-route' })
  await p.call('setDesired', { vips: VIPS })
  await p.call('start')
  const mine = (await routes(ns)).filter((l) => / proto 80 /.test(`${l} `))
  t.same(mine.map((l) => l.split(' ')[1]).sort(), [...VIPS].sort(), 'one route per VIP')
  t.ok(mine.every((l) => l.startsWith('local ') && l.includes('dev lo') && l.includes('table local')), 'local routes on lo in table local')
  t.same(await porterAddrs(ns), [], 'no addresses')
  const get = await run('ip', ['-n', ns, 'route', 'get', '203.0.113.11'])
  t.match(get.stdout, /^local 203\.0\.113\.11 dev lo /, 'the kernel delivers the VIP locally')
  const r = await p.call<Result>('reconcileNow')
  t.match(r, { ok: true, changes: 0 }, 'second apply: no writes')
  await run('ip', ['-n', ns, 'route', 'del', 'local', '203.0.113.12', 'dev', 'lo', 'table', 'local'])
  await waitFor(async () => (await routes(ns)).some((l) => l.startsWith('local 203.0.113.12 ') && l.includes('proto 80')), { timeoutMs: 1000, intervalMs: 20, what: 'the deleted local route to come back' })
  await p.call('cleanup')
  t.same((await routes(ns)).filter((l) => / proto 80 /.test(`${l} `)), [], 'cleanup removed the routes')
  t.same(await foreignState(ns), before, 'foreign objects untouched')
})
