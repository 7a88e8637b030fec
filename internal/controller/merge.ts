// PURE: the config file's `bgp` section and the CRDs into one speaker config. The one rule:
//
//   Kubernetes objects win. A field set in the BgpConf named "default" replaces the same
//   setting of the config file (as -> localAs, routerId, listenPort, listenAddresses[0] ->
//   listenAddress, gracefulRestart); a BgpPeer replaces a config-file peer with the same
//   neighbour address, which still gives what a BgpPeer cannot say (bfd, maxPrefixes, export,
//   localAddress); everything else from both is kept. Settings neither gives take the
//   config file's defaults.
//
// An invalid BgpConf or BgpPeer is left out (its status says why); the rest still applies.
//
// Who peers with a BgpPeer (annotation porter.kubesphere.io/speaker): the controller replicas
// (default), or, for `node`, the agent of every node its nodeSelector selects (per-node speaker:
// next hop self, the node's own router ID, dialling out unless its config file's `bgp` listens).
import type { Config } from '../config/index.ts'
import type { SpeakerConfig, SpeakerPeerConfig } from '../bgp/speaker.ts'
import type { FamilyKey } from '../bgp/wire/types.ts'
import { canonicalIp } from '../ip/index.ts'
import type { CrdBgp } from '../k8s/crd.ts'

const DEFAULTS = { holdTime: 90, connectRetry: 120, listenAddress: '0.0.0.0', listenPort: 179, gracefulRestart: { enabled: true, restartTime: 120 } }
const ALL_FAMILIES: FamilyKey[] = ['ipv4-unicast', 'ipv6-unicast']

/**
 * for whom: the controller (every BgpPeer but the per-node ones), or one node's agent (`crd` holds
 * the per-node BgpPeers that select it: k8s/crd.ts peeredBy) with its own router ID
 */
export type MergeFor = { role: 'controller' } | { role: 'node'; routerId: string | undefined }
const CONTROLLER: MergeFor = { role: 'controller' }

export type MergeResult = { ok: true; config: SpeakerConfig } | { ok: false; reason: string }

/**
 * `fromFile`: the speaker config of the config file's `bgp` section (advertise.ts speakerConfig),
 * undefined when the file has none. `crd` undefined: Kubernetes is off.
 */
export function mergeBgp(cfg: Config, fromFile: SpeakerConfig | undefined, crd: CrdBgp | undefined, who: MergeFor = CONTROLLER): MergeResult {
  const g = crd?.conf && crd.conf.errors.length === 0 ? crd.conf.global : {}
  const node = who.role === 'node'
  const localAs = g.as ?? fromFile?.localAs
  // the BgpConf's router ID and listening socket are the controller's: every node has its own ID
  // and dials out unless its config file's `bgp` section says otherwise
  const routerId = node ? who.routerId ?? fromFile?.routerId : g.routerId ?? fromFile?.routerId
  if (localAs === undefined || routerId === undefined) {
    return {
      ok: false,
      reason: node
        ? 'no local AS and router ID for this node: set spec.as in the BgpConf named "default" (or bgp.localAs), and give the node an IPv4 InternalIP or agent.nodeAddresses (its router ID)'
        : 'no local AS and router ID: set bgp.localAs and bgp.routerId in the config file, or spec.as and spec.routerId in the BgpConf named "default"',
    }
  }
  const grFile = fromFile?.gracefulRestart ?? DEFAULTS.gracefulRestart
  const gracefulRestart = g.gracefulRestart
    ? { enabled: g.gracefulRestart.enabled, restartTime: g.gracefulRestart.restartTime ?? grFile.restartTime }
    : { ...grFile }
  const holdTime = cfg.bgp?.holdTime ?? DEFAULTS.holdTime
  const connectRetry = cfg.bgp?.connectRetry ?? DEFAULTS.connectRetry
  const peers = new Map<string, SpeakerPeerConfig>()
  for (const p of fromFile?.peers ?? []) peers.set(canonicalIp(p.address) ?? p.address, p)
  for (const p of crd?.peers ?? []) {
    if ((p.perNode === true) !== node) continue
    if (p.errors.length || p.address === undefined || p.peerAs === undefined) continue
    if (p.secretRef && !crd!.keys.has(p.name)) continue // its key is not readable: no unsigned session instead
    const key = p.secretRef ? crd!.keys.get(p.name) : p.inlinePassword ? new TextEncoder().encode(p.inlinePassword) : undefined
    const file = peers.get(p.address) // the file's settings a BgpPeer has no field for
    peers.set(p.address, {
      name: p.name,
      address: p.address,
      peerAs: p.peerAs,
      port: p.port ?? 179,
      passive: p.passive ?? false,
      holdTime: p.holdTime ?? holdTime,
      connectRetry,
      families: p.families ?? ALL_FAMILIES,
      addPath: p.addPath ?? true,
      nextHop: 'as-given',
      ...(key ? { md5Key: key } : {}),
      ...(p.ebgpMultihop !== undefined ? { ebgpMultihop: p.ebgpMultihop } : {}),
      ...(p.ttlSecurity ? { ttlSecurity: true } : {}),
      export: file?.export ?? { communities: [], largeCommunities: [] },
      ...(file?.bfd ? { bfd: file.bfd } : {}),
      ...(file?.maxPrefixes !== undefined ? { maxPrefixes: file.maxPrefixes } : {}),
      ...(file?.localAddress !== undefined ? { localAddress: file.localAddress } : {}),
    })
  }
  return {
    ok: true,
    config: {
      localAs,
      routerId,
      listenAddress: (node ? undefined : g.listenAddresses?.[0]) ?? fromFile?.listenAddress ?? DEFAULTS.listenAddress,
      listenPort: node ? fromFile?.listenPort ?? 0 : g.listenPort ?? fromFile?.listenPort ?? DEFAULTS.listenPort,
      gracefulRestart,
      ...(fromFile?.gracefulShutdown ? { gracefulShutdown: fromFile.gracefulShutdown } : {}),
      peers: [...peers.values()],
    },
  }
}
