// The per-node speaker's BGP settings from Kubernetes (agent, kubernetes.bgpPeers): informers on
// the BgpConf objects, the BgpPeer objects and this node's own Node object (its labels choose
// the BgpPeers annotated porter.kubesphere.io/speaker: node, by their spec.nodeSelector); the
// MD5 keys of the chosen peers are read from their Secrets. After every change (debounced) and
// once all three informers have listed, onChange gets what this node should peer with; nothing
// is reported before (an empty cache must not close sessions that are in fact still wanted).
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node'
import { realClock, type Clock } from '../base/index.ts'
import type { NodeInfo } from '../announce/index.ts'
import { BGPCONF_NAME, peeredBy, toBgpConfInfo, toBgpPeerInfo, type BgpPeerInfo, type CrdBgp } from './crd.ts'
import { toNodeInfo } from './convert.ts'
import { ResilientInformer, type InformerLogger, type InformerStatus } from './informer.ts'
import { readPeerKey, KEY_REFRESH_MS } from './peer-key.ts'
import { KubeRest } from './rest.ts'

export interface NodePeers {
  /** the BgpConf "default" and the BgpPeers this node peers with (keys of those with a Secret) */
  crd: CrdBgp
  /** this node's labels and InternalIPs; undefined while its Node object does not exist */
  node: NodeInfo | undefined
}

export interface NodePeerSourceOptions {
  kubeConfig: KubeConfig
  nodeName: string
  log: InformerLogger & { error(obj: object, msg?: string): void }
  onChange(p: NodePeers): void
  clock?: Clock
  debounceMs?: number
}

export interface NodePeerSource {
  start(): void
  stop(): Promise<void>
  /** the chosen peers' names, the key errors (no key material) and the informers */
  status(): { peers: string[]; keyErrors: Record<string, string>; informers: InformerStatus[] }
}

export function createNodePeerSource(o: NodePeerSourceOptions): NodePeerSource {
  const clock = o.clock ?? realClock
  const rest = new KubeRest(o.kubeConfig)
  const debounceMs = o.debounceMs ?? 50
  let running = false
  let timer: unknown
  let refreshTimer: unknown
  let last = ''
  let chosen: string[] = []
  /** peer name -> the Secret reference its key was read for, and the key (or the error) */
  const keys = new Map<string, { ref: string; key?: Uint8Array; error?: string }>()
  const schedule = () => {
    if (!running || timer !== undefined) return
    timer = clock.setTimeout(() => { timer = undefined; void run() }, debounceMs)
  }
  // one recompute at a time (it awaits Secrets); a change meanwhile runs it once more after
  let busy = false
  let again = false
  async function run(): Promise<void> {
    if (busy) { again = true; return }
    busy = true
    try {
      do { again = false; await recompute() } while (again && running)
    } finally {
      busy = false
    }
  }
  const mk = (name: string, path: string, fieldSelector?: string) => new ResilientInformer<KubernetesObject>({
    name, path, kubeConfig: o.kubeConfig, clock, log: o.log, onChange: schedule,
    ...(fieldSelector ? { fieldSelector } : {}),
    listPage: (limit, cont) => rest.listPage<KubernetesObject>(fieldSelector ? `${path}?fieldSelector=${encodeURIComponent(fieldSelector)}` : path, limit, cont),
  })
  const crd = '/apis/network.kubesphere.io/v1alpha2'
  const informers = [
    mk('bgpconfs', `${crd}/bgpconfs`),
    mk('bgppeers', `${crd}/bgppeers`),
    mk('node', '/api/v1/nodes', `metadata.name=${o.nodeName}`),
  ] as const
  const [confs, peers, nodes] = informers

  async function recompute(): Promise<void> {
    if (!running || !informers.every((i) => i.status().synced)) return
    const node = nodes.list().map(toNodeInfo).find((n) => n?.name === o.nodeName)
    const conf = confs.list().map(toBgpConfInfo).find((c) => c?.name === BGPCONF_NAME)
    const who = { role: 'node' as const, labels: node?.labels ?? {}, routerId: undefined }
    // a node whose Node object is missing peers with nothing (its labels are unknown)
    const mine: BgpPeerInfo[] = []
    if (node) for (const p of peers.list().map(toBgpPeerInfo)) if (p && peeredBy(p, who)) mine.push(p)
    mine.sort((a, b) => (a.name < b.name ? -1 : 1))
    for (const p of mine) {
      if (!p.secretRef) continue
      const ref = JSON.stringify(p.secretRef)
      if (keys.get(p.name)?.ref === ref) continue // read again every KEY_REFRESH_MS (a rotated Secret)
      try {
        keys.set(p.name, { ref, key: await readPeerKey(rest, p.secretRef) })
      } catch (e) {
        const error = (e as Error).message
        o.log.error({ bgpPeer: p.name, error }, 'Kubernetes: cannot read the TCP MD5 key of a BgpPeer; this node does not peer with it')
        keys.set(p.name, { ref, error })
      }
      if (!running) return
    }
    const names = new Set(mine.map((p) => p.name))
    for (const k of [...keys.keys()]) if (!names.has(k)) keys.delete(k)
    const got = new Map<string, Uint8Array>()
    for (const [k, v] of keys) if (v.key) got.set(k, v.key)
    const out: NodePeers = { crd: { ...(conf ? { conf } : {}), peers: mine, keys: got, nextHopFilters: new Map() }, node }
    const text = JSON.stringify([conf, mine, node?.labels, node?.internalIPs, [...got].map(([k, v]) => [k, Buffer.from(v).toString('base64')])])
    if (text === last) return
    last = text
    chosen = [...names]
    o.log.info({ node: o.nodeName, peers: chosen }, node ? 'Kubernetes: this node\'s BgpPeers (porter.kubesphere.io/speaker: node)' : 'Kubernetes: this node\'s Node object does not exist; it peers with no BgpPeer')
    try {
      o.onChange(out)
    } catch (e) {
      o.log.error({ error: (e as Error).message }, 'Kubernetes: applying this node\'s BgpPeers failed')
    }
  }

  return {
    start() {
      if (running) return
      running = true
      for (const i of informers) i.start()
      const refresh = () => {
        refreshTimer = clock.setTimeout(() => { keys.clear(); schedule(); refresh() }, KEY_REFRESH_MS)
      }
      refresh()
    },
    async stop() {
      running = false
      clock.clearTimeout(timer)
      clock.clearTimeout(refreshTimer)
      timer = undefined
      await Promise.all(informers.map((i) => i.stop()))
      rest.close()
    },
    status() {
      const keyErrors: Record<string, string> = {}
      for (const [k, v] of keys) if (v.error) keyErrors[k] = v.error
      return { peers: [...chosen], keyErrors, informers: informers.map((i) => i.status()) }
    },
  }
}
