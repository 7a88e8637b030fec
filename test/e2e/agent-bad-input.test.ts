// Bad input gives a clear error and changes nothing in the kernel: an invalid VIP (in the
// config file and at setDesired), nft missing (exec seam), iptables missing, an accept chain
// that does not exist, an interface that does not exist.
import t, { type Test } from 'tap'
import { createLab } from './lib/netns.ts'
import { agentProc, foreignState, isTestVip, addrs } from './agent-harness.ts'
import { parseConfig } from '../../internal/config/index.ts'

async function setup(t: Test) {
  const lab = createLab(t)
  const ns = await lab.ns('node')
  await lab.addr(ns, 'lo', '192.0.2.99/32')
  await lab.exec(ns, ['nft', 'add table inet filter; add chain inet filter input { type filter hook input priority 0; policy accept; }'])
  const p = agentProc(lab, ns)
  t.teardown(() => p.close())
  const everything = async () => ({ ...(await foreignState(ns)), vips: (await addrs(ns)).filter((a) => isTestVip(a.local)) })
  return { lab, ns, p, before: await everything(), everything }
}

t.test('an invalid VIP in the config file is rejected with its location', async (t) => {
  const yaml = [
    'agent:',
    '  nodeAddresses: [192.0.2.11]',
    'vips:',
    '  - address: 203.0.113.10',
    '    nextHops: [192.0.2.11]',
    '  - address: 203.0.113.300',
    '    nextHops: [192.0.2.11]',
  ].join('\n')
  t.throws(() => parseConfig(yaml, 'porter.yaml'), { code: 'PORTER_ERR_CONFIG_INVALID', message: /porter\.yaml:6:\d+: vips\[1\]\.address.*"203\.0\.113\.300" is not a host address/ })
})

t.test('an invalid VIP at setDesired changes nothing', async (t) => {
  const { p, before, everything } = await setup(t)
  await p.call('create', { config: { firewall: 'nftables' } })
  await p.call('setDesired', { vips: ['203.0.113.10'] })
  await p.call('start')
  const programmed = await everything()
  t.equal(programmed.vips.length, 1)
  const err = await p.callErr('setDesired', { vips: ['203.0.113.10', '203.0.113.11', '203.0.113.0/24', 'not-an-ip'] })
  t.match(err, { code: 'PORTER_ERR_CONFIG_INVALID', message: /vips\[2\]: "203\.0\.113\.0\/24" is not a host address: use \/32.*vips\[3\]: "not-an-ip" is not a VIP/ })
  await p.call('reconcileNow')
  t.same(await everything(), programmed, 'the kernel keeps the last good state')
  t.same((await p.call<{ desired: string[] }>('status')).desired, ['203.0.113.10'])
  await p.call('cleanup')
  t.same(await everything(), before)
})

t.test('nft missing: a clear error, nothing changed', async (t) => {
  const { p, before, everything } = await setup(t)
  await p.call('create', { config: { firewall: 'nftables' }, missing: ['nft'] })
  await p.call('setDesired', { vips: ['203.0.113.10', '2001:db8:5::10'] })
  const err = await p.callErr('start')
  t.match(err, { name: 'FirewallError', code: 'PORTER_ERR_FIREWALL', errno: 2, message: 'Cannot run "nft": not found (install the nftables package, or set agent.firewall to "iptables" or "none")' })
  t.same(await everything(), before, 'no address, no table, nothing')
  t.same((await p.call<{ running: boolean }>('status')).running, false)
})

t.test('firewall auto without nft falls back to iptables', async (t) => {
  const { p, before, everything } = await setup(t)
  await p.call('create', { config: { firewall: 'auto' }, missing: ['nft'] })
  await p.call('setDesired', { vips: ['203.0.113.10'] })
  t.match(await p.call('start'), { backend: 'iptables', programmed: ['203.0.113.10'] })
  await p.call('cleanup')
  t.same(await everything(), before)
})

t.test('iptables missing: a clear error, nothing changed', async (t) => {
  const { p, before, everything } = await setup(t)
  await p.call('create', { config: { firewall: 'iptables' }, missing: ['iptables'] })
  await p.call('setDesired', { vips: ['203.0.113.10'] })
  t.match(await p.callErr('start'), { code: 'PORTER_ERR_FIREWALL', errno: 2, message: /Cannot use the iptables backend: "iptables -V" failed/ })
  t.same(await everything(), before)
})

t.test('an accept chain that does not exist: a clear error, nothing changed', async (t) => {
  const { p, before, everything } = await setup(t)
  await p.call('create', { config: { firewall: 'nftables', nftAcceptChain: 'inet filter forward' } })
  await p.call('setDesired', { vips: ['203.0.113.10'] })
  const st = await p.call<{ lastReconcile: unknown }>('start')
  t.match(st.lastReconcile, { ok: false, error: { code: 'PORTER_ERR_FIREWALL', message: /The nftables chain "inet filter forward" \(agent\.nftAcceptChain\) does not exist: create it or remove the setting/ } })
  t.same(await everything(), before, 'no address, no table')
  await p.call('stop')
})

t.test('an interface that does not exist: a clear error, nothing changed', async (t) => {
  const { p, before, everything } = await setup(t)
  await p.call('create', { config: { firewall: 'nftables', interface: 'porter0' } })
  await p.call('setDesired', { vips: ['203.0.113.10'] })
  const st = await p.call<{ lastReconcile: unknown }>('start')
  t.match(st.lastReconcile, { ok: false, error: { code: 'PORTER_ERR_NETLINK', errno: 19, message: /interface "porter0": the interface does not exist \(check agent\.interface\)/ } })
  t.same(await everything(), before)
  await p.call('stop')
})
