// Node liveness's BFD sessions as a config asks for them, authentication keys read (secret.ts):
// the controller's next hops with a `bfd` check and kubernetes.nodeLiveness, the agent's
// agent.liveness. The modes call these before they apply a config (start, reload), so a missing,
// unreadable or empty key file rejects it, naming the field, before anything changes.
import type { BfdTimersMs } from '../bfd/plan.ts'
import type { BfdAuth } from '../bfd/auth.ts'
import { bfdAuthOf } from './secret.ts'
import type { BfdAuthConfig, Config } from './schema.ts'

type Settings = { minTx: number; minRx: number; multiplier: number; port?: number; auth?: BfdAuthConfig }

/** One key file is read once per call, however many next hops name it. */
function sessionOf(s: Settings, field: string, read: Map<string, BfdAuth>, withPort: boolean): BfdTimersMs {
  let auth: BfdAuth | undefined
  if (s.auth) {
    const k = JSON.stringify(s.auth)
    auth = read.get(k) ?? bfdAuthOf(s.auth, `${field}.auth`)
    read.set(k, auth)
  }
  return { minTx: s.minTx, minRx: s.minRx, multiplier: s.multiplier, ...(withPort && s.port !== undefined ? { port: s.port } : {}), ...(auth ? { auth } : {}) }
}

/** The controller's session with each next-hop address that has a `bfd` check (load.ts checks that its VIPs agree). */
export function nextHopSessions(c: Config): Map<string, BfdTimersMs> {
  const out = new Map<string, BfdTimersMs>()
  const read = new Map<string, BfdAuth>()
  c.vips.forEach((v, i) => v.nextHops.forEach((nh, k) => {
    const check = nh.check ?? v.check
    if (check?.type !== 'bfd' || out.has(nh.address)) return
    out.set(nh.address, sessionOf(check, nh.check ? `vips[${i}].nextHops[${k}].check` : `vips[${i}].check`, read, true))
  }))
  return out
}

/** kubernetes.nodeLiveness: the controller's session with each node (undefined: off, or Kubernetes off). */
export function nodeSessions(c: Config): BfdTimersMs | undefined {
  const l = c.kubernetes.enabled ? c.kubernetes.nodeLiveness : undefined
  return l && sessionOf(l, 'kubernetes.nodeLiveness', new Map(), true)
}

/** agent.liveness: the agent's session with each controller (its `port` is the agent's own receiving port, not the peers'). */
export function agentSessions(c: Config): BfdTimersMs | undefined {
  const l = c.agent.liveness
  return l && sessionOf(l, 'agent.liveness', new Map(), false)
}
