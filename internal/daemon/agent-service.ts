// Agent mode as a daemon Service: this host's VIPs (config `vips` whose next hops include one of
// `agent.nodeAddresses`) programmed into the kernel by internal/agent.
import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import type { Service } from './run.ts'
import { createAgent, vipsForNode, type Agent } from '../agent/index.ts'

export interface AgentService extends Service {
  cleanup(cfg: Config): Promise<void>
}

const kernelShape = (c: Config) => JSON.stringify({ i: c.agent.interface, f: c.agent.firewall, m: c.agent.mode, n: c.agent.nftAcceptChain, r: c.agent.reconcileInterval })

export function createAgentService(deps: { log: Logger }): AgentService {
  let agent: Agent | undefined
  let cfg: Config | undefined
  const make = (c: Config) => createAgent({ config: c, log: deps.log, mode: c.agent.mode })
  return {
    mode: 'agent',
    async start(c) {
      const desired = vipsForNode(c) // throws on invalid VIPs before anything is touched
      agent = make(c)
      agent.setDesired(desired)
      await agent.start()
      const r = await agent.reconcileNow()
      if (!r.ok) deps.log.error({ error: r.error }, 'first reconcile failed; retrying with back-off')
      cfg = c
      deps.log.info({ vips: desired.length, interface: c.agent.interface }, 'agent running')
    },
    async reload(next) {
      const desired = vipsForNode(next)
      if (cfg && kernelShape(cfg) !== kernelShape(next)) {
        // interface or firewall changed: a new agent takes over (the old one's state stays until cleanup)
        const fresh = make(next)
        fresh.setDesired(desired)
        await agent?.stop()
        agent = fresh
        await agent.start()
      } else {
        agent!.setDesired(desired)
      }
      cfg = next
    },
    async stop() {
      await agent?.stop() // kernel state stays: a restart drops no traffic
    },
    async cleanup(c) {
      const a = make(c)
      await a.cleanup() // logs what it removed
    },
    status() {
      const s = agent?.status()
      if (!s) return {}
      return {
        agent: {
          interface: s.interface, backend: s.backend, iptablesFlavour: s.iptablesFlavour, vips: s.programmed, foreign: s.foreign,
          lastReconcile: s.lastReconcile ? { at: new Date(s.lastReconcile.at).toISOString(), ok: s.lastReconcile.ok, error: s.lastReconcile.error?.message, changes: s.lastReconcile.changes, durationMs: s.lastReconcile.durationMs } : undefined,
          counters: s.counters,
        },
      }
    },
  }
}
