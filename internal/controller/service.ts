// Controller mode as a daemon Service: the BGP speaker fed by the config's VIPs.
import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import type { Service } from '../daemon/run.ts'
import { Speaker } from '../bgp/speaker.ts'
import { speakerConfig, vipAdvertisements } from './advertise.ts'

export function createControllerService(deps: { log: Logger }): Service {
  let cfg: Config | undefined
  let speaker: Speaker | undefined
  return {
    mode: 'controller',
    async start(c) {
      cfg = c
      const sc = speakerConfig(c)
      speaker = new Speaker(sc, { log: deps.log })
      speaker.set(vipAdvertisements(c))
      await speaker.start()
      deps.log.info({ peers: sc.peers.length, vips: c.vips.length }, 'controller running')
    },
    async reload(next) {
      const sc = speakerConfig(next) // throws (keeping the old config) when e.g. a key file is unreadable
      await speaker!.reconfigure(sc)
      speaker!.set(vipAdvertisements(next))
      cfg = next
    },
    async stop() {
      await speaker?.stop()
    },
    status() {
      const advs = cfg ? vipAdvertisements(cfg) : []
      const announced = new Map(advs.map((a) => [a.prefix.split('/')[0], new Set(a.nextHops)]))
      return {
        peers: speaker?.status() ?? [],
        refusedConnections: speaker?.refusedConnections ?? 0,
        vips: (cfg?.vips ?? []).flatMap((v) => (Array.isArray(v.address) ? v.address : [v.address]).map((a) => {
          const host = a.split('/')[0]!
          const set = announced.get(host)
          return {
            name: v.name,
            address: host,
            announced: !!set,
            nextHops: v.nextHops.filter((n) => n.address.includes(':') === host.includes(':')).map((n) => ({ address: n.address, health: n.check || v.check ? 'unknown' : 'no check', announced: !!set?.has(n.address) })),
          }
        })),
      }
    },
  }
}
