// Issue 13: the shipped binary used as a user would (the BUILT dist/porter, never the library).
// 1. `porter agent --cleanup` beside a running agent refuses (exit 1, nothing removed) instead
//    of reporting a removal the running agent undoes; once the agent is stopped it removes
//    everything, for good. iptables and nftables, in a namespace this test creates.
// 2. With a router that does not negotiate ADD-PATH (BIRD 2 without "add paths rx"), `porter
//    status` says which single next hop each peer has, the others "not sent", and the log says
//    "ECMP unavailable" once per peer (a session flap does not repeat it).
// 3. `porter validate` rejects what cannot work, with file:line:col and the field path.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLab, waitFor, type Lab } from './lib/netns.ts'
import { Bird } from './lib/bird.ts'
import { routerAndPorter, porterYaml, ROUTER_AS, PORTER_AS, HOPS4, HOPS6 } from './lib/bgp-lab.ts'
import { PorterProc } from './lib/porter.ts'
import { builtPorter } from '../lib/dist.ts'
import type { DaemonStatus, VipStatus } from '../../internal/admin/index.ts'

const VIP4 = '203.0.113.10'
const VIP6 = '2001:db8:5::10'

const agentYaml = (firewall: string) => `
agent: { firewall: ${firewall}, nodeAddresses: [198.51.100.7, "2001:db8:7::7"], reconcileInterval: 1s }
vips:
  - name: web
    address: [${VIP4}, "${VIP6}"]
    nextHops: [198.51.100.7, "2001:db8:7::7"]
`

/** Everything of Porter's in the namespace: VIP addresses, nft table, iptables chains (both families). */
async function porterState(lab: Lab, ns: string): Promise<{ addrs: string[]; nft: string[]; ipt: string[] }> {
  const j = JSON.parse((await lab.exec(ns, ['ip', '-j', 'addr', 'show', 'dev', 'lo'])).stdout) as { addr_info: { local: string }[] }[]
  const addrs = j.flatMap((l) => l.addr_info.map((a) => a.local)).filter((a) => a === VIP4 || a === VIP6).sort()
  const nft = (await lab.exec(ns, ['nft', 'list', 'ruleset'])).stdout.split('\n').map((l) => l.trim()).filter((l) => /porter/i.test(l))
  const ipt: string[] = []
  for (const save of ['iptables-save', 'ip6tables-save']) ipt.push(...(await lab.exec(ns, [save])).stdout.split('\n').filter((l) => l.includes('PORTER')))
  return { addrs, nft, ipt }
}

const logLines = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; level: number; [k: string]: unknown })

for (const firewall of ['iptables', 'nftables'] as const) {
  t.test(`agent --cleanup beside a running agent (firewall: ${firewall}) refuses; after a stop it removes everything`, async (t) => {
    const lab = createLab(t)
    const binary = builtPorter(lab.dir)
    const ns = await lab.ns('node')
    const agent = new PorterProc(lab, ns, agentYaml(firewall), 'agent', binary)
    t.teardown(() => agent.cleanup())
    await agent.start()
    const st = await waitFor(async () => {
      const s = (await agent.status()) as DaemonStatus
      return s.agent?.vips.length === 2 && s.agent.lastReconcile?.ok ? s : undefined
    }, { what: 'the agent programmed both VIPs' })
    t.equal(st.agent!.backend, firewall)
    const before = await porterState(lab, ns)
    t.same(before.addrs, [VIP6, VIP4].sort(), 'both VIP addresses on lo')
    if (firewall === 'iptables') t.ok(before.ipt.some((l) => l.startsWith(`-A PORTER-INPUT -d ${VIP4}/32`)), 'PORTER-INPUT has the VIP')
    else t.ok(before.nft.includes('table inet porter {'), 'table inet porter exists')

    const refused = await lab.exec(ns, [binary, 'agent', '--cleanup', '--config', agent.configFile], { allowFail: true })
    t.equal(refused.code, 1, 'cleanup exits 1 while the agent runs')
    const logs = logLines(refused.stdout + refused.stderr)
    t.notOk(logs.some((l) => l.msg === 'Removed everything Porter created'), 'no claim of a removal')
    const failed = logs.find((l) => l.msg === 'cleanup failed') as { error?: { code: string; message: string } } | undefined
    t.equal(failed?.error?.code, 'PORTER_ERR_USAGE')
    t.match(failed?.error?.message, new RegExp(`^Cannot clean up while porter agent is running \\(pid ${st.pid}, admin socket ".*porter\\.sock"\\): it would restore everything at once\\. Stop it first .*nothing was removed$`))
    t.same(await porterState(lab, ns), before, 'nothing was removed')
    t.equal((await agent.status()).agent?.counters.driftRepairs, st.agent!.counters.driftRepairs, 'the agent had nothing to repair')

    t.equal(await agent.stop(), 0, 'the agent stops with SIGTERM')
    const done = await lab.exec(ns, [binary, 'agent', '--cleanup', '--config', agent.configFile], { allowFail: true })
    t.equal(done.code, 0, 'with no agent running cleanup succeeds')
    t.ok(logLines(done.stdout).some((l) => l.msg === 'Removed everything Porter created'))
    t.same(await porterState(lab, ns), { addrs: [], nft: [], ipt: [] }, 'no address, table, chain or rule of Porter\'s is left')
  })
}

t.test('a router without ADD-PATH: porter status shows the one next hop each peer has; the ECMP warning is logged once per peer', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, p } = await routerAndPorter(lab)
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4', addPathRx: false },
    { address: '2001:db8::2', as: PORTER_AS, passive: true, name: 'porter6', families: ['ipv6'], addPathRx: false },
  ] })
  await bird.start()
  const porter = new PorterProc(lab, p, porterYaml({ v4hops: HOPS4, v6hops: HOPS6 }), 'controller', binary)
  t.teardown(() => porter.cleanup())
  await porter.start()
  const sent = async () => {
    const s = await porter.status()
    return s.peers.length === 2 && s.peers.every((x) => x.state === 'Established' && x.prefixesSent > 0) && s.vips.every((v) => v.peers?.length) ? s : undefined
  }
  const st = await waitFor(sent, { what: 'both peers Established with the VIP' })
  const hops = (v: VipStatus | undefined) => v?.nextHops.map((n) => [n.address, n.announced, n.peers])
  const v4 = st.vips.find((v) => v.address === '203.0.113.10')
  const v6 = st.vips.find((v) => v.address === '2001:db8:100::10')

  await t.test('status: one next hop per peer and VIP, the others not sent', async (t) => {
    t.ok(st.peers.every((x) => x.ecmp?.startsWith('unavailable')), 'PEERS: ECMP unavailable with both')
    t.same(hops(v4), [['192.0.2.11', true, ['r4']], ['192.0.2.12', true, []], ['192.0.2.13', true, []]])
    t.same(hops(v6), [['2001:db8::11', true, ['r6']], ['2001:db8::12', true, []], ['2001:db8::13', true, []]])
    t.same([v4?.peers, v6?.peers], [['r4'], ['r6']])
    const routes = await bird.routes(['table', 'master4', 'for', '203.0.113.10/32'])
    t.same(routes.map((x) => x.bgpNextHop?.[0]), ['192.0.2.11'], 'the router has the one path status names')
  })

  await t.test('porter status (table and --json) from the built binary', async (t) => {
    const text = spawnSync(binary, ['status', '--socket', porter.socket], { encoding: 'utf8' })
    t.equal(text.status, 0)
    t.match(text.stdout, /VIP\s+NEXT HOP\s+HEALTH\s+ANNOUNCED\s+PEERS/)
    t.match(text.stdout, /203\.0\.113\.10\s+192\.0\.2\.11\s+no check\s+yes\s+r4\n/)
    t.match(text.stdout, /203\.0\.113\.10\s+192\.0\.2\.12\s+no check\s+not sent\s+-\n/)
    t.match(text.stdout, /203\.0\.113\.10\s+192\.0\.2\.13\s+no check\s+not sent\s+-\n/)
    t.match(text.stdout, /2001:db8:100::10\s+2001:db8::11\s+no check\s+yes\s+r6\n/)
    t.match(text.stdout, /\nnot sent: healthy, but no peer has this next hop/)
    const json = spawnSync(binary, ['status', '--socket', porter.socket, '--json'], { encoding: 'utf8' })
    t.equal(json.status, 0)
    const j = JSON.parse(json.stdout) as DaemonStatus
    t.same(hops(j.vips?.find((v) => v.address === '203.0.113.10')), hops(v4), 'the JSON carries the same per next hop peers')
  })

  await t.test('the ECMP warning: once per peer, not repeated after a session flap', async (t) => {
    const warnings = (peer: string) => porter.logs().filter((l) => typeof l.msg === 'string' && l.msg.startsWith(`ECMP unavailable with peer ${peer}:`))
    const w4 = await waitFor(() => (warnings('r4').length ? warnings('r4') : undefined), { what: 'the r4 warning' })
    t.equal(w4.length, 1)
    t.equal(warnings('r6').length, 1)
    t.match(w4[0], { level: 'warn', peer: 'r4', addPathTx: [], singlePathPrefixes: 1 })
    const flaps = (s: DaemonStatus) => (s.peers ?? []).reduce((n, x) => n + x.flaps, 0)
    await bird.restart()
    await waitFor(async () => { const s = await sent(); return s && flaps(s) >= 2 ? s : undefined }, { timeoutMs: 60_000, what: 'both sessions back after the router restart' })
    t.equal(warnings('r4').length, 1, 'r4: still one warning')
    t.equal(warnings('r6').length, 1, 'r6: still one warning')
  })
})

t.test('porter validate rejects what cannot work, with file:line:col and the field path', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const validate = (name: string, text: string) => {
    const file = join(lab.dir, name)
    writeFileSync(file, text)
    const r = spawnSync(binary, ['validate', '--config', file], { encoding: 'utf8' })
    return { code: r.status, errors: r.stderr.split('\n').filter((l) => l.startsWith(`${name}:`)) }
  }
  const bgp = 'bgp:\n  localAs: 64512\n  routerId: 192.0.2.1\n  peers:\n'

  await t.test('export.localPref on an eBGP peer', async (t) => {
    t.same(validate('lp.yaml', `${bgp}    - address: 192.0.2.254\n      peerAs: 64513\n      export: { localPref: 200 }\n`), { code: 2, errors: [
      'lp.yaml:7:28: bgp.peers[0].export.localPref: LOCAL_PREF is sent to iBGP peers only, and this peer is eBGP (peerAs 64513, localAs 64512): remove it, or use med or asPathPrepend',
    ] })
    t.equal(validate('lp-ibgp.yaml', `${bgp}    - address: 192.0.2.254\n      peerAs: 64512\n      export: { localPref: 200 }\n`).code, 0, 'on an iBGP peer it is fine')
  })

  await t.test('one VIP address in two vips entries (however spelt)', async (t) => {
    const vips = (a: string, b: string) => `${bgp}    - { address: 192.0.2.254, peerAs: 64513 }\nvips:\n  - name: a\n    address: ${a}\n    nextHops: ["2001:db8::1"]\n  - name: b\n    address: ${b}\n    nextHops: ["2001:db8::2"]\n`
    t.same(validate('dup.yaml', vips('"2001:db8::10"', '"2001:DB8:0::10/128"')), { code: 2, errors: [
      'dup.yaml:11:14: vips[1].address: "2001:DB8:0::10/128" is the same VIP address as vips[0].address ("2001:db8::10"): a VIP address may be configured once only (merge the two entries, or remove one)',
    ] })
  })

  await t.test('a malformed next-hop address says "is not an IP address" like every other address field', async (t) => {
    t.same(validate('nh.yaml', `${bgp}    - { address: 192.0.2.254, peerAs: 64513 }\nvips:\n  - address: 203.0.113.10\n    nextHops: [198.51.100.300]\n`), { code: 2, errors: [
      'nh.yaml:8:16: vips[0].nextHops[0]: "198.51.100.300" is not an IP address',
    ] })
  })
})

t.test('porter validate | head: a reader that goes away ends the command quietly (exit 0, no stack trace)', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const file = join(lab.dir, 'many.yaml')
  // enough output that the pipe is closed while porter is still writing
  const peers = Array.from({ length: 2000 }, (_, i) => `    - { address: 198.18.${i >> 8}.${i & 255}, peerAs: 64513 }`).join('\n')
  writeFileSync(file, `bgp:\n  localAs: 64512\n  routerId: 192.0.2.1\n  peers:\n${peers}\n`)
  const r = spawnSync('bash', ['-c', 'set -o pipefail; "$0" validate --config "$1" | head -c 10 >/dev/null; echo "exit=$?" >&2', binary, file], { encoding: 'utf8' })
  t.match(r.stderr, /exit=0/, 'porter exits 0 when the pipe closes')
  t.notMatch(r.stderr, /EPIPE|Error|at /, 'no error, no stack trace')
})

t.test('porter validate --json into a non-blocking pipe that fills up: all of the output arrives (exit 0)', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const file = join(lab.dir, 'many.yaml')
  const got = join(lab.dir, 'out.json')
  // ~130 KB of JSON, more than a pipe holds (64 KiB) while nobody reads: a write would block (EAGAIN)
  const addrs = Array.from({ length: 8000 }, (_, i) => `      - 198.18.${i >> 8}.${i & 255}`).join('\n')
  writeFileSync(file, `bgp:\n  localAs: 64512\n  routerId: 192.0.2.1\nvips:\n  - name: many\n    nextHops: [192.0.2.1]\n    address:\n${addrs}\n`)
  // python keeps O_NONBLOCK on the pipe it gives porter as stdout (a Node parent would clear it)
  // and starts reading only after porter has filled it
  const script = [
    'import fcntl, os, subprocess, sys, time',
    'r, w = os.pipe()',
    'fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)',
    'p = subprocess.Popen(sys.argv[2:], stdout=w)',
    'os.close(w)',
    'time.sleep(2)',
    'out = b"".join(iter(lambda: os.read(r, 65536), b""))',
    'open(sys.argv[1], "wb").write(out)',
    'print(p.wait())',
  ].join('\n')
  const r = spawnSync('python3', ['-c', script, got, binary, 'validate', '--json', '--config', file], { encoding: 'utf8' })
  t.equal(r.stdout.trim(), '0', `porter exits 0 (stderr: ${r.stderr})`)
  const cfg = JSON.parse(readFileSync(got, 'utf8')) as { vips: { address: string[] }[] }
  t.equal(cfg.vips[0]?.address.length, 8000, 'every address is in the output')
  t.equal(cfg.vips[0]?.address[7999], '198.18.31.63', 'up to the last one')
})
