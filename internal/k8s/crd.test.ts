// CRD converters: OpenELB's samples convert as they are; every problem names its field path;
// fields Porter does not act on are listed, never dropped.
import t from 'tap'
import { toEipInfo, toBgpConfInfo, toBgpPeerInfo, matchesSelector, peeredBy, SPEAKER_ANNOTATION } from './crd.ts'

t.test('Eip: OpenELB samples and errors with field paths', async (t) => {
  const sample = toEipInfo({ metadata: { name: 'eip-sample-pool', annotations: { 'eip.openelb.kubesphere.io/is-default-eip': 'true' } }, spec: { address: '192.0.2.91-192.0.2.100', protocol: 'bgp', disable: false } })!
  t.same(sample.errors, [])
  t.equal(sample.pool?.range.size, 10n, 'first-last range size')
  t.equal(sample.pool?.isDefault, true, 'default annotation')
  t.equal(sample.pool?.priority, 0)
  const l2 = toEipInfo({ metadata: { name: 'l2' }, spec: { address: '192.0.2.0/28', protocol: 'layer2', interface: 'eth0' } })!
  t.equal(l2.pool, undefined, 'layer2 gives no IPs')
  t.match(l2.unsupported, /layer2.*not supported/)
  t.same(l2.ignored, ['spec.interface'], 'interface is accepted and listed as ignored')
  const bad = toEipInfo({ metadata: { name: 'bad' }, spec: { address: '192.0.2.20-192.0.2.10', priority: 'x' } })!
  t.same(bad.errors.map((e) => e.path), ['spec.address', 'spec.priority'])
  t.equal(bad.pool, undefined)
  const v6 = toEipInfo({ metadata: { name: 'v6' }, spec: { address: '2001:db8:1::/64', namespaces: ['a'], namespaceSelector: { matchLabels: { team: 'x' } } } })!
  t.equal(v6.pool?.range.family, 'IPv6')
  t.same(v6.pool?.namespaces, ['a'])
  t.same(v6.pool?.namespaceSelector, { matchLabels: { team: 'x' } })
  t.equal(toEipInfo({ metadata: {} }), undefined, 'no name')
})

t.test('BgpConf and BgpPeer', async (t) => {
  const conf = toBgpConfInfo({ metadata: { name: 'default' }, spec: { as: 50001, listenPort: 17900, routerId: '192.0.2.10', asPerRack: { x: 1 } } })!
  t.same(conf.global, { as: 50001, listenPort: 17900, routerId: '192.0.2.10' })
  t.same(conf.ignored, ['spec.asPerRack.x'])
  const badConf = toBgpConfInfo({ metadata: { name: 'default' }, spec: { as: 0, routerId: '2001:db8::1', listenPort: 70000 } })!
  t.same(badConf.errors.map((e) => e.path), ['spec.as', 'spec.routerId', 'spec.listenPort'])

  const peer = toBgpPeerInfo({ metadata: { name: 'bgppeer-sample' }, spec: { conf: { peerAs: 50000, neighborAddress: '192.0.2.20' } } })!
  t.same(peer.errors, [])
  t.equal(peer.address, '192.0.2.20')
  t.equal(peer.addPath, undefined, 'no afiSafis: default')
  const full = toBgpPeerInfo({ metadata: { name: 'p' }, spec: {
    conf: { peerAs: 65001, neighborAddress: '2001:DB8::2', authPasswordSecretRef: { name: 's', namespace: 'porter-system' }, peerGroup: 'x' },
    transport: { passiveMode: true, remotePort: 1790 }, timers: { config: { holdTime: 9, keepaliveInterval: 3 } },
    afiSafis: [{ config: { family: { afi: 'AFI_IP', safi: 'SAFI_UNICAST' }, enabled: true }, addPaths: { config: { sendMax: 8 } } }],
    nodeSelector: { matchLabels: { rack: 'r1' } }, ebgpMultihop: { config: { enabled: true, multihopTtl: 3 } },
  } })!
  t.same(full.errors, [])
  t.equal(full.address, '2001:db8::2', 'canonical neighbour address')
  t.same([full.passive, full.port, full.holdTime, full.addPath, full.families], [true, 1790, 9, true, ['ipv4-unicast']])
  t.same(full.secretRef, { name: 's', namespace: 'porter-system', key: 'password' })
  t.same(full.ignored.sort(), ['spec.conf.peerGroup', 'spec.timers.config.keepaliveInterval'])
  t.equal(full.ebgpMultihop, 3, 'ebgpMultihop.config.multihopTtl is the TTL')
  const gtsm = toBgpPeerInfo({ metadata: { name: 'g' }, spec: { conf: { peerAs: 65001, neighborAddress: '192.0.2.2' }, ttlSecurity: { config: { enabled: true, ttlMin: 250 } }, ebgpMultihop: { config: { enabled: false, multihopTtl: 9 } } } })!
  t.same([gtsm.ttlSecurity, gtsm.ebgpMultihop, gtsm.errors], [true, undefined, []], 'GTSM on; multihop disabled is no multihop')
  t.same(gtsm.ignored, ['spec.ttlSecurity.config.ttlMin'], 'ttlMin is not used (Porter accepts 254 and above)')
  t.equal(toBgpPeerInfo({ metadata: { name: 'm' }, spec: { conf: { peerAs: 65001, neighborAddress: '192.0.2.2' }, ebgpMultihop: { config: { enabled: true } } } })!.ebgpMultihop, 255, 'enabled without a TTL: 255, as GoBGP')
  const both = toBgpPeerInfo({ metadata: { name: 'x' }, spec: { conf: { peerAs: 65001, neighborAddress: '192.0.2.2' }, ttlSecurity: { config: { enabled: true } }, ebgpMultihop: { config: { enabled: true, multihopTtl: 300 } } } })!
  t.same(both.errors.map((e) => e.path), ['spec.ebgpMultihop.config.multihopTtl'], 'a TTL out of range')
  const both2 = toBgpPeerInfo({ metadata: { name: 'y' }, spec: { conf: { peerAs: 65001, neighborAddress: '192.0.2.2' }, ttlSecurity: { config: { enabled: true } }, ebgpMultihop: { config: { enabled: true, multihopTtl: 2 } } } })!
  t.same(both2.errors.map((e) => e.path), ['spec.ttlSecurity.config.enabled'], 'GTSM and multihop exclude each other')
  const bad = toBgpPeerInfo({ metadata: { name: 'b' }, spec: { conf: { neighborAddress: '300.1.1.1', authPassword: 'x', authPasswordSecretRef: { name: 's', namespace: 'n' } }, timers: { config: { holdTime: 2 } } } })!
  t.same(bad.errors.map((e) => e.path), ['spec.conf.neighborAddress', 'spec.conf.peerAs', 'spec.conf.authPassword', 'spec.timers.config.holdTime'])
})

t.test('label selectors', async (t) => {
  const l = { rack: 'r1', zone: 'a' }
  t.ok(matchesSelector({}, l), 'empty selects all')
  t.ok(matchesSelector({ matchLabels: { rack: 'r1' } }, l))
  t.notOk(matchesSelector({ matchLabels: { rack: 'r2' } }, l))
  t.ok(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }, l))
  t.notOk(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, l))
  t.ok(matchesSelector({ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }, l))
  t.notOk(matchesSelector({ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }, l))
})

t.test('BgpPeer speaker annotation: who peers with it', async (t) => {
  const peer = (speaker?: string, nodeSelector?: object) => toBgpPeerInfo({ metadata: { name: 'p', ...(speaker !== undefined ? { annotations: { [SPEAKER_ANNOTATION]: speaker } } : {}) }, spec: { conf: { peerAs: 65001, neighborAddress: '192.0.2.1' }, ...(nodeSelector ? { nodeSelector } : {}) } })!
  const ctl = { role: 'controller' as const }
  const node = (labels: Record<string, string>) => ({ role: 'node' as const, labels, routerId: undefined })
  t.ok(peeredBy(peer(), ctl), 'no annotation: the controller')
  t.notOk(peeredBy(peer(), node({})), 'no annotation: no node')
  t.ok(peeredBy(peer('controller'), ctl), '"controller" as default')
  const pn = peer('node', { matchLabels: { rack: 'r1' } })
  t.same(pn.errors, [])
  t.equal(pn.perNode, true)
  t.notOk(peeredBy(pn, ctl), '"node": not the controller')
  t.ok(peeredBy(pn, node({ rack: 'r1' })), 'a node its nodeSelector selects')
  t.notOk(peeredBy(pn, node({ rack: 'r2' })), 'a node it does not select')
  t.ok(peeredBy(peer('node'), node({})), 'no nodeSelector: every node')
  const bad = peer('nodes')
  t.same(bad.errors.map((e) => e.path), [`metadata.annotations["${SPEAKER_ANNOTATION}"]`], 'another value: an error at the annotation')
  t.match(bad.errors[0]!.message, /"controller".*"node"/)
})
