// The live dashboard end to end: the BUILT dist/porter as a controller in a network namespace
// with a BIRD 2 router, its metrics listener on loopback (127.0.0.1:9477 inside Porter's
// namespace), and Debian's headless Chromium driven by playwright-core. Chromium runs inside
// Porter's namespace too (a wrapper execs /usr/bin/chromium through `ip netns exec`): that is the
// only way to reach a loopback listener there, and it keeps the browser off the host's network.
//
// The page loads with no console error, shows the test's peers and VIPs with their next hops;
// an exec health check then fails for one next hop (a file the check looks for appears), BIRD's
// route loses that next hop, and the page follows without a reload: the next hop down and out of
// the announcement, the check's error shown as text (its command path is an HTML payload that
// must not turn into markup), events for the failure. Then the check heals and the page too.
// A screenshot of the failure is written to test/artifacts/dashboard.png.
import t from 'tap'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { createLab, waitFor } from './lib/netns.ts'
import { routerAndPorter, birdForPorter, porterYaml, gateways, HOPS4, HOPS6 } from './lib/bgp-lab.ts'
import { PorterProc } from './lib/porter.ts'
import { builtPorter } from '../lib/dist.ts'
import { ROOT } from '../lib/cli.ts'

const METRICS = '127.0.0.1:9477'
const VIP4 = '203.0.113.10'
const VIP6 = '2001:db8:100::10'
const FAILING = '192.0.2.12'
/** the health check's command file name: shown on the page in the check's error, as text */
const PAYLOAD = '<img src=x onerror=window.__xss=1>'
const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = join(ROOT, 'test', 'artifacts', 'dashboard.png')

t.test('dist/porter controller: the dashboard in headless Chromium follows sessions, VIPs and a failing next hop', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, p } = await routerAndPorter(lab)
  const bird = await birdForPorter(lab, r)

  // exec health check: a next hop is down while the file down-<next hop> exists
  const check = join(lab.dir, PAYLOAD)
  writeFileSync(check, '#!/bin/sh\nexec test ! -e "$(dirname "$0")/down-$PORTER_TARGET"\n')
  chmodSync(check, 0o755)
  const porter = new PorterProc(lab, p, porterYaml({
    v4hops: HOPS4, v6hops: HOPS6,
    vipExtra: `check: { type: exec, command: [${JSON.stringify(check)}], interval: 1s, timeout: 1s, rise: 1, fall: 1 }`,
  }), 'controller', binary, { metricsAddress: METRICS })
  t.teardown(() => porter.cleanup())
  await porter.start()
  await porter.waitPeers('Established')
  await waitFor(async () => {
    const st = await porter.status()
    return st.vips.every((v) => v.announced && v.nextHops.every((n) => n.health === 'up' && n.announced))
  }, { timeoutMs: 20_000, what: 'every next hop up and announced' })
  t.same(await waitFor(async () => ((await gateways(r, `${VIP4}/32`)).length === 3 ? gateways(r, `${VIP4}/32`) : undefined), { what: 'BIRD: three next hops' }), HOPS4)

  // Chromium inside Porter's namespace, flags from the machine notes, a fresh profile directory
  const wrapper = join(lab.dir, 'chromium-in-netns')
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${p} ${CHROMIUM} "$@"\n`)
  chmodSync(wrapper, 0o755)
  const profile = mkdtempSync(join(lab.dir, 'chromium-profile-'))
  const browser: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: wrapper,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    timeout: 60_000,
  })
  t.teardown(() => browser.close().catch(() => undefined))
  const page: Page = browser.pages()[0] ?? (await browser.newPage())
  const problems: string[] = []
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console ${m.type()}: ${m.text()}`) })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('requestfailed', (req) => { if (!req.url().endsWith('/events')) problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`) })
  page.on('response', (res) => { if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`) })

  const text = (sel: string) => page.locator(sel).innerText()
  const hopRow = (vip: string, hop: string) => `#vips tr[data-vip="${vip}"][data-nexthop="${hop}"]`
  /** the page's state, polled until `ok` holds */
  const until = <T>(read: () => Promise<T>, ok: (x: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> =>
    waitFor(async () => { const x = await read(); return ok(x) ? x : undefined }, { timeoutMs, intervalMs: 100, what })

  await t.test('the page loads and goes live', async (t) => {
    const res = await page.goto(`http://${METRICS}/`)
    t.equal(res?.status(), 200)
    t.match(res?.headers()['content-security-policy'] ?? '', /default-src 'none'; script-src 'self'/, 'served with the CSP')
    t.equal(await page.title(), 'Porter')
    await until(() => page.locator('#conn').getAttribute('data-state'), (s) => s === 'live', 'the event stream connected')
    t.equal(await text('#conn'), 'live')
    t.match(await text('#ready'), /^ready$/, 'readiness shown')
  })

  await t.test('the peers and VIPs of the test are on the page', async (t) => {
    const st = await porter.status()
    for (const peer of st.peers) {
      const row = `#peers tr[data-peer="${peer.name}"]`
      await until(() => text(`${row} td.state`), (s) => s === 'Established', `${peer.name} Established on the page`)
      t.equal(await text(`${row} td.addr`), peer.address, `${peer.name}: address`)
      t.equal(await text(`${row} td.prefixes`), String(peer.prefixesSent), `${peer.name}: paths sent as porter status says`)
    }
    t.equal(await page.locator('#peers tbody tr').count(), 2, 'two peers')
    for (const [vip, hops] of [[VIP4, HOPS4], [VIP6, HOPS6]] as const) {
      t.match(await text(`#vips tr[data-vip="${vip}"] >> nth=0`), new RegExp(`web ${vip.replace(/[.]/g, '\\.')}\\s+announced`), `${vip} announced`)
      for (const hop of hops) {
        t.equal(await text(`${hopRow(vip, hop)} td.health`), 'up', `${vip} via ${hop}: up`)
        t.equal(await text(`${hopRow(vip, hop)} td.announced`), 'yes', `${vip} via ${hop}: announced`)
      }
    }
    t.equal(await page.locator('#health-summary [data-health="up"]').innerText(), '6 up')
    const events = await text('#events')
    for (const peer of ['r4', 'r6']) t.match(events, new RegExp(`Session with ${peer} .* Established`), `event: ${peer} up`)
    t.match(events, new RegExp(`VIP web ${VIP4.replace(/[.]/g, '\\.')} announced`))
  })

  await t.test('a next hop fails its health check: withdrawn at the router, the page follows live', async (t) => {
    const before = await page.locator('body').getAttribute('data-updated')
    writeFileSync(join(lab.dir, `down-${FAILING}`), '')
    t.same(await waitFor(async () => {
      const gw = await gateways(r, `${VIP4}/32`)
      return gw.length === 2 ? gw : undefined
    }, { timeoutMs: 20_000, what: `BIRD: ${FAILING} withdrawn` }), HOPS4.filter((h) => h !== FAILING), 'the router lost the next hop')
    const st = await porter.status()
    t.match(st.vips.find((v) => v.address === VIP4)?.nextHops.find((n) => n.address === FAILING), { health: 'down', announced: false })

    await until(() => text(`${hopRow(VIP4, FAILING)} td.health`), (s) => s === 'down', 'the page shows the next hop down')
    await until(() => text(`${hopRow(VIP4, FAILING)} td.announced`), (s) => s === 'no', 'the page shows it out of the announcement')
    t.pass('next hop down and withdrawn on the page')
    t.not(await page.locator('body').getAttribute('data-updated'), before, 'updated without a reload')
    for (const hop of HOPS4.filter((h) => h !== FAILING)) t.equal(await text(`${hopRow(VIP4, hop)} td.health`), 'up', `${hop} still up`)
    t.match(await text(`#vips tr[data-vip="${VIP4}"] >> nth=0`), /announced/, 'the VIP stays announced with two next hops')
    t.equal(await page.locator('#health-summary [data-health="down"]').innerText(), '1 down')

    const error = await text(`${hopRow(VIP4, FAILING)} td.error`)
    t.ok(error.includes(PAYLOAD), `the check's error shown as text: ${error}`)
    t.equal(await page.locator('img').count(), 0, 'the payload made no element')
    t.equal(await page.evaluate('window.__xss'), undefined, 'and ran no script')

    const events = await until(() => text('#events'), (s) => s.includes('withdrawn from web'), 'the events of the failure')
    t.match(events, new RegExp(`Next hop ${FAILING.replace(/[.]/g, '\\.')} withdrawn from web ${VIP4.replace(/[.]/g, '\\.')} \\(health check down\\)`))
    t.match(events, new RegExp(`Health check of ${FAILING.replace(/[.]/g, '\\.')} for web ${VIP4.replace(/[.]/g, '\\.')} failed`))
    t.equal(await page.locator('#events li[data-kind="nexthop-withdrawn"]').count(), 1)

    mkdirSync(join(ROOT, 'test', 'artifacts'), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    t.pass(`screenshot: ${SCREENSHOT}`)
  })

  await t.test('the check heals: the next hop is back on the router and on the page', async (t) => {
    rmSync(join(lab.dir, `down-${FAILING}`))
    t.same(await waitFor(async () => {
      const gw = await gateways(r, `${VIP4}/32`)
      return gw.length === 3 ? gw : undefined
    }, { timeoutMs: 20_000, what: `BIRD: ${FAILING} back` }), HOPS4)
    await until(() => text(`${hopRow(VIP4, FAILING)} td.announced`), (s) => s === 'yes', 'the page shows it announced again')
    t.equal(await text(`${hopRow(VIP4, FAILING)} td.health`), 'up')
    await until(() => text('#events'), (s) => s.includes(`Next hop ${FAILING} announced for web ${VIP4}`) && s.includes('passes again'), 'the events of the recovery')
    t.pass('recovery events shown')
  })

  await t.test('no console error, failed request or HTTP error while the page ran', async (t) => {
    t.same(problems, [])
    await browser.close()
  })

  await t.test('SIGTERM: porter exits 0', async (t) => {
    t.equal(await porter.stop(), 0)
  })
})
