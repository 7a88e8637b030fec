// Agent mode as a daemon Service. The kernel programming lives in internal/agent.
import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import type { Service } from './run.ts'

export interface AgentService extends Service {
  cleanup(cfg: Config): Promise<void>
}

export function createAgentService(deps: { log: Logger }): AgentService {
  let cfg: Config | undefined
  return {
    mode: 'agent',
    async start(c) {
      cfg = c
      deps.log.info({ interface: c.agent.interface, firewall: c.agent.firewall }, 'agent configured')
    },
    async reload(next) {
      cfg = next
    },
    async stop() {},
    async cleanup() {},
    status() {
      return { agent: { interface: cfg?.agent.interface, backend: cfg?.agent.firewall } }
    },
  }
}
