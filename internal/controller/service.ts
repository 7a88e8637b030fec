// Controller mode as a daemon Service: the BGP speaker fed by
//   - the config file's VIPs, each with its healthy next hops, and
//   - with kubernetes.enabled, the LoadBalancer Services (kube.ts): IPs allocated from Eips,
//     written to Service status by the leader, announced by every replica with the nodes that
//     should get their traffic as next hops.
// The speaker's settings come from the config file's `bgp` section merged with the BgpConf and
// BgpPeer objects (merge.ts has the rule).
import { isDeepStrictEqual } from 'node:util'
import { hostname } from 'node:os'
import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import type { Service } from '../daemon/run.ts'
import type { ControllerStatus } from '../admin/index.ts'
import { Speaker, type Advertisement, type SpeakerConfig } from '../bgp/speaker.ts'
import { realClock, type Clock } from '../base/index.ts'
import { canonicalIp } from '../ip/index.ts'
import { HealthMonitor } from '../health/monitor.ts'
import { BfdService, type BfdTimersMs } from '../bfd/index.ts'
import { nextHopSessions, nodeSessions } from '../config/liveness.ts'
import { runCheck, type Checker } from '../health/checks.ts'
import { configVipStatus, speakerConfig, vipAdvertisements, vipKey } from './advertise.ts'
import { mergeBgp } from './merge.ts'
import type { CrdBgp, KubeController, PeerView } from './kube.ts'

export interface ControllerDeps {
  log: Logger
  clock?: Clock
  checker?: Checker
  env?: Readonly<Record<string, string | undefined>>
}

/** how long start() waits for the first Kubernetes sync before the daemon reports ready */
const FIRST_SYNC_WAIT_MS = 10_000

export function createControllerService(deps: ControllerDeps): Service {
  const clock = deps.clock ?? realClock
  const env = deps.env ?? process.env
  let cfg: Config | undefined
  let speaker: Speaker | undefined
  let kube: KubeController | undefined
  let crd: CrdBgp | undefined
  let k8sAdvs: Advertisement[] = []
  let speakerProblem: string | undefined
  let queue: Promise<void> = Promise.resolve()
  /** kubernetes.nodeLiveness's sessions, key read */
  let nodeLive: BfdTimersMs | undefined

  /** kubernetes.nodeLiveness: a Service's next hops are the nodes whose BFD session is Up */
  const liveK8sAdvs = (): Advertisement[] => {
    if (!cfg?.kubernetes.nodeLiveness) return k8sAdvs
    return k8sAdvs.map((a) => ({ ...a, nextHops: a.nextHops.filter((n) => health.live(n)) })).filter((a) => a.nextHops.length > 0)
  }
  const announce = () => {
    if (!cfg || !speaker) return
    // a prefix in both sets gets the union of its next hops (the speaker's rule for a prefix given twice)
    speaker.set([...vipAdvertisements(cfg, (v, nh) => health.healthy(v, nh)), ...liveK8sAdvs()])
  }
  /** the nodes to keep BFD with: every Service next hop, with kubernetes.nodeLiveness */
  const watchNodes = () => health.setNodes(new Set(k8sAdvs.flatMap((a) => a.nextHops)), nodeLive)
  // one BFD service (one socket on port 3784) for the BGP peers' sessions and the next hops' (node liveness)
  const bfd = new BfdService({ log: deps.log, clock })
  const health = new HealthMonitor({ clock, checker: deps.checker ?? runCheck, log: deps.log, onChange: announce, bfd })

  /** Build or reconfigure the speaker from the file and the CRDs. Throws on a file problem (reload keeps the old config). */
  async function applySpeaker(c: Config, fromFile: SpeakerConfig | undefined): Promise<void> {
    const m = mergeBgp(c, fromFile, crd)
    if (!m.ok) {
      if (speakerProblem !== m.reason) deps.log.warn({ reason: m.reason }, 'BGP is not configured yet: nothing is announced')
      speakerProblem = m.reason
      return
    }
    speakerProblem = undefined
    if (!speaker) {
      const s = new Speaker(m.config, { log: deps.log, clock, bfd })
      s.setNextHopFilters(crd?.nextHopFilters ?? new Map())
      speaker = s
      announce()
      try {
        await s.start()
      } catch (e) {
        speaker = undefined
        throw e
      }
    } else {
      speaker.setNextHopFilters(crd?.nextHopFilters ?? new Map())
      await speaker.reconfigure(m.config)
      announce()
    }
  }

  /** Run speaker changes one at a time; CRD-driven failures are logged and shown in status. */
  const enqueue = (what: string, fn: () => Promise<void>) => {
    queue = queue.then(fn).catch((e: Error) => {
      speakerProblem = `${what}: ${e.message}`
      deps.log.error({ error: { code: (e as { code?: string }).code, message: e.message } }, `${what} failed`)
    })
    return queue
  }

  const peerView = (name: string): PeerView | undefined => {
    const st = speaker?.status().find((p) => p.name === name)
    if (!st) return undefined
    const up = typeof st.uptimeSeconds === 'number' ? st.uptimeSeconds : undefined
    return {
      state: String(st.state),
      prefixesSent: Number(st.prefixesSent ?? 0),
      ...(up !== undefined ? { establishedSince: new Date(clock.wallNow() - up * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
      ...(st.lastError ? { lastError: String(st.lastError) } : {}),
    }
  }

  async function startKube(c: Config): Promise<void> {
    const { createKubeController } = await import('./kube-factory.ts')
    const k = createKubeController(c, {
      log: deps.log, clock, env, hostname: hostname(), peerView,
      onAdvertisements: (advs) => {
        if (kube !== k) return
        k8sAdvs = advs
        watchNodes()
        announce()
      },
      onBgp: (b) => {
        if (kube !== k) return
        crd = b
        void enqueue('applying BgpConf/BgpPeer', () => applySpeaker(cfg!, cfg!.bgp ? speakerConfig(cfg!) : undefined))
      },
    })
    kube = k
    k.start()
  }

  return {
    mode: 'controller',
    async start(c) {
      const fromFile = c.bgp || !c.kubernetes.enabled ? speakerConfig(c) : undefined // throws without bgp when Kubernetes is off
      const live = { nextHops: nextHopSessions(c), nodes: nodeSessions(c) } // throws on a bad liveness key file
      cfg = c
      nodeLive = live.nodes
      health.configure(c, vipKey, live.nextHops)
      if (c.kubernetes.enabled) {
        await startKube(c) // throws on a kubeconfig that cannot be loaded
        if (!(await kube!.waitSynced(FIRST_SYNC_WAIT_MS))) {
          deps.log.warn({ informers: kube!.status().informers.filter((i) => !i.synced).map((i) => ({ name: i.name, lastError: i.lastError?.message })) }, 'Kubernetes has not synced yet: Services are allocated and announced once it has')
        }
      }
      try {
        await queue
        await applySpeaker(c, fromFile)
      } catch (e) {
        await kube?.stop()
        throw e
      }
      deps.log.info({ peers: speaker ? speaker.status().length : 0, vips: c.vips.length, kubernetes: c.kubernetes.enabled }, 'controller running')
    },
    async reload(next, prev) {
      const fromFile = next.bgp || !next.kubernetes.enabled ? speakerConfig(next) : undefined // throws (keeping the old config) when e.g. a key file is unreadable
      const live = { nextHops: nextHopSessions(next), nodes: nodeSessions(next) } // so do the liveness key files
      if (!isDeepStrictEqual(prev.kubernetes, next.kubernetes)) {
        const old = kube
        kube = undefined
        await old?.stop()
        if (!next.kubernetes.enabled) { crd = undefined; k8sAdvs = [] }
        if (next.kubernetes.enabled) await startKube(next)
      }
      cfg = next
      nodeLive = live.nodes
      health.configure(next, vipKey, live.nextHops)
      watchNodes()
      await enqueue('reload', () => applySpeaker(next, fromFile))
      // applySpeaker announced the new VIPs unless it stopped short (BGP not configured, or the
      // reconfiguration failed): then the running speaker still gets them
      if (speakerProblem && speaker) announce()
    },
    async stop() {
      await health.stop()
      await kube?.stop()
      await speaker?.stop()
      await bfd.stop()
    },
    status(): ControllerStatus {
      return {
        peers: speaker?.status() ?? [],
        refusedConnections: speaker?.refusedConnections ?? 0,
        ...(speakerProblem ? { bgpProblem: speakerProblem } : {}),
        vips: cfg ? configVipStatus(cfg, health, (host) => speaker?.sentTo(host) ?? []) : [],
        ...(kube ? { kubernetes: { ...kube.status(), vips: k8sAdvs.map((a) => {
          const have = new Set((speaker?.sentTo(a.prefix) ?? []).flatMap((x) => x.nextHops))
          const nodeLiveness = cfg?.kubernetes.nodeLiveness !== undefined
          const notLive = nodeLiveness ? a.nextHops.filter((n) => !health.live(n)) : []
          const notSent = a.nextHops.filter((n) => !notLive.includes(n) && !have.has(canonicalIp(n) ?? n))
          return { prefix: a.prefix, nextHops: [...a.nextHops], ...(notSent.length ? { notSent } : {}), ...(notLive.length ? { notLive } : {}) }
        }), ...(cfg?.kubernetes.nodeLiveness ? { nodeLiveness: health.nodeStatus() } : {}) } } : {}),
      }
    },
  }
}
