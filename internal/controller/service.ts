// Controller mode as a daemon Service: the BGP speaker fed by the config's VIPs, each VIP with
// its healthy next hops.
import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import type { Service } from '../daemon/run.ts'
import { Speaker } from '../bgp/speaker.ts'
import { realClock, type Clock } from '../bgp/session/clock.ts'
import { HealthMonitor } from '../health/monitor.ts'
import { runCheck, type Checker } from '../health/checks.ts'
import { speakerConfig, vipAdvertisements, vipKey } from './advertise.ts'

export interface ControllerDeps {
  log: Logger
  clock?: Clock
  checker?: Checker
}

export function createControllerService(deps: ControllerDeps): Service {
  let cfg: Config | undefined
  let speaker: Speaker | undefined
  const clock = deps.clock ?? realClock
  const announce = () => {
    if (cfg && speaker) speaker.set(vipAdvertisements(cfg, (v, nh) => health.healthy(v, nh)))
  }
  const health = new HealthMonitor({ clock, checker: deps.checker ?? runCheck, log: deps.log, onChange: announce })
  return {
    mode: 'controller',
    async start(c) {
      const sc = speakerConfig(c)
      cfg = c
      speaker = new Speaker(sc, { log: deps.log, clock })
      health.configure(c, vipKey)
      announce()
      await speaker.start()
      deps.log.info({ peers: sc.peers.length, vips: c.vips.length }, 'controller running')
    },
    async reload(next) {
      const sc = speakerConfig(next) // throws (keeping the old config) when e.g. a key file is unreadable
      await speaker!.reconfigure(sc)
      cfg = next
      health.configure(next, vipKey)
      announce()
    },
    async stop() {
      health.stop()
      await speaker?.stop()
    },
    status() {
      const healthy = (v: string, nh: string) => health.healthy(v, nh)
      const advs = cfg ? vipAdvertisements(cfg, healthy) : []
      const announced = new Map(advs.map((a) => [a.prefix.split('/')[0], new Set(a.nextHops)]))
      return {
        peers: speaker?.status() ?? [],
        refusedConnections: speaker?.refusedConnections ?? 0,
        vips: (cfg?.vips ?? []).flatMap((v, i) => (Array.isArray(v.address) ? v.address : [v.address]).map((a) => {
          const host = a.split('/')[0]!
          const set = announced.get(host)
          return {
            name: v.name,
            address: host,
            announced: !!set,
            nextHops: v.nextHops.filter((n) => n.address.includes(':') === host.includes(':')).map((n) => ({
              address: n.address, ...health.describe(vipKey(v, i), n.address), announced: !!set?.has(n.address),
            })),
          }
        })),
      }
    },
  }
}
