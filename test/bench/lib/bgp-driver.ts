// Porter's side of test/bench/bgp-push.ts: one Speaker, one peer, N /32 advertisements set
// before the session comes up. Runs as its own process inside the speaker namespace (bundled by
// the bench with esbuild and run with plain `node`, as the shipped binary runs: no tsx loader
// thread in the RSS), so its peak RSS (VmHWM) is Porter's alone.
//
//   node bgp-driver.cjs '<json DriverConfig>'
//
// stdout: one JSON object per line, times in epoch milliseconds with sub-ms precision
// (performance.timeOrigin + performance.now(), comparable across processes on this host):
//   {"ev":"ready","setMs":..,"rssMB":..}            N advertisements set, speaker not started
//   {"ev":"started","startMs":..}                   speaker.start() resolved (the peer's RIB built)
//   {"ev":"established","t":..}                     the 'session established' log line (the FSM
//                                                   reached Established; the pump starts next)
//   {"ev":"sent","t":..,"rssMB":..,"heapUsedMB":..} every UPDATE and the End-of-RIB written
//   {"ev":"withdrawing","t":..,"setMs":..}          after the `withdraw` command: speaker.set([])
//   {"ev":"status","peers":[..]}                    after `status`
//   {"ev":"bye","vmHwmKB":..,"vmRssKB":..,"heapUsedMB":..}  after `quit`, then exit 0 (so --cpu-prof writes)
// stdin commands, one per line: withdraw | status | quit
// Logs (pino, level info) go to stderr.
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { pino } from 'pino'
import { Speaker, type Advertisement, type SpeakerConfig } from '../../../internal/bgp/speaker.ts'
import { benchPrefixes } from './prefixes.ts'

export interface DriverConfig {
  n: number
  localAs: number
  peerAs: number
  routerId: string
  peerAddress: string
  nextHop: string
  holdTime: number
  addPath: boolean
}

const now = (): number => performance.timeOrigin + performance.now()
/** microseconds on the clock V8's --cpu-prof timestamps use, to cut a profile to a window */
const hr = (): number => Number(process.hrtime.bigint() / 1000n)
const emit = (o: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify(o)}\n`) }

function procStatus(): { vmHwmKB: number; vmRssKB: number } {
  const s = readFileSync('/proc/self/status', 'utf8')
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN)
  return { vmHwmKB: kb('VmHWM'), vmRssKB: kb('VmRSS') }
}

function main(): void {
  const cfg = JSON.parse(process.argv[2] ?? '') as DriverConfig
  const log = pino({
    level: 'info',
    base: { pid: process.pid },
    hooks: {
      logMethod(args, method) {
        const msg = args.find((a) => typeof a === 'string')
        if (msg === 'session established') emit({ ev: 'established', t: now(), hr: hr() })
        else if (msg === 'initial routes sent, End-of-RIB') {
          const m = process.memoryUsage()
          emit({ ev: 'sent', t: now(), hr: hr(), rssMB: m.rss / 2 ** 20, heapUsedMB: m.heapUsed / 2 ** 20, heapTotalMB: m.heapTotal / 2 ** 20 })
        }
        return method.apply(this, args)
      },
    },
  }, pino.destination({ fd: 2, sync: true }))

  const sc: SpeakerConfig = {
    localAs: cfg.localAs,
    routerId: cfg.routerId,
    listenAddress: cfg.routerId,
    listenPort: 0, // no listener: we connect (BIRD is passive), as gobgpd does in the bench
    gracefulRestart: { enabled: false, restartTime: 120 },
    peers: [{
      name: 'bird', address: cfg.peerAddress, peerAs: cfg.peerAs, port: 179, passive: false,
      holdTime: cfg.holdTime, connectRetry: 1, families: ['ipv4-unicast'], addPath: cfg.addPath,
      nextHop: 'as-given', export: {},
    }],
  }
  const speaker = new Speaker(sc, { log })
  const advs: Advertisement[] = benchPrefixes(cfg.n).map((prefix) => ({ prefix, nextHops: [cfg.nextHop] }))
  const t0 = now()
  speaker.set(advs)
  emit({ ev: 'ready', setMs: now() - t0, rssMB: process.memoryUsage().rss / 2 ** 20 })

  const rl = createInterface({ input: process.stdin })
  rl.on('line', (line) => {
    const c = line.trim()
    if (c === 'withdraw') {
      const t = now()
      const h = hr()
      speaker.set([])
      emit({ ev: 'withdrawing', t, hr: h, setMs: now() - t })
    } else if (c === 'status') {
      emit({ ev: 'status', peers: speaker.status() })
    } else if (c === 'quit') {
      rl.close()
      void speaker.stop().finally(() => {
        const m = process.memoryUsage()
        emit({ ev: 'bye', ...procStatus(), heapUsedMB: m.heapUsed / 2 ** 20, heapTotalMB: m.heapTotal / 2 ** 20, externalMB: m.external / 2 ** 20 })
        process.exit(0)
      })
    }
  })
  rl.on('close', () => { if (!process.exitCode) setTimeout(() => process.exit(0), 2000).unref() })
  const t1 = now()
  void speaker.start().then(() => emit({ ev: 'started', startMs: now() - t1 }), (e: unknown) => {
    emit({ ev: 'error', error: String(e) })
    process.exit(1)
  })
}

main()
