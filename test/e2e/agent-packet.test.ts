// Real packets through the agent's kernel state. Topology (all namespaces created here):
//
//   client 192.0.2.1 --- 192.0.2.2 router 192.0.2.5 --- 192.0.2.6 node 192.0.2.9 --- 192.0.2.10 backend
//          2001:db8:1::1   2001:db8:1::2   2001:db8:2::1   2001:db8:2::2
//
// The router has a static route for the VIPs (203.0.113.0/24, 2001:db8:5::/48) to the node
// (and one for the backend link, so the path can be checked without VIPs).
// The node's own firewall drops forwarded traffic (and, for iptables, input too), and DNATs
// VIP 203.0.113.20:8080 to the backend (like kube-proxy). The agent programs 203.0.113.10 and
// 2001:db8:5::10 (served by the node itself: input path) and 203.0.113.20 (forwarded).
// Before the agent: nothing answers. With it: both answer. After cleanup: nothing again.
import t, { type Test } from 'tap'
import { createLab, waitFor, type Lab } from './lib/netns.ts'
import { agentProc } from './agent-harness.ts'

const SERVER = `require('net').createServer((s) => s.end(process.argv[1] + '\\n')).listen(8080, '::')`
const CLIENT = `const [host, port] = process.argv.slice(1)
const s = require('net').connect({ host, port: +port, timeout: 1000 })
let d = ''
s.on('data', (x) => { d += x })
s.on('end', () => { console.log(d.trim()); process.exit(0) })
s.on('timeout', () => { console.log('fail:timeout'); process.exit(0) })
s.on('error', (e) => { console.log('fail:' + e.code); process.exit(0) })`

interface Topo { lab: Lab; client: string; router: string; node: string; backend: string }

async function topology(lab: Lab): Promise<Topo> {
  const [client, router, node, backend] = [await lab.ns('client'), await lab.ns('router'), await lab.ns('node'), await lab.ns('backend')]
  await lab.veth({ ns: client, ifname: 'c0' }, { ns: router, ifname: 'r0' })
  await lab.veth({ ns: router, ifname: 'r1' }, { ns: node, ifname: 'n0' })
  await lab.veth({ ns: node, ifname: 'n1' }, { ns: backend, ifname: 'b0' })
  await lab.addr(client, 'c0', '192.0.2.1/30'); await lab.addr(router, 'r0', '192.0.2.2/30')
  await lab.addr(router, 'r1', '192.0.2.5/30'); await lab.addr(node, 'n0', '192.0.2.6/30')
  await lab.addr(node, 'n1', '192.0.2.9/30'); await lab.addr(backend, 'b0', '192.0.2.10/30')
  await lab.addr(client, 'c0', '2001:db8:1::1/64'); await lab.addr(router, 'r0', '2001:db8:1::2/64')
  await lab.addr(router, 'r1', '2001:db8:2::1/64'); await lab.addr(node, 'n0', '2001:db8:2::2/64')
  const ip = (ns: string, ...args: string[]) => lab.exec(ns, ['ip', ...args])
  await ip(client, 'route', 'add', 'default', 'via', '192.0.2.2')
  await ip(client, '-6', 'route', 'add', 'default', 'via', '2001:db8:1::2')
  await ip(router, 'route', 'add', '203.0.113.0/24', 'via', '192.0.2.6')
  await ip(router, 'route', 'add', '192.0.2.8/30', 'via', '192.0.2.6')
  await ip(router, '-6', 'route', 'add', '2001:db8:5::/48', 'via', '2001:db8:2::2')
  await ip(node, 'route', 'add', 'default', 'via', '192.0.2.5')
  await ip(node, '-6', 'route', 'add', 'default', 'via', '2001:db8:2::1')
  await ip(backend, 'route', 'add', 'default', 'via', '192.0.2.9')
  lab.spawn(node, [process.execPath, '-e', SERVER, 'node'], { label: 'server-node' })
  lab.spawn(backend, [process.execPath, '-e', SERVER, 'backend'], { label: 'server-backend' })
  for (const ns of [node, backend]) {
    await waitFor(async () => (await lab.exec(ns, ['ss', '-Hltn', 'sport = :8080'])).stdout.includes('8080'), { timeoutMs: 10_000, intervalMs: 50, what: `server in ${ns}` })
  }
  return { lab, client, router, node, backend }
}

async function connect(topo: Topo, host: string): Promise<string> {
  return (await topo.lab.exec(topo.client, [process.execPath, '-e', CLIENT, host, '8080'])).stdout.trim()
}

async function answers(topo: Topo): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  await Promise.all(['203.0.113.10', '2001:db8:5::10', '203.0.113.20'].map(async (h) => {
    const r = await connect(topo, h)
    out[h] = r.startsWith('fail') ? 'no answer' : r
  }))
  return out
}

const NONE = { '203.0.113.10': 'no answer', '2001:db8:5::10': 'no answer', '203.0.113.20': 'no answer' }
const ALL = { '203.0.113.10': 'node', '2001:db8:5::10': 'node', '203.0.113.20': 'backend' }

async function scenario(t: Test, firewall: (topo: Topo) => Promise<void>, create: Record<string, unknown>): Promise<void> {
  const lab = createLab(t)
  const topo = await topology(lab)
  t.equal(await connect(topo, '192.0.2.10'), 'backend', 'the path works: the backend answers on its own address')
  await firewall(topo)
  t.match(await connect(topo, '192.0.2.10'), /^fail/, 'the node\'s firewall drops forwarded traffic')
  t.same(await answers(topo), NONE, 'before the agent: no VIP answers')
  const p = agentProc(lab, topo.node)
  t.teardown(() => p.close())
  await p.call('create', create)
  await p.call('setDesired', { vips: ['203.0.113.10', '2001:db8:5::10', '203.0.113.20'] })
  await p.call('start')
  t.same(await answers(topo), ALL, 'with the agent: the node answers for its VIPs, forwarded VIP traffic passes the drop policy')
  await p.call('cleanup')
  t.same(await answers(topo), NONE, 'after cleanup: no VIP answers again')
}

for (const flavour of ['nft', 'legacy'] as const) {
  t.test(`packets, iptables-${flavour}: input and forward policies DROP`, async (t) => {
    await scenario(t, async ({ lab, node }) => {
      const ipt = (...a: string[]) => lab.exec(node, [`iptables-${flavour}`, ...a])
      const ip6t = (...a: string[]) => lab.exec(node, [`ip6tables-${flavour}`, ...a])
      await ipt('-t', 'nat', '-A', 'PREROUTING', '-d', '203.0.113.20', '-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', '192.0.2.10:8080')
      await ipt('-P', 'INPUT', 'DROP')
      await ipt('-P', 'FORWARD', 'DROP')
      await ip6t('-A', 'INPUT', '-p', 'ipv6-icmp', '-j', 'ACCEPT')
      await ip6t('-P', 'INPUT', 'DROP')
      await ip6t('-P', 'FORWARD', 'DROP')
    }, { config: { firewall: 'iptables' }, iptablesFlavour: flavour })
  })
}

t.test('packets, nftables: forward policy drop, accept rule in the host chain', async (t) => {
  await scenario(t, async ({ lab, node }) => {
    await lab.exec(node, ['nft', [
      'add table inet filter',
      'add chain inet filter forward { type filter hook forward priority 0; policy drop; }',
      'add table ip nat',
      'add chain ip nat prerouting { type nat hook prerouting priority dstnat; }',
      'add rule ip nat prerouting ip daddr 203.0.113.20 tcp dport 8080 dnat to 192.0.2.10:8080',
    ].join('; ')])
  }, { config: { firewall: 'nftables', nftAcceptChain: 'inet filter forward' } })
})
