// The floor reference for test/bench/bgp-push.ts: BIRD's own ingest speed. A minimal speaker
// that encodes every UPDATE (and every withdrawal) BEFORE connecting, does the OPEN/KEEPALIVE
// exchange by hand and then writes the prepared bytes in one socket write. No RIB, no FSM, no
// packing at send time: whatever time remains is BIRD reading and importing. Same attributes,
// message size (4096) and ADD-PATH setting as the Porter and gobgpd runs. Same stdout/stdin
// protocol as bgp-driver.ts (ready, established, sent, withdrawing, bye).
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { encode, encodeUpdates, encodeWithdrawals, endOfRib, FrameReader, joinMessages, decode, makeCapabilities } from '../../../internal/bgp/wire/index.ts'
import type { CodecContext, FamilyKey, Nlri } from '../../../internal/bgp/wire/types.ts'
import { BENCH_BASE } from './prefixes.ts'
import type { DriverConfig } from './bgp-driver.ts'

const now = (): number => performance.timeOrigin + performance.now()
const emit = (o: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify(o)}\n`) }

function procStatus(): { vmHwmKB: number; vmRssKB: number } {
  const s = readFileSync('/proc/self/status', 'utf8')
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN)
  return { vmHwmKB: kb('VmHWM'), vmRssKB: kb('VmRSS') }
}

function main(): void {
  const cfg = JSON.parse(process.argv[2] ?? '') as DriverConfig
  const t0 = now()
  const addPathTx = new Set<FamilyKey>(cfg.addPath ? ['ipv4-unicast'] : [])
  const ctx: CodecContext = { as4: true, addPathTx, addPathRx: new Set(), maxMessageLength: 4096 }
  const nlri: Nlri[] = []
  for (let i = 0; i < cfg.n; i++) {
    const x = (BENCH_BASE + i) >>> 0
    const addr = `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`
    nlri.push(cfg.addPath ? { prefix: { afi: 1, addr, len: 32 }, pathId: 1 } : { prefix: { afi: 1, addr, len: 32 } })
  }
  const announce = joinMessages([
    ...encodeUpdates({ origin: 0, asPath: [{ type: 2, asns: [cfg.localAs] }], nextHop: cfg.nextHop }, nlri, ctx),
    encode(endOfRib('ipv4-unicast'), ctx),
  ])
  const withdraw = joinMessages(encodeWithdrawals(nlri, ctx))
  const open = encode({
    type: 'open', version: 4, myAs: cfg.localAs, holdTime: cfg.holdTime, routerId: cfg.routerId,
    capabilities: makeCapabilities({ asn: cfg.localAs, families: ['ipv4-unicast'], addPath: cfg.addPath ? 'send' : undefined }),
  }, ctx)
  const keepalive = encode({ type: 'keepalive' }, ctx)
  emit({ ev: 'ready', setMs: now() - t0, rssMB: process.memoryUsage().rss / 2 ** 20, bytes: announce.length, withdrawBytes: withdraw.length })

  const sock = connect({ host: cfg.peerAddress, port: 179, localAddress: cfg.routerId })
  sock.setNoDelay(true)
  const framer = new FrameReader()
  let gotOpen = false
  let established = false
  let ka: NodeJS.Timeout | undefined
  sock.on('connect', () => sock.write(open))
  sock.on('data', (d: Buffer) => {
    framer.push(d)
    for (let m = framer.next(4096); m !== null; m = framer.next(4096)) {
      const type = m[18]
      if (type === 1) {
        gotOpen = true
        sock.write(keepalive)
      } else if (type === 4 && gotOpen && !established) {
        established = true
        emit({ ev: 'established', t: now() })
        ka = setInterval(() => sock.write(keepalive), Math.max(1, cfg.holdTime / 3) * 1000)
        sock.write(announce, () => emit({ ev: 'sent', t: now() }))
      } else if (type === 3) {
        const n = decode(m, ctx)
        emit({ ev: 'error', error: `NOTIFICATION ${JSON.stringify(n)}` })
      }
    }
  })
  sock.on('close', () => { if (ka) clearInterval(ka) })
  sock.on('error', (e) => emit({ ev: 'error', error: e.message }))

  const rl = createInterface({ input: process.stdin })
  rl.on('line', (line) => {
    const c = line.trim()
    if (c === 'withdraw') {
      emit({ ev: 'withdrawing', t: now(), setMs: 0 })
      sock.write(withdraw)
    } else if (c === 'quit') {
      rl.close()
      if (ka) clearInterval(ka)
      // Cease / Administrative Shutdown, as the others do
      sock.end(encode({ type: 'notification', code: 6, subcode: 2, data: new Uint8Array(0) }, ctx), () => {
        emit({ ev: 'bye', ...procStatus() })
        process.exit(0)
      })
    }
  })
}

main()
