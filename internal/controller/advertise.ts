// Config -> speaker inputs. Pure.
import { PorterError } from '../errors/index.ts'
import { bfdAuthOf, readSecret } from '../config/secret.ts'
import type { Config, ExportAttrsConfig } from '../config/index.ts'
import type { SpeakerConfig, AdvertisementBatch } from '../bgp/speaker.ts'
import type { FamilyKey } from '../bgp/wire/types.ts'
import type { VipStatus } from '../admin/status.ts'
import { canonicalIp } from '../ip/index.ts'

const toExport = (e: ExportAttrsConfig) => ({
  communities: [...e.communities],
  largeCommunities: [...e.largeCommunities],
  med: e.med,
  localPref: e.localPref,
  asPathPrepend: e.asPathPrepend,
})

/** Speaker config from the `bgp` section. MD5 keys are read from their files here (never logged). */
export function speakerConfig(cfg: Config, readKey: (path: string) => Uint8Array = readKeyFile): SpeakerConfig {
  const b = cfg.bgp
  if (!b) throw new PorterError('PORTER_ERR_CONFIG_INVALID', 'Controller mode needs a "bgp" section in the config')
  const vipFamilies = new Set<FamilyKey>()
  for (const v of cfg.vips) for (const a of v.address) vipFamilies.add(a.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast')
  return {
    localAs: b.localAs,
    routerId: b.routerId,
    listenAddress: b.listenAddress,
    listenPort: b.listenPort,
    gracefulRestart: { ...b.gracefulRestart },
    ...(b.gracefulShutdown?.enabled ? { gracefulShutdown: { waitMs: b.gracefulShutdown.wait } } : {}),
    peers: b.peers.map((p, i) => ({
      name: p.name ?? p.address,
      address: p.address,
      peerAs: p.peerAs,
      port: p.port,
      passive: p.passive,
      holdTime: p.holdTime ?? b.holdTime,
      connectRetry: p.connectRetry ?? b.connectRetry,
      families: p.families ? [...p.families] : vipFamilies.size ? [...vipFamilies].sort() : ['ipv4-unicast'],
      addPath: p.addPath,
      maxPrefixes: p.maxPrefixes,
      nextHop: p.nextHop,
      localAddress: p.localAddress,
      ebgpMultihop: p.ebgpMultihop,
      ttlSecurity: p.ttlSecurity,
      bfd: p.bfd?.enabled ? {
        minTx: p.bfd.minTx, minRx: p.bfd.minRx, multiplier: p.bfd.multiplier,
        ...(p.bfd.auth ? { auth: bfdAuthOf(p.bfd.auth, `bgp.peers[${i}].bfd.auth`) } : {}),
      } : undefined,
      md5Key: p.passwordFile ? readKey(p.passwordFile) : undefined,
      export: toExport(p.export),
    })),
  }
}

function readKeyFile(path: string): Uint8Array {
  return readSecret(path, 'TCP MD5 key', 80)
}

/** Next-hop health: (VIP key, next hop address) -> healthy. A next hop without a check is healthy. */
export type HealthView = (vipName: string, nextHop: string) => boolean

export function vipKey(v: Config['vips'][number], i: number): string {
  return v.name ?? `vips[${i}]`
}

/** The healthy next hops of `vips[i]` (both families). */
export function healthyNextHops(cfg: Config, i: number, healthy: HealthView = () => true): string[] {
  const v = cfg.vips[i]!
  const key = vipKey(v, i)
  return v.nextHops.filter((n) => healthy(key, n.address)).map((n) => n.address)
}

/**
 * Advertisements for the `vips` section: one batch per entry, its addresses (canonical host
 * addresses, as the config holds them: no copy per address) with its healthy next hops, each
 * address taking those of its own family; none healthy = withdrawn.
 */
export function vipAdvertisements(cfg: Config, healthy: HealthView = () => true): AdvertisementBatch[] {
  const out: AdvertisementBatch[] = []
  cfg.vips.forEach((v, i) => {
    const nextHops = healthyNextHops(cfg, i, healthy)
    if (nextHops.length > 0) out.push({ prefixes: v.address, nextHops, attrs: toExport(v.export) })
  })
  return out
}

/** What `configVipStatus` needs of the health checks (HealthMonitor) */
export interface VipHealthView {
  healthy: HealthView
  describe(vip: string, nextHop: string): Pick<VipStatus['nextHops'][number], 'health' | 'lastError' | 'bfd'>
}

/**
 * `porter status` of the config's VIPs: per address, whether it is announced (some healthy next
 * hop of its family) and, per next hop, its health and the peers that really have it (`sentTo`:
 * the speaker's view; without ADD-PATH a peer gets one of several next hops).
 */
export function configVipStatus(cfg: Config, health: VipHealthView, sentTo: (prefix: string) => { peer: string; nextHops: string[] }[]): VipStatus[] {
  return cfg.vips.flatMap((v, i) => {
    const up = new Set(healthyNextHops(cfg, i, (vip, nh) => health.healthy(vip, nh)))
    const upFam = { v4: [...up].some((n) => !n.includes(':')), v6: [...up].some((n) => n.includes(':')) }
    return v.address.map((host) => {
      const v6 = host.includes(':')
      const announced = v6 ? upFam.v6 : upFam.v4
      const sent = sentTo(host)
      const holding = (nh?: string) => sent.filter((x) => (nh === undefined ? x.nextHops.length > 0 : x.nextHops.includes(nh))).map((x) => x.peer)
      return {
        ...(v.name !== undefined ? { name: v.name } : {}),
        address: host,
        announced,
        peers: holding(),
        nextHops: v.nextHops.filter((n) => n.address.includes(':') === v6).map((n) => ({
          address: n.address, ...health.describe(vipKey(v, i), n.address), announced: announced && up.has(n.address),
          peers: holding(canonicalIp(n.address) ?? n.address),
        })),
      }
    })
  })
}
