// Per-node speaker (issue 11): in agent mode, a `bgp` section makes this node peer with the
// routers itself (internal/bgp, as the controller does) and announce the config VIPs it serves
// with itself as the next hop (next hop self), each while this node's health check of it passes,
// and, with kubernetes.enabled, the LoadBalancer VIPs the agent programs for this node; a VIP is
// announced once it is programmed and withdrawn before it is removed.
// For routers without ADD-PATH, or operators who prefer it. A stop withdraws first (RFC 8326 with
// bgp.gracefulShutdown, else at once), then Cease: a router must not keep a leaving node's
// routes for the graceful-restart time.
import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import type { PeerStatus, VipStatus } from '../admin/status.ts'
import { Speaker, type Advert, type SpeakerConfig } from '../bgp/speaker.ts'
import { HealthMonitor } from '../health/monitor.ts'
import { runCheck, type Checker } from '../health/checks.ts'
import { configVipStatus, speakerConfig, vipAdvertisements, vipKey } from '../controller/advertise.ts'
import { mergeBgp, type MergeResult } from '../controller/merge.ts'
import type { NodePeers } from '../k8s/index.ts'
import { canonicalIp } from '../ip/index.ts'
import { waitPhases } from '../announce/index.ts'
import { GRACEFUL_SHUTDOWN_ATTRS } from '../bgp/rib/index.ts'
import { realClock, type Clock } from '../base/index.ts'

export interface NodeSpeakerDeps {
  log: Logger
  clock?: Clock
  checker?: Checker
}

/**
 * The config as this node announces it: each VIP with only this node's own next hops
 * (agent.nodeAddresses). A `bfd` check is node liveness, the controller's business (this node
 * would check itself): here it is left out.
 */
export function ownView(c: Config): Config {
  const mine = new Set(c.agent.nodeAddresses.map((a) => canonicalIp(a) ?? a))
  const own = <T extends { type: string }>(check: T | undefined) => (check?.type === 'bfd' ? undefined : check)
  return {
    ...c,
    vips: c.vips.map((v) => ({
      ...v,
      check: own(v.check),
      nextHops: v.nextHops.filter((n) => mine.has(canonicalIp(n.address) ?? n.address)).map((n) => ({ ...n, check: own(n.check) })),
    })),
  }
}

/** The node's speaker config: every peer gets next hop self; a stop always withdraws first. */
export function nodeSpeakerConfig(c: Config, fromFile: SpeakerConfig = speakerConfig(c)): SpeakerConfig {
  return {
    ...fromFile,
    gracefulShutdown: fromFile.gracefulShutdown ?? { waitMs: 0 },
    peers: fromFile.peers.map((p) => ({ ...p, nextHop: 'self' as const })),
  }
}

/**
 * The speaker config of this node with its BgpPeers (kubernetes.bgpPeers), by the controller's
 * merge rule (BgpPeers win over the file's peers with the same address); its router ID is its
 * IPv4 InternalIP, else its IPv4 agent.nodeAddresses, else the file's bgp.routerId.
 */
export function nodeBgp(c: Config, kube: NodePeers): MergeResult {
  const routerId = kube.node?.internalIPs.IPv4 ?? c.agent.nodeAddresses.find((a) => !a.includes(':'))
  return mergeBgp(c, c.bgp ? speakerConfig(c) : undefined, kube.crd, { role: 'node', routerId })
}

export class NodeSpeaker {
  private speaker: Speaker | undefined
  private view: Config | undefined
  /** made with the speaker (a stopped monitor does not start again) */
  private health: HealthMonitor | undefined
  private readonly clock: Clock
  /** Kubernetes VIPs this node announces (the agent's Kubernetes source decides: endpoints, policy) */
  private k8sVips: readonly string[] = []
  /** what the kernel has: a VIP is announced only once programmed */
  private programmed: ReadonlySet<string> = new Set()
  /** of k8sVips, those served only through serving-terminating endpoints; when each was first seen so; the timer of the next wait's end */
  private draining: readonly string[] = []
  private drainSince: ReadonlyMap<string, number> = new Map()
  private drainTimer: unknown

  constructor(private readonly deps: NodeSpeakerDeps) {
    this.clock = deps.clock ?? realClock
  }

  /**
   * The agent's view: its Kubernetes VIPs and what is programmed. Call it with what is about to
   * go before removing it from the kernel (withdraw first), and with what came after programming it.
   */
  update(k8sVips: readonly string[], programmed: ReadonlySet<string>, draining: readonly string[] = []): void {
    this.k8sVips = k8sVips
    this.programmed = programmed
    this.draining = draining
    this.announce()
  }

  get active(): boolean {
    return this.speaker !== undefined
  }

  private announce(): void {
    const { view, speaker, health, programmed } = this
    if (!view || !speaker || !health) return
    const advs: Advert[] = []
    for (const a of vipAdvertisements(view, (vip, nh) => health.healthy(vip, nh))) {
      const prefixes = a.prefixes.filter((p) => programmed.has(p))
      if (prefixes.length) advs.push(prefixes.length === a.prefixes.length ? a : { ...a, prefixes })
    }
    const k8s = this.k8sVips.filter((p) => programmed.has(p))
    const leaving = new Set(this.draining)
    // next hop self: the speaker puts its own session address; a next hop of each family must
    // still be given (the RIB takes a prefix's next hops of its own family), so the VIPs stand in
    const self = (prefixes: string[], attrs?: typeof GRACEFUL_SHUTDOWN_ATTRS) => {
      if (!prefixes.length) return
      const v4 = prefixes.find((p) => !p.includes(':'))
      const v6 = prefixes.find((p) => p.includes(':'))
      advs.push({ prefixes, nextHops: [v4, v6].filter((x): x is string => x !== undefined), ...(attrs ? { attrs } : {}) })
    }
    self(k8s.filter((p) => !leaving.has(p)))
    // kubernetes.drainTerminating: the VIPs whose endpoints here all terminate, tagged for at
    // most the wait while they serve (RFC 8326); without it they are withdrawn at once
    const dt = view.kubernetes.drainTerminating
    this.clock.clearTimeout(this.drainTimer)
    this.drainTimer = undefined
    if (dt?.enabled) {
      const now = this.clock.now()
      const w = waitPhases(k8s.filter((p) => leaving.has(p)), this.drainSince, now, dt.wait)
      this.drainSince = w.since
      if (w.nextAt !== undefined) this.drainTimer = this.clock.setTimeout(() => { this.drainTimer = undefined; this.announce() }, w.nextAt - now)
      self([...w.within], GRACEFUL_SHUTDOWN_ATTRS)
    }
    speaker.set(advs)
  }

  /**
   * Start, reconfigure or stop (no `bgp` section and no BgpPeer for this node), from a valid
   * config; `merged`: the speaker config with this node's BgpPeers (kubernetes.bgpPeers), which
   * replaces the file's. Throws (nothing changed) on a bad key file.
   */
  async apply(c: Config, merged?: SpeakerConfig): Promise<void> {
    if (!c.bgp && !merged?.peers.length) {
      if (this.speaker) this.deps.log.info('no bgp section and no BgpPeer for this node: it withdraws its VIPs and closes its BGP sessions')
      await this.stop()
      return
    }
    const sc = nodeSpeakerConfig(c, merged) // reads MD5 key files: may throw
    const view = ownView(c)
    this.view = view
    this.health ??= new HealthMonitor({ clock: this.clock, checker: this.deps.checker ?? runCheck, log: this.deps.log, onChange: () => this.announce() })
    this.health.configure(view, vipKey)
    if (!this.speaker) {
      const s = new Speaker(sc, { log: this.deps.log, clock: this.clock })
      this.speaker = s
      this.announce()
      try {
        await s.start()
      } catch (e) {
        this.speaker = undefined
        throw e
      }
      this.deps.log.info({ peers: sc.peers.map((p) => p.name), vips: view.vips.filter((v) => v.nextHops.length > 0).length }, 'per-node speaker running: this node announces its VIPs itself (next hop self)')
    } else {
      await this.speaker.reconfigure(sc)
      this.announce()
    }
  }

  /** Withdraw everything (after the graceful-shutdown wait, if configured), then Cease. */
  async stop(): Promise<void> {
    const { speaker, health } = this
    this.speaker = this.health = this.view = undefined
    this.clock.clearTimeout(this.drainTimer)
    await health?.stop()
    await speaker?.stop()
  }

  /** the node's sessions, and its config VIPs as the controller shows them (health, which peer has what) */
  status(): { peers: PeerStatus[]; vips: VipStatus[] } | undefined {
    const { speaker, health, view } = this
    if (!speaker || !health || !view) return undefined
    // the VIPs this node serves (the view keeps the others, without next hops, for their indices)
    return { peers: speaker.status(), vips: configVipStatus(view, health, (host) => speaker.sentTo(host)).filter((v) => v.nextHops.length > 0) }
  }
}
