// Porter's BGP speaker against a real BIRD 2 in network namespaces.
import t from 'tap'
import { createLab, waitFor, type Lab } from './lib/netns.ts'
import { Bird } from './lib/bird.ts'
import { PorterProc } from './lib/porter.ts'

const ROUTER_AS = 65001
const PORTER_AS = 65002

async function topology(lab: Lab) {
  const r = await lab.ns('r')
  const p = await lab.ns('p')
  await lab.veth({ ns: r, ifname: 'eth0' }, { ns: p, ifname: 'eth0' })
  await lab.addr(r, 'eth0', '192.0.2.1/24')
  await lab.addr(r, 'eth0', '2001:db8::1/64')
  await lab.addr(p, 'eth0', '192.0.2.2/24')
  await lab.addr(p, 'eth0', '2001:db8::2/64')
  return { r, p }
}

t.test('porter <-> BIRD: IPv4 and IPv6 sessions reach Established', async (t) => {
  const lab = createLab(t)
  const { r, p } = await topology(lab)
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4' },
    { address: '2001:db8::2', as: PORTER_AS, passive: true, name: 'porter6', families: ['ipv6'] },
  ] })
  await bird.start()
  const porter = new PorterProc(lab, p, `
bgp:
  localAs: ${PORTER_AS}
  routerId: 192.0.2.2
  listenPort: 0
  holdTime: 9
  connectRetry: 1
  peers:
    - { name: bird4, address: 192.0.2.1, peerAs: ${ROUTER_AS} }
    - { name: bird6, address: "2001:db8::1", peerAs: ${ROUTER_AS}, families: [ipv6-unicast] }
`)
  t.teardown(() => porter.cleanup())
  await porter.start()
  const st = await porter.waitPeers('Established')
  t.equal(st.peers.length, 2)
  await bird.waitEstablished()
  t.equal(await porter.stop(), 0)
})
