// Controller mode as a daemon Service: BGP speaker fed by the config's VIPs.
import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import type { Service } from '../daemon/run.ts'

export function createControllerService(deps: { log: Logger }): Service {
  let cfg: Config | undefined
  return {
    mode: 'controller',
    async start(c) {
      cfg = c
      deps.log.info({ peers: c.bgp?.peers.length ?? 0, vips: c.vips.length }, 'controller configured')
    },
    async reload(next) {
      cfg = next
    },
    async stop() {},
    status() {
      return {
        peers: (cfg?.bgp?.peers ?? []).map((p) => ({ name: p.name, address: p.address, peerAs: p.peerAs, state: 'Idle' })),
        vips: (cfg?.vips ?? []).map((v) => ({ address: v.address, nextHops: v.nextHops.map((n) => ({ address: n.address })) })),
      }
    },
  }
}
