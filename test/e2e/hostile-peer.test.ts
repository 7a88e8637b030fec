// A hostile peer against the running dist/porter (not the codec alone): malformed and hostile
// input on the wire, each answered as RFC 4271 section 6, RFC 7606 and RFC 7313 say, the process
// never crashes, and a well-behaved session still comes up afterwards. Porter listens on
// 127.0.0.1 (loopback only) on a free port; the configured neighbour is 127.0.0.1, the
// unconfigured source 127.0.0.2.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { builtPorter } from '../lib/dist.ts'
import { waitFor } from '../lib/wait.ts'
import { adminRequest, type ControllerStatus, type DaemonStatus } from '../../internal/admin/index.ts'
import { decode, defaultContext, encode, makeCapabilities, type BgpMessage } from '../../internal/bgp/wire/index.ts'

const PORTER_AS = 65000
const PEER_AS = 65001
const dir = mkdtempSync(join(tmpdir(), 'porter-hostile-'))
let porter: ChildProcess | undefined
t.teardown(() => { porter?.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }) })

const ctx = defaultContext()
const msg = (m: BgpMessage) => encode(m, ctx)
const OPEN = (o: Partial<{ version: number; myAs: number; holdTime: number; routerId: string }> = {}) => msg({
  type: 'open', version: o.version ?? 4, myAs: o.myAs ?? PEER_AS, holdTime: o.holdTime ?? 90, routerId: o.routerId ?? '192.0.2.77',
  capabilities: makeCapabilities({ asn: o.myAs ?? PEER_AS, families: ['ipv4-unicast'] }),
})
const KEEPALIVE = msg({ type: 'keepalive' })
/** a raw message: marker, length, type, body */
const raw = (type: number, body: number[], opts: { marker?: number; length?: number } = {}) =>
  Uint8Array.from([...new Array(16).fill(opts.marker ?? 0xff), ((opts.length ?? 19 + body.length) >> 8) & 255, (opts.length ?? 19 + body.length) & 255, type, ...body])
/** an UPDATE body from path attributes (raw bytes) and IPv4 NLRI (raw bytes) */
const update = (attrs: number[], nlri: number[]) => raw(2, [0, 0, (attrs.length >> 8) & 255, attrs.length & 255, ...attrs, ...nlri])
const ORIGIN = [0x40, 1, 1, 0]
const AS_PATH = [0x40, 2, 6, 2, 1, 0, 0, PEER_AS >> 8, PEER_AS & 255] // AS4 session: 4-octet ASN
const NEXT_HOP = [0x40, 3, 4, 127, 0, 0, 1]

interface Outcome { notification?: [number, number]; closed: boolean }

/** Connect from `from`, write each chunk in order, and read until Porter closes or `ms` pass. */
async function exchange(port: number, chunks: Uint8Array[], opts: { from?: string; ms?: number } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress: opts.from ?? '127.0.0.1' })
    let buf = Buffer.alloc(0)
    let done = false
    const finish = (closed: boolean) => {
      if (done) return
      done = true
      clearTimeout(timer)
      sock.destroy()
      let notification: [number, number] | undefined
      for (let o = 0; o + 19 <= buf.length;) {
        const len = buf.readUInt16BE(o + 16)
        if (len < 19 || o + len > buf.length) break
        if (buf[o + 18] === 3) {
          const m = decode(buf.subarray(o, o + len), ctx)
          if (m.type === 'notification') notification = [m.code, m.subcode]
        }
        o += len
      }
      resolve({ notification, closed })
    }
    const timer = setTimeout(() => finish(false), opts.ms ?? 5000)
    sock.on('connect', () => { for (const c of chunks) sock.write(c) })
    sock.on('data', (d) => { buf = Buffer.concat([buf, d]) })
    sock.on('close', () => finish(true))
    sock.on('error', () => finish(true))
  })
}

const status = async (socket: string) => (await adminRequest(socket, { cmd: 'status' }, 5000)) as DaemonStatus & ControllerStatus

t.test('dist/porter against a hostile peer', async (t) => {
  const binary = builtPorter(dir)
  const port = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const a = s.address() as net.AddressInfo; s.close(() => resolve(a.port)) }) })
  const socket = join(dir, 'porter.sock')
  writeFileSync(join(dir, 'porter.yaml'), `admin: { socket: ${socket} }
bgp:
  localAs: ${PORTER_AS}
  routerId: 192.0.2.1
  listenAddress: 127.0.0.1
  listenPort: ${port}
  peers:
    - { name: hostile, address: 127.0.0.1, peerAs: ${PEER_AS}, passive: true, maxPrefixes: 100 }
vips:
  - { address: 203.0.113.10, nextHops: [127.0.0.1] }
`)
  porter = spawn(binary, ['controller', '--config', join(dir, 'porter.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] })
  await waitFor(() => status(socket).catch(() => undefined), { timeoutMs: 30_000, what: 'porter admin socket' })

  const cases: [string, Uint8Array[], [number, number] | undefined][] = [
    ['bad marker', [raw(1, [...OPEN().subarray(19)], { marker: 0 })], [1, 1]],
    ['bad length (18)', [raw(4, [], { length: 18 })], [1, 2]],
    ['bad type (9)', [raw(9, [])], [1, 3]],
    ['OPEN with version 3', [OPEN({ version: 3 })], [2, 1]],
    ['OPEN with hold time 2', [OPEN({ holdTime: 2 })], [2, 6]],
    ['OPEN with BGP identifier 0.0.0.0', [OPEN({ routerId: '0.0.0.0' })], [2, 3]],
    ['OPEN with the wrong AS', [OPEN({ myAs: 65009 })], [2, 2]],
    ['a KEEPALIVE before OPEN', [KEEPALIVE], [5, 1]],
    ['a prefix length of 33', [OPEN(), KEEPALIVE, update([...ORIGIN, ...AS_PATH, ...NEXT_HOP], [33, 198, 51, 100, 1, 0])], [3, 10]],
    ['ROUTE-REFRESH with a 5-octet body', [OPEN(), KEEPALIVE, raw(5, [0, 1, 0, 1, 0])], [7, 1]],
    ['a NOTIFICATION with garbage data', [OPEN(), KEEPALIVE, raw(3, [6, 2, 0xde, 0xad, 0xbe, 0xef])], undefined],
  ]
  t.ok(cases.length >= 10, `${cases.length} hostile cases`)
  for (const [what, chunks, want] of cases) {
    const r = await exchange(port, chunks)
    if (want) t.same(r.notification, want, `${what}: NOTIFICATION ${want.join('/')}`)
    else t.equal(r.notification, undefined, `${what}: no NOTIFICATION back`)
    t.ok(r.closed, `${what}: Porter closed the connection`)
    t.ok(await status(socket), `${what}: the process answers`)
  }

  // treat-as-withdraw (the session stays up): a COMMUNITIES length not a multiple of 4 (RFC 7606 7.8),
  // an unrecognised well-known attribute (Optional bit clear; as BIRD does), AS_CONFED_SEQUENCE from
  // an external peer (RFC 7606 7.2)
  const soft: [string, Uint8Array][] = [
    ['bad COMMUNITIES length', update([...ORIGIN, ...AS_PATH, ...NEXT_HOP, 0xc0, 8, 5, 0, 0, 0, 1, 2], [32, 198, 51, 100, 1])],
    ['an unrecognised well-known attribute', update([...ORIGIN, ...AS_PATH, ...NEXT_HOP, 0x40, 250, 1, 0], [32, 198, 51, 100, 2])],
    ['AS_CONFED_SEQUENCE from an external peer', update([...ORIGIN, 0x40, 2, 12, 3, 1, 0, 0, 0xfd, 0xea, 2, 1, 0, 0, PEER_AS >> 8, PEER_AS & 255, ...NEXT_HOP], [32, 198, 51, 100, 3])],
  ]
  for (const [what, bytes] of soft) {
    const r = await exchange(port, [OPEN(), KEEPALIVE, bytes, KEEPALIVE], { ms: 1500 })
    t.equal(r.notification, undefined, `${what}: no NOTIFICATION`)
    t.equal(r.closed, false, `${what}: the session stayed up until we left`)
    // we left without a NOTIFICATION: let Porter see the close before the next connection
    await waitFor(async () => (await status(socket)).peers[0]?.state !== 'Established', { timeoutMs: 10_000, what: `${what}: the session down after we left` })
  }

  // 50 connections from an address that is not a neighbour: all refused and counted
  const before = (await status(socket)).refusedConnections
  const refused = await Promise.all(Array.from({ length: 50 }, () => exchange(port, [], { from: '127.0.0.2', ms: 5000 })))
  t.ok(refused.every((r) => r.closed), '50 connections from 127.0.0.2: all closed')
  await waitFor(async () => (await status(socket)).refusedConnections - before >= 50, { timeoutMs: 10_000, what: 'the refused connections counted' })

  // a second connection while the first is Established: refused with Cease 6/7, the first stays
  const first = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' })
  t.teardown(() => first.destroy())
  await new Promise<void>((r) => first.once('connect', () => { first.write(OPEN()); first.write(KEEPALIVE); r() }))
  let got = 0
  first.on('data', (d) => { got += d.length }) // Porter's OPEN, KEEPALIVEs, UPDATEs
  const keep = setInterval(() => first.write(KEEPALIVE), 1000)
  t.teardown(() => clearInterval(keep))
  await waitFor(async () => (await status(socket)).peers[0]?.state === 'Established', { timeoutMs: 15_000, what: 'the well-behaved session Established' })
  // the same three on the long-lived session, then a good route, then a route refresh: Porter
  // handles a session's messages in order, so its answer (the re-sent VIP) means all were handled
  await waitFor(async () => got > 0 && (await status(socket)).peers[0]?.prefixesSent === 1, { timeoutMs: 10_000, what: 'the first UPDATE from Porter' })
  await new Promise((r) => setTimeout(r, 200))
  got = 0
  for (const [, bytes] of soft) first.write(bytes)
  first.write(update([...ORIGIN, ...AS_PATH, ...NEXT_HOP], [32, 198, 51, 100, 9]))
  first.write(raw(5, [0, 1, 0, 1]))
  await waitFor(() => got > 0, { timeoutMs: 10_000, what: 'Porter\'s answer to the route refresh' })
  t.equal((await status(socket)).peers[0]?.prefixesReceived, 1, 'treat-as-withdraw routes are not counted, the good one is')
  const second = await exchange(port, [OPEN(), KEEPALIVE])
  t.same(second.notification, [6, 7], 'second connection: Cease / Connection Collision Resolution')
  const st = await status(socket)
  t.equal(st.peers[0]?.state, 'Established', 'the first session is still Established')
  t.ok(porter.exitCode === null && porter.signalCode === null, 'porter never exited')
})
