// PURE: the config file's `bgp` section and the CRDs into one speaker config. The one rule:
//
//   Kubernetes objects win. A field set in the BgpConf named "default" replaces the same
//   setting of the config file (as -> localAs, routerId, listenPort, listenAddresses[0] ->
//   listenAddress, gracefulRestart); a BgpPeer replaces a config-file peer with the same
//   neighbour address; everything else from both is kept. Settings neither gives take the
//   config file's defaults.
//
// An invalid BgpConf or BgpPeer is left out (its status says why); the rest still applies.
import type { Config } from '../config/index.ts'
import type { SpeakerConfig, SpeakerPeerConfig } from '../bgp/speaker.ts'
import type { FamilyKey } from '../bgp/wire/types.ts'
import { canonicalIp } from '../ip/index.ts'
import type { CrdBgp } from './kube.ts'

const DEFAULTS = { holdTime: 90, connectRetry: 120, listenAddress: '0.0.0.0', listenPort: 179, gracefulRestart: { enabled: true, restartTime: 120 } }
const ALL_FAMILIES: FamilyKey[] = ['ipv4-unicast', 'ipv6-unicast']

export type MergeResult = { ok: true; config: SpeakerConfig } | { ok: false; reason: string }

/**
 * `fromFile`: the speaker config of the config file's `bgp` section (advertise.ts speakerConfig),
 * undefined when the file has none. `crd` undefined: Kubernetes is off.
 */
export function mergeBgp(cfg: Config, fromFile: SpeakerConfig | undefined, crd: CrdBgp | undefined): MergeResult {
  const g = crd?.conf && crd.conf.errors.length === 0 ? crd.conf.global : {}
  const localAs = g.as ?? fromFile?.localAs
  const routerId = g.routerId ?? fromFile?.routerId
  if (localAs === undefined || routerId === undefined) {
    return { ok: false, reason: 'no local AS and router ID: set bgp.localAs and bgp.routerId in the config file, or spec.as and spec.routerId in the BgpConf named "default"' }
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
    if (p.errors.length || p.address === undefined || p.peerAs === undefined) continue
    if (p.secretRef && !crd!.keys.has(p.name)) continue // its key is not readable: no unsigned session instead
    const key = p.secretRef ? crd!.keys.get(p.name) : p.inlinePassword ? new TextEncoder().encode(p.inlinePassword) : undefined
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
      export: { communities: [], largeCommunities: [] },
    })
  }
  return {
    ok: true,
    config: {
      localAs,
      routerId,
      listenAddress: g.listenAddresses?.[0] ?? fromFile?.listenAddress ?? DEFAULTS.listenAddress,
      listenPort: g.listenPort ?? fromFile?.listenPort ?? DEFAULTS.listenPort,
      gracefulRestart,
      ...(fromFile?.gracefulShutdown ? { gracefulShutdown: fromFile.gracefulShutdown } : {}),
      peers: [...peers.values()],
    },
  }
}
