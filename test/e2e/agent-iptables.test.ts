// Agent with the iptables backend, in both flavours (iptables-nft and iptables-legacy), against
// the real kernel in namespaces this test creates: exact chains and rules, one jump each, zero
// writes on a second apply, removal of one VIP, drift repair, cleanup, foreign rules untouched.
import t from 'tap'
import { createLab, waitFor, run } from './lib/netns.ts'
import { agentProc, foreignState, iptablesSave, monitorDuring, type AgentProc } from './agent-harness.ts'

const V4 = ['203.0.113.10', '203.0.113.11']
const V6 = ['2001:db8:5::10']

interface Status { counters: { changes: number; driftRepairs: number }; backend: string; iptablesFlavour?: string }
interface Result { ok: boolean; changes: number }

const porterLines = (lines: string[]) => lines.filter((l) => l.includes('PORTER-'))

for (const flavour of ['nft', 'legacy'] as const) {
  t.test(`iptables-${flavour}`, async (t) => {
    const lab = createLab(t)
    const ns = await lab.ns('node')
    // the host's own firewall, in the same flavour, and a rule in the other flavour
    await lab.exec(ns, [`iptables-${flavour}`, '-A', 'INPUT', '-s', '198.51.100.9', '-j', 'ACCEPT'])
    await lab.exec(ns, [`iptables-${flavour}`, '-A', 'FORWARD', '-s', '198.51.100.8', '-j', 'DROP'])
    await lab.exec(ns, [`ip6tables-${flavour}`, '-A', 'INPUT', '-s', '2001:db8:f::9', '-j', 'ACCEPT'])
    await lab.exec(ns, [`iptables-${flavour}`, '-t', 'nat', '-A', 'PREROUTING', '-d', '198.51.100.7', '-j', 'RETURN'])
    const other = flavour === 'nft' ? 'legacy' : 'nft'
    await lab.exec(ns, [`iptables-${other}`, '-A', 'OUTPUT', '-d', '198.51.100.6', '-j', 'ACCEPT'])
    await lab.exec(ns, ['nft', 'add table inet hostfw; add chain inet hostfw c'])
    await lab.addr(ns, 'lo', '192.0.2.99/32')
    const before = await foreignState(ns)
    t.ok(before.ipt[`${flavour}4`]!.some((l) => l.includes('198.51.100.9')), 'foreign rules exist')

    const p: AgentProc = agentProc(lab, ns)
    t.teardown(() => p.close())
    // "auto" must pick iptables here: the host's filter table has rules in INPUT / FORWARD
    await p.call('create', { config: { firewall: flavour === 'nft' ? 'auto' : 'iptables' }, iptablesFlavour: flavour })
    await p.call('setDesired', { vips: [...V4, ...V6] })
    const st = await p.call<Status>('start')
    t.match(st, { backend: 'iptables', iptablesFlavour: flavour })

    const save4 = await iptablesSave(ns, flavour, 4)
    t.same(porterLines(save4), [
      ':PORTER-FORWARD - [0:0]',
      ':PORTER-INPUT - [0:0]',
      '-A INPUT -m comment --comment porter -j PORTER-INPUT',
      '-A FORWARD -m comment --comment porter -j PORTER-FORWARD',
      '-A PORTER-FORWARD -m conntrack --ctorigdst 203.0.113.10 -j ACCEPT',
      '-A PORTER-FORWARD -m conntrack --ctorigdst 203.0.113.11 -j ACCEPT',
      '-A PORTER-INPUT -d 203.0.113.10/32 -j ACCEPT',
      '-A PORTER-INPUT -d 203.0.113.11/32 -j ACCEPT',
    ], 'IPv4: exact chains, rules and one jump each')
    t.equal(save4.findIndex((l) => l.includes('-j PORTER-INPUT')), save4.findIndex((l) => l.startsWith('-A INPUT')), 'the jump is the first rule of INPUT')
    t.same(porterLines(await iptablesSave(ns, flavour, 6)).filter((l) => l.startsWith('-A PORTER')), [
      '-A PORTER-FORWARD -m conntrack --ctorigdst 2001:db8:5::10 -j ACCEPT',
      '-A PORTER-INPUT -d 2001:db8:5::10/128 -j ACCEPT',
    ], 'IPv6 rules')
    t.same(porterLines(await iptablesSave(ns, other, 4)), [], `nothing in iptables-${other}`)

    const c0 = (await p.call<Status>('status')).counters.changes
    let r: Result | undefined
    const seen = await monitorDuring(ns, async () => { r = await p.call<Result>('reconcileNow') })
    t.match(r, { ok: true, changes: 0 }, 'second apply: no writes')
    t.same(seen, [], 'no netlink / nftables events during it')
    t.equal((await p.call<Status>('status')).counters.changes, c0)

    await p.call('setDesired', { vips: ['203.0.113.10', ...V6] })
    await p.call('reconcileNow')
    t.same(porterLines(await iptablesSave(ns, flavour, 4)).filter((l) => l.startsWith('-A PORTER')), [
      '-A PORTER-FORWARD -m conntrack --ctorigdst 203.0.113.10 -j ACCEPT',
      '-A PORTER-INPUT -d 203.0.113.10/32 -j ACCEPT',
    ], 'removing a VIP removes only its rules')
    t.same(await foreignState(ns), before, 'foreign rules, tables and addresses untouched')

    // drift: a rule deleted, the jump deleted, a duplicate jump added
    await lab.exec(ns, [`iptables-${flavour}`, '-D', 'PORTER-INPUT', '-d', '203.0.113.10/32', '-j', 'ACCEPT'])
    await lab.exec(ns, [`iptables-${flavour}`, '-D', 'FORWARD', '-m', 'comment', '--comment', 'porter', '-j', 'PORTER-FORWARD'])
    await lab.exec(ns, [`iptables-${flavour}`, '-A', 'INPUT', '-m', 'comment', '--comment', 'porter', '-j', 'PORTER-INPUT'])
    if (flavour === 'legacy') await p.call('reconcileNow', { full: true }) // no notifications for legacy: the periodic check finds it
    await waitFor(async () => {
      const l = porterLines(await iptablesSave(ns, flavour, 4))
      return l.includes('-A PORTER-INPUT -d 203.0.113.10/32 -j ACCEPT') && l.filter((x) => x.endsWith('-j PORTER-INPUT')).length === 1 && l.filter((x) => x.endsWith('-j PORTER-FORWARD')).length === 1
    }, { timeoutMs: 2000, intervalMs: 25, what: 'the iptables drift to be repaired' })
    t.pass('drift repaired: rule back, one jump each')
    await p.call('reconcileNow')
    t.ok((await p.call<Status>('status')).counters.driftRepairs >= 1, 'counted as drift')
    t.same(await foreignState(ns), before, 'foreign objects untouched by the repair')

    await p.call('cleanup')
    t.same(porterLines(await iptablesSave(ns, flavour, 4)), [], 'cleanup: no Porter chain or jump (IPv4)')
    t.same(porterLines(await iptablesSave(ns, flavour, 6)), [], 'cleanup: no Porter chain or jump (IPv6)')
    t.same(await foreignState(ns), before, 'foreign objects untouched by cleanup')
    void run
  })
}
