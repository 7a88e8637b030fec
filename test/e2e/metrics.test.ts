// admin.metricsAddress end to end: the BUILT dist/porter (npm run build first when missing or
// stale) as a controller in a network namespace with a BIRD 2 peer, scraped with curl from
// inside that namespace. The series follow the sessions (a router crash shows up and heals),
// the three paths answer, anything else is 404, and the listener is on loopback only.
import t from 'tap'
import { createLab, waitFor } from './lib/netns.ts'
import { routerAndPorter, birdForPorter, porterYaml, HOPS4, HOPS6 } from './lib/bgp-lab.ts'
import { PorterProc } from './lib/porter.ts'
import { builtPorter } from '../lib/dist.ts'
import { parsePromText, promValue, type PromText } from '../lib/prom-text.ts'
import { FULL_TIER_VIPS } from '../../cmd/porter/heap.ts'
import { adminRequest } from '../../internal/admin/index.ts'

const METRICS = '127.0.0.1:9477'

/** a second `vips` entry of n IPv6 /128s from 2001:db8:1::/64, announced to r6 */
const bulk = (n: number) => `  - name: bulk\n    address:\n${Array.from({ length: n }, (_, i) => `      - "2001:db8:1::${i.toString(16)}"\n`).join('')}    nextHops: [${JSON.stringify(HOPS6[0])}]\n`

t.test('dist/porter controller serves /metrics, /healthz, /readyz on admin.metricsAddress', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, p } = await routerAndPorter(lab)
  const bird = await birdForPorter(lab, r)
  const porter = new PorterProc(lab, p, porterYaml({ v4hops: HOPS4, v6hops: HOPS6 }), 'controller', binary, { metricsAddress: METRICS })
  t.teardown(() => porter.cleanup())
  await porter.start()
  await porter.waitPeers('Established')

  await t.test('without Kubernetes the controller runs without the optimizing compiler, from its code caches', async (t) => {
    const started = porter.logs().find((l) => l.msg === 'controller started')
    t.ok(started, 'the "started" line')
    t.equal(started?.tier, 'baseline', 'tier: baseline (cmd/porter/heap.ts)')
    t.same(started?.codeCaches, { 'porter-main.cjs': 'used', 'porter-daemon.cjs': 'used' }, 'V8 used each bundle\'s code cache (the daemon bundle\'s made for that tier)')
  })

  /** curl inside Porter's namespace: [HTTP status (0: no answer), body] */
  const curl = async (path: string, ns = p, host = METRICS): Promise<[number, string]> => {
    const res = await lab.exec(ns, ['curl', '-s', '--max-time', '5', '-w', '\n%{http_code}', `http://${host}${path}`], { allowFail: true })
    const i = res.stdout.lastIndexOf('\n')
    return [Number(res.stdout.slice(i + 1)), res.stdout.slice(0, i)]
  }
  const scrape = async (): Promise<PromText> => {
    const [status, body] = await curl('/metrics')
    if (status !== 200) throw new Error(`/metrics: HTTP ${status}`)
    return parsePromText(body)
  }

  await t.test('BGP series: both sessions Established, paths sent as the status says', async (t) => {
    const m = await waitFor(async () => {
      const x = await scrape()
      return (promValue(x, 'porter_bgp_prefixes_sent', { peer: 'r4' }) ?? 0) > 0 && (promValue(x, 'porter_bgp_prefixes_sent', { peer: 'r6' }) ?? 0) > 0 ? x : undefined
    }, { what: 'porter_bgp_prefixes_sent > 0 for r4 and r6' })
    for (const peer of ['r4', 'r6']) {
      t.equal(promValue(m, 'porter_bgp_session_state', { peer, state: 'Established' }), 1, `porter_bgp_session_state{peer="${peer}",state="Established"} 1`)
      t.equal(m.samples.filter((s) => s.name === 'porter_bgp_session_state' && s.labels.peer === peer && s.value === 1).length, 1, `${peer}: exactly one state is 1`)
      t.ok((promValue(m, 'porter_bgp_prefixes_sent', { peer }) ?? 0) > 0, `porter_bgp_prefixes_sent{peer="${peer}"} > 0`)
      t.equal(promValue(m, 'porter_bgp_session_flaps_total', { peer }), 0)
      t.ok((promValue(m, 'porter_bgp_session_uptime_seconds', { peer }) ?? -1) >= 0)
    }
    const st = await porter.status()
    t.equal(promValue(m, 'porter_bgp_prefixes_sent', { peer: 'r4' }), st.peers.find((x) => x.name === 'r4')!.prefixesSent, 'the same number as porter status')
    t.equal(promValue(m, 'porter_bgp_prefixes_sent', { peer: 'r4' }), HOPS4.length, 'one path per next hop (ADD-PATH)')
    t.equal(promValue(m, 'porter_vip_announced', { vip: '203.0.113.10' }), 1)
    t.equal(promValue(m, 'porter_vip_announced', { vip: '2001:db8:100::10' }), 1)
    for (const nexthop of HOPS4) t.equal(promValue(m, 'porter_vip_nexthop_healthy', { vip: '203.0.113.10', nexthop }), 1, `${nexthop} healthy`)
    t.equal(promValue(m, 'porter_ready'), 1)
    t.ok((promValue(m, 'porter_process_resident_memory_bytes') ?? 0) > 0, 'prom-client default metrics, porter_ prefixed')
    t.same(m.samples.filter((s) => !s.name.startsWith('porter_')).map((s) => s.name), [], 'every series is porter_*')
  })

  await t.test('/healthz 200, /readyz 200, anything else 404', async (t) => {
    t.same(await curl('/healthz'), [200, 'ok\n'])
    t.same(await curl('/readyz'), [200, 'ok\n'])
    t.equal((await curl('/nope'))[0], 404)
    t.equal((await curl('/'))[0], 200, '/ is the dashboard (test/e2e/dashboard.test.ts)')
  })

  await t.test('a router crash shows in the series and heals', async (t) => {
    await bird.crash()
    const down = await waitFor(async () => {
      const x = await scrape()
      return promValue(x, 'porter_bgp_session_state', { peer: 'r4', state: 'Established' }) === 0 ? x : undefined
    }, { what: 'r4 not Established in /metrics' })
    t.equal(promValue(down, 'porter_bgp_session_uptime_seconds', { peer: 'r4' }), 0)
    t.equal(promValue(down, 'porter_bgp_prefixes_sent', { peer: 'r4' }), 0, 'nothing sent without a session')
    t.ok((promValue(down, 'porter_bgp_session_flaps_total', { peer: 'r4' }) ?? 0) >= 1, 'the flap is counted')
    await bird.restart()
    await porter.waitPeers('Established', 60_000)
    const up = await waitFor(async () => {
      const x = await scrape()
      return promValue(x, 'porter_bgp_session_state', { peer: 'r4', state: 'Established' }) === 1 && (promValue(x, 'porter_bgp_prefixes_sent', { peer: 'r4' }) ?? 0) > 0 ? x : undefined
    }, { timeoutMs: 30_000, what: 'r4 Established again in /metrics' })
    t.ok((promValue(up, 'porter_bgp_session_flaps_total', { peer: 'r4' }) ?? 0) >= 1, 'flaps stay counted')
  })

  await t.test('bound to loopback: not reachable from the router', async (t) => {
    const [status] = await curl('/healthz', r, '192.0.2.2:9477')
    t.equal(status, 0, 'no HTTP answer on 192.0.2.2:9477')
  })

  await t.test('a reload to a config of FULL_TIER_VIPS addresses turns the optimizing compiler on, once', async (t) => {
    const raised = () => porter.logs().filter((l) => l.msg === 'controller now runs at V8 tier "full" (the optimizing compiler on)')
    const reloads = () => porter.logs().filter((l) => l.msg === 'config reloaded').length
    const reloadWith = async (text: string) => {
      const before = reloads()
      porter.writeConfig(text)
      porter.signal('SIGHUP')
      await waitFor(() => reloads() > before || undefined, { what: '"config reloaded"' })
    }
    const base = porterYaml({ v4hops: HOPS4, v6hops: HOPS6 })
    await reloadWith(base + bulk(FULL_TIER_VIPS - 3))
    t.equal(raised().length, 0, `${FULL_TIER_VIPS - 1} addresses: still at baseline`)
    await reloadWith(base + bulk(FULL_TIER_VIPS - 2))
    t.same(raised().map((l) => [l.tier, l.vips]), [['full', FULL_TIER_VIPS]], `${FULL_TIER_VIPS} addresses: one line, tier full`)
    await reloadWith(base)
    t.equal(raised().length, 1, 'back to 2 addresses: no other tier line (it never goes back)')
    const st = await porter.status()
    t.equal(st.peers.find((x) => x.name === 'r4')?.state, 'Established', 'the sessions stayed up')
  })

  await t.test('SIGTERM: exit 0 and the listener is gone', async (t) => {
    t.equal(await porter.stop(), 0)
    t.equal((await curl('/healthz'))[0], 0, 'connection refused')
  })

  await t.test(`started with FULL_TIER_VIPS addresses: the optimizing compiler from the start, from the code caches`, async (t) => {
    const big = new PorterProc(lab, p, porterYaml({ v4hops: HOPS4, v6hops: HOPS6 }) + bulk(FULL_TIER_VIPS - 2), 'controller', binary)
    t.teardown(() => big.cleanup())
    await big.start()
    const started = await waitFor(() => big.logs().find((l) => l.msg === 'controller started'), { what: '"controller started"' })
    t.equal(started.tier, 'full', 'tier: full')
    t.same(started.codeCaches, { 'porter-main.cjs': 'used', 'porter-daemon.cjs': 'used' }, 'the daemon bundle\'s cache for that tier taken')
    const st = await adminRequest(big.socket, { cmd: 'status' }, 30_000) as { vips: unknown[] }
    t.equal(st.vips.length, FULL_TIER_VIPS, 'every VIP address in its status')
    t.equal(await big.stop(), 0, 'exit 0')
  })
})
