// The router configurations of docs/routers.md, exactly as documented, against the built
// dist/porter running the Porter config documented beside them: the session comes up and the
// router's kernel FIB has one ECMP route with the three documented next hops. (Parsing alone is
// in test/unit/docs-examples.test.ts; this proves the snippets do what the page says.)
import t, { type Test } from 'tap'
import { chownSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLab, waitFor, type Lab } from './lib/netns.ts'
import { Bird } from './lib/bird.ts'
import { Frr, frrIds } from './lib/frr.ts'
import { PorterProc } from './lib/porter.ts'
import { gateways } from './lib/bgp-lab.ts'
import { builtPorter } from '../lib/dist.ts'
import { docBlock, where } from '../lib/markdown.ts'

const DOC = 'docs/routers.md'
const porterConfig = docBlock(DOC, 'yaml', '# porter.yaml')
const HOPS = ['192.0.2.11', '192.0.2.12', '192.0.2.13']

/** the documented topology: the router 192.0.2.254 and Porter 192.0.2.1 on one link */
async function topology(lab: Lab): Promise<{ r: string; p: string }> {
  const r = await lab.ns('r')
  const p = await lab.ns('p')
  await lab.veth({ ns: r, ifname: 'eth0' }, { ns: p, ifname: 'eth0' })
  await lab.addr(r, 'eth0', '192.0.2.254/24')
  await lab.addr(p, 'eth0', '192.0.2.1/24')
  return { r, p }
}

async function porterEcmp(t: Test, lab: Lab, r: string, p: string): Promise<void> {
  t.match(porterConfig.text, /address: 192\.0\.2\.254/, `${where(porterConfig)} is the documented peer`)
  // one more VIP, outside the documented import filter: the router must refuse it
  const config = `${porterConfig.text.trimEnd()}\n  - name: outside\n    address: 198.51.100.77\n    nextHops: [192.0.2.11]\n`
  const porter = new PorterProc(lab, p, config, 'controller', builtPorter(lab.dir))
  t.teardown(() => porter.cleanup())
  await porter.start()
  const st = await porter.waitPeers('Established', 60_000)
  t.equal(st.peers[0]?.ecmp, 'add-path', 'ADD-PATH negotiated with the documented router config')
  const g = await waitFor(async () => { const x = await gateways(r, '203.0.113.10/32'); return x.length === 3 ? x : undefined }, { timeoutMs: 30_000, what: 'ECMP route in the router FIB' })
  t.same(g, HOPS, 'one route, three next hops')
  t.ok((await porter.status()).vips.some((v) => v.address === '198.51.100.77' && v.announced), 'Porter announces the VIP outside the filter')
  t.same(await gateways(r, '198.51.100.77/32'), [], '... and the documented import filter keeps it out of the FIB')
}

t.test('BIRD 2 with the documented configuration', async (t) => {
  const block = docBlock(DOC, 'bird')
  const lab = createLab(t)
  const { r, p } = await topology(lab)
  const bird = new Bird(lab, { ns: r, as: 64513, routerId: '192.0.2.254', peers: [] })
  writeFileSync(bird.configFile, block.text)
  await bird.start()
  await porterEcmp(t, lab, r, p)
  await bird.waitEstablished(['porter'])
})

t.test('FRR with the documented configuration', async (t) => {
  const block = docBlock(DOC, 'frr')
  const lab = createLab(t)
  const { r, p } = await topology(lab)
  const frr = new Frr(lab, { ns: r, as: 64513, routerId: '192.0.2.254', peers: [] })
  const conf = join(frr.dir, 'bgpd.conf')
  writeFileSync(conf, block.text, { mode: 0o640 })
  const { uid, gid } = frrIds()
  chownSync(conf, uid, gid)
  await frr.start()
  await porterEcmp(t, lab, r, p)
  await frr.waitEstablished(['192.0.2.1'])
})
