// Agent mode as a daemon Service: this host's VIPs (config `vips` whose next hops include one of
// `agent.nodeAddresses`, plus, with `kubernetes.enabled`, the ingress IPs of the LoadBalancer
// Services this node announces) programmed into the kernel by internal/agent; with
// `agent.liveness`, a BFD session with each controller address (node liveness: the controller
// drops this node's next hop when the session goes down, and when it stops with AdminDown).
import { adminRequest, type AgentStatus, type DaemonStatus } from '../admin/index.ts'
import { hostname } from 'node:os'
import type { Logger } from 'pino'
import { adminSocketPath, type Config } from '../config/index.ts'
import { isErrno } from '../base/index.ts'
import { PorterError } from '../errors/index.ts'
import type { Service } from './run.ts'
import { createAgent, vipsForNode, type Agent, type AgentOptions, type Vip } from '../agent/index.ts'
import type { KubernetesVipSource, NodePeerSource, NodePeers } from '../k8s/index.ts'
import { BfdPeers, BfdService, PassivePeers, type BfdAcceptor, type BfdPort, type BfdTimersMs } from '../bfd/index.ts'
import { agentSessions } from '../config/liveness.ts'
import { realClock } from '../base/index.ts'
import { NodeSpeaker, nodeBgp, nodeSpeakerConfig } from './agent-speaker.ts'

export interface AgentService extends Service {
  cleanup(cfg: Config): Promise<void>
}

export interface AgentServiceDeps {
  log: Logger
  /** passed to every agent the service creates (tests: a fake kernel and clock) */
  agentOptions?: Pick<AgentOptions, 'kernel' | 'kernelOptions' | 'clock' | 'watch' | 'debounceMs'>
  /** the BFD service for agent.liveness (default: a BfdService on UDP 3784; tests: a fake or another port) */
  bfd?: () => BfdPort & { stop(): Promise<void>; setAcceptor(a: BfdAcceptor | undefined): void; listen(family: 4 | 6): Promise<void> }
}

/** the BfdService key prefixes of the liveness sessions: started by us / accepted from a CIDR */
const LIVENESS_KEY = 'controller '
const LIVENESS_ACCEPTED_KEY = 'accepted controller '

/** our BFD source towards a controller: this node's next-hop address of that family, if configured */
const livenessSource = (c: Config | undefined, peer: string): string | undefined =>
  c?.agent.nodeAddresses.find((a) => a.includes(':') === peer.includes(':'))

/** what an agent is built from: a change needs a new agent (mode included: addresses <-> local routes) */
const kernelShape = (c: Config) => JSON.stringify({ i: c.agent.interface, f: c.agent.firewall, n: c.agent.nftAcceptChain, r: c.agent.reconcileInterval, m: c.agent.mode })
const k8sShape = (c: Config) => JSON.stringify(c.kubernetes)
/** how long start() waits for the first Kubernetes sync before the daemon reports ready */
const FIRST_SYNC_WAIT_MS = 5000

export function createAgentService(deps: AgentServiceDeps): AgentService {
  let agent: Agent | undefined
  let cfg: Config | undefined
  let configVips: Vip[] = []
  let k8s: KubernetesVipSource | undefined
  let k8sVips: string[] | undefined
  /** kubernetes.bgpPeers: this node's BgpPeers (undefined: off, or not synced yet) */
  let peerSource: NodePeerSource | undefined
  let kubePeers: NodePeers | undefined
  let liveness: { service: BfdPort & { stop(): Promise<void> }; peers: BfdPeers; passive: PassivePeers; port: number } | undefined

  /** End every liveness session (AdminDown) and close the BFD sockets. */
  async function stopLiveness(): Promise<void> {
    const l = liveness
    liveness = undefined
    if (!l) return
    l.passive.stop()
    await l.peers.stop()
    await l.service.stop()
  }
  /** with a `bgp` section: this node announces its VIPs itself (per-node speaker) */
  const nodeSpeaker = new NodeSpeaker({ log: deps.log })
  // the agent reads agent.mode (address | local-route) and the rest of `agent` from c
  const make = (c: Config) => createAgent({ ...deps.agentOptions, config: c, log: deps.log })

  /** config VIPs ∪ Kubernetes VIPs; undefined while Kubernetes has not synced (nothing changes then) */
  const desiredNow = (): string[] | undefined => {
    if (cfg?.kubernetes.enabled && k8sVips === undefined) return undefined
    return [...configVips.map((v) => v.address), ...(k8sVips ?? [])]
  }
  const push = () => {
    const d = desiredNow()
    if (!d || !agent) return
    const a = agent
    if (nodeSpeaker.active) {
      // per-node speaker: withdraw what goes before it leaves the kernel; announce what comes once programmed
      const keep = new Set(d)
      nodeSpeaker.update(k8sVips ?? [], new Set(a.status().programmed.filter((v) => keep.has(v))), k8s?.draining())
    }
    a.setDesired(d)
    if (nodeSpeaker.active) void a.reconcileNow().then(() => announceProgrammed(a))
  }
  /**
   * The per-node speaker from the file's `bgp` section and this node's BgpPeers; one apply at a
   * time (a reload and a BgpPeer change may come together). A merge that cannot work (no AS)
   * keeps the speaker as it is and says why.
   */
  let speakerTurn: Promise<void> = Promise.resolve()
  const applySpeaker = (c: Config): Promise<void> => {
    const run = async () => {
      let merged
      if (kubePeers) {
        const m = nodeBgp(c, kubePeers)
        if (!m.ok) {
          deps.log.error({ reason: m.reason }, 'Kubernetes: this node cannot peer with its BgpPeers; its BGP sessions stay as they are')
          return
        }
        merged = m.config
      }
      await nodeSpeaker.apply(c, merged)
      if (agent && nodeSpeaker.active) {
        await agent.reconcileNow() // new VIPs are announced once programmed
        announceProgrammed(agent)
      }
    }
    const next = speakerTurn.then(run)
    speakerTurn = next.catch(() => {})
    return next
  }
  /** the per-node speaker announces the VIPs `a` has programmed */
  const announceProgrammed = (a: Agent) => {
    if (agent === a) nodeSpeaker.update(k8sVips ?? [], new Set(a.status().programmed), k8s?.draining())
  }

  /**
   * agent.liveness: sessions with exactly the configured controller addresses, and sessions
   * accepted from inside the configured CIDRs (no other source is answered); `timers`: its
   * timers and authentication, key read (agentSessions)
   */
  function syncLiveness(c: Config, timers: BfdTimersMs | undefined): void {
    const l = c.agent.liveness
    if (!l || !timers) {
      void stopLiveness() // off: AdminDown to every controller, sockets closed
      return
    }
    if (liveness && liveness.port !== l.port) void stopLiveness() // another receiving port: a new service
    if (!liveness) {
      const service = deps.bfd?.() ?? new BfdService({ log: deps.log, port: l.port })
      liveness = {
        service,
        peers: new BfdPeers({
          bfd: service, log: deps.log, clock: realClock, keyPrefix: LIVENESS_KEY,
          localAddress: (peer) => livenessSource(cfg, peer),
          onState: () => {}, // BfdService logs each change; the controller acts on them
        }),
        passive: new PassivePeers({ bfd: service, log: deps.log, clock: deps.agentOptions?.clock ?? realClock, keyPrefix: LIVENESS_ACCEPTED_KEY }),
        port: l.port,
      }
    }
    const peers = l.peers
    liveness.peers.sync(new Map(peers.filter((a) => !a.includes('/')).map((a) => [a, timers])))
    liveness.passive.set(peers.filter((a) => a.includes('/')), timers)
  }

  /** kubernetes.bgpPeers: watch this node's BgpPeers; each change re-applies the speaker */
  async function startPeerSource(c: Config): Promise<void> {
    const { createNodePeerSource, loadKubeConfig, resolveNodeName } = await import('../k8s/index.ts')
    const src = createNodePeerSource({
      kubeConfig: loadKubeConfig(c.kubernetes),
      nodeName: resolveNodeName(c.kubernetes, process.env, hostname()),
      log: deps.log,
      onChange: (p) => {
        if (peerSource !== src || !cfg) return
        kubePeers = p
        applySpeaker(cfg).catch((e) => deps.log.error({ error: (e as Error).message }, 'per-node speaker: applying this node\'s BgpPeers failed'))
      },
    })
    peerSource = src
    src.start()
  }
  async function stopPeerSource(): Promise<void> {
    const s = peerSource
    peerSource = undefined
    kubePeers = undefined
    await s?.stop()
  }

  async function startK8s(c: Config): Promise<void> {
    const { createKubernetesVipSource } = await import('../k8s/index.ts')
    const src = createKubernetesVipSource({
      config: c.kubernetes,
      log: deps.log,
      env: process.env,
      hostname: hostname(),
      onChange: (vips) => {
        if (k8s !== src) return
        k8sVips = vips
        push()
      },
    })
    k8s = src
    src.start()
  }

  return {
    mode: 'agent',
    async start(c) {
      configVips = vipsForNode(c) // throws on invalid VIPs before anything is touched
      const live = agentSessions(c) // and on a bad agent.liveness.auth key file
      cfg = c
      agent = make(c)
      if (c.kubernetes.enabled) await startK8s(c) // throws on a kubeconfig that cannot be loaded
      const desired = desiredNow()
      if (desired) agent.setDesired(desired)
      try {
        await agent.start()
      } catch (e) {
        await k8s?.stop() // its sockets and timers would keep a failed process alive
        throw e
      }
      if (c.kubernetes.enabled && !(await k8s!.waitSynced(FIRST_SYNC_WAIT_MS))) {
        deps.log.warn({ status: k8s!.status().lastError }, 'Kubernetes has not synced yet: VIPs are programmed once it has (Porter\'s kernel state stays as it is until then)')
      }
      if (desiredNow()) {
        const r = await agent.reconcileNow()
        if (!r.ok) deps.log.error({ error: r.error }, 'first reconcile failed; retrying with back-off')
      }
      // after the first reconcile: the controller takes this node as a next hop once the session is Up
      syncLiveness(c, live)
      await applySpeaker(c)
      announceProgrammed(agent) // announced once programmed
      if (c.kubernetes.enabled && c.kubernetes.bgpPeers) await startPeerSource(c)
      deps.log.info({ vips: desiredNow()?.length, interface: c.agent.interface, kubernetes: c.kubernetes.enabled, liveness: c.agent.liveness?.peers }, 'agent running')
    },
    async reload(next) {
      const nextConfigVips = vipsForNode(next)
      if (next.bgp) nodeSpeakerConfig(next) // a bad key file rejects the reload before anything changes
      const live = agentSessions(next) // so does a bad agent.liveness.auth key file
      const prev = cfg!
      if (k8sShape(prev) !== k8sShape(next)) {
        // a new source takes over; the old one's VIPs stay desired until the new one has synced
        await k8s?.stop()
        k8s = undefined
        if (!next.kubernetes.enabled) k8sVips = undefined
        cfg = next
        if (next.kubernetes.enabled) await startK8s(next)
      }
      configVips = nextConfigVips
      cfg = next
      if (kernelShape(prev) !== kernelShape(next)) {
        // interface, firewall or mode changed: a new agent takes over. Its first reconcile replaces
        // Porter's addresses / local routes; another firewall backend's rules stay until cleanup
        const fresh = make(next)
        const d = desiredNow()
        if (d) fresh.setDesired(d)
        await agent?.stop()
        agent = fresh
        await agent.start()
      } else push()
      syncLiveness(next, live)
      if (k8sShape(prev) !== k8sShape(next)) {
        // another API server, or bgpPeers off: this node's BgpPeers come from the new source once it has synced
        await stopPeerSource()
        if (next.kubernetes.enabled && next.kubernetes.bgpPeers) await startPeerSource(next)
      }
      await applySpeaker(next)
    },
    async stop() {
      // the node's own routes go first (withdrawn before Cease), while its VIPs still answer
      await stopPeerSource()
      await speakerTurn
      await nodeSpeaker.stop()
      // AdminDown to the controllers first: they drop this node's next hop before its VIPs could go
      await stopLiveness()
      await k8s?.stop()
      await agent?.stop() // kernel state stays: a restart drops no traffic
    },
    async cleanup(c) {
      // a running agent would put everything back within milliseconds (drift repair): refuse
      // rather than report a removal that does not last
      await refuseIfAgentRuns(adminSocketPath(c, 'agent'))
      const a = make(c)
      await a.cleanup() // logs what it removed
    },
    status(): AgentStatus {
      const s = agent?.status()
      if (!s) return {}
      const speaking = nodeSpeaker.status()
      return {
        ...(speaking ?? {}),
        agent: {
          interface: s.interface, mode: s.mode, vips: s.programmed, foreign: s.foreign,
          ...(s.backend !== undefined ? { backend: s.backend } : {}),
          ...(s.iptablesFlavour !== undefined ? { iptablesFlavour: s.iptablesFlavour } : {}),
          ...(s.lastReconcile ? { lastReconcile: { at: new Date(s.lastReconcile.at).toISOString(), ok: s.lastReconcile.ok, ...(s.lastReconcile.error ? { error: s.lastReconcile.error.message } : {}), changes: s.lastReconcile.changes, durationMs: s.lastReconcile.durationMs } } : {}),
          counters: s.counters,
          ...(k8s ? { kubernetes: k8s.status() } : {}),
          ...(peerSource ? { bgpPeers: peerSource.status() } : {}),
          ...(liveness ? { liveness: [...liveness.peers.addresses().map((address) => ({ address, ...liveness!.peers.status(address)! })), ...liveness.passive.status()] } : {}),
        },
      }
    },
  }
}

/** how long cleanup waits for a running agent's status answer */
const PROBE_TIMEOUT_MS = 3000

/**
 * Throws when a porter agent answers on `socket` (the same check as the daemon's start-up one:
 * the socket accepts connections). Nothing listening (no socket, or a stale one): returns.
 * A controller on that socket does not program the kernel: returns too.
 */
export async function refuseIfAgentRuns(socket: string): Promise<void> {
  let st: DaemonStatus
  try {
    st = (await adminRequest(socket, { cmd: 'status' }, PROBE_TIMEOUT_MS)) as DaemonStatus
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause
    if (isErrno(cause, 'ENOENT', 'ECONNREFUSED')) return // nothing runs there
    throw new PorterError('PORTER_ERR_USAGE', `Cannot clean up: something holds the agent's admin socket ${JSON.stringify(socket)} (${(e as Error).message}). A running porter agent would restore everything at once: stop it first, then run "porter agent --cleanup" again; nothing was removed`, { cause: e })
  }
  if (st?.mode === 'controller') return
  throw new PorterError('PORTER_ERR_USAGE', `Cannot clean up while porter agent is running (pid ${st?.pid}, admin socket ${JSON.stringify(socket)}): it would restore everything at once. Stop it first (systemctl stop porter-agent), then run "porter agent --cleanup" again; nothing was removed`)
}
