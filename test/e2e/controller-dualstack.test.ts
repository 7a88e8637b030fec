// A RequireDualStack LoadBalancer Service (built dist/porter, real kube-apiserver with
// dual-stack Service CIDRs, BIRD 2 with IPv4 and IPv6 channels on one session): one IP per
// family from the Eip of that family, both in the status, each announced with the nodes'
// InternalIP of its own family as next hops.
import t from 'tap'
import { waitFor } from './lib/netns.ts'
import { gateways } from './lib/bgp-lab.ts'
import { kubeLab, list, startController, sliceYaml, eipYaml, waitIngress, NODES, NODES6, PORTER_AS, ROUTER_AS } from './lib/kube-lab.ts'

t.test('dual stack: one IP per family, each announced via next hops of its family', async (t) => {
  const kl = await kubeLab(t, 1, { dualStack: true })
  await kl.apply(list([
    { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpConf', metadata: { name: 'default' }, spec: { as: PORTER_AS, routerId: '192.0.2.2', listenPort: 0 } },
    { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpPeer', metadata: { name: 'leaf1' }, spec: { conf: { peerAs: ROUTER_AS, neighborAddress: '192.0.2.1' }, afiSafis: [
      { config: { family: { afi: 'AFI_IP', safi: 'SAFI_UNICAST' }, enabled: true }, addPaths: { config: { sendMax: 8 } } },
      { config: { family: { afi: 'AFI_IP6', safi: 'SAFI_UNICAST' }, enabled: true }, addPaths: { config: { sendMax: 8 } } },
    ] } },
  ]))
  await kl.apply(eipYaml('v4', '203.0.113.10-203.0.113.20'))
  await kl.apply(eipYaml('v6', '2001:db8:100::10-2001:db8:100::20'))
  await startController(kl, 0, t)
  await kl.bird.waitEstablished(['porter1'])
  await kl.apply(JSON.stringify({
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'ds', namespace: 'default', annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb' } },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'], selector: { app: 'ds' }, ports: [{ port: 80, targetPort: 8080 }] },
  }))
  await kl.apply(sliceYaml('ds', [{ node: 'node-a', ready: true }, { node: 'node-b', ready: true }]))
  const ips = await waitFor(async () => { const v = (await waitIngress(kl, 'ds')).split(' '); return v.length === 2 ? v : undefined }, { timeoutMs: 20_000, what: 'two ingress IPs' })
  t.same(ips, ['203.0.113.10', '2001:db8:100::10'], 'one IP per family, in ipFamilies order')
  const want4 = [NODES['node-a']!, NODES['node-b']!].sort()
  const want6 = [NODES6['node-a']!, NODES6['node-b']!].sort()
  t.same(await waitFor(async () => { const g = await gateways(kl.r, '203.0.113.10/32'); return g.length === 2 ? g : undefined }, { timeoutMs: 20_000, what: 'IPv4 ECMP' }), want4, 'IPv4 VIP via the nodes\' IPv4 InternalIPs')
  t.same(await waitFor(async () => { const g = await gateways(kl.r, '2001:db8:100::10/128'); return g.length === 2 ? g : undefined }, { timeoutMs: 20_000, what: 'IPv6 ECMP' }), want6, 'IPv6 VIP via the nodes\' IPv6 InternalIPs')
})
