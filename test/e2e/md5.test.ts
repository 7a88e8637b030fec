// TCP MD5 signatures (RFC 2385) from internal/sys/md5.ts against BIRD 2 with `password`, in network
// namespaces. A small Node program (CHILD below, run with tsx inside the Porter namespace) opens the
// TCP connection, sends a BGP OPEN built with our codec and prints BIRD's first message.
//  - active: connectTcp with BIRD's password reaches the OPEN exchange (IPv4 and IPv6), and
//    tcpdump (checking the signatures with -M) shows that the very FIRST SYN was validly signed:
//    the key is on the socket before connect(2); a wrong key or no key never connects.
//  - passive: a listening socket with the key for BIRD's address accepts BIRD's signed connection
//    (also on a dual-stack socket, IPv4 peer as v4-mapped); without the key BIRD's SYNs are dropped.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLab, waitFor, type Lab } from './lib/netns.ts'
import { routerAndPorter } from './lib/bgp-lab.ts'
import { Bird } from './lib/bird.ts'
import { tcpdump } from './lib/tcpdump.ts'
import { ROOT } from '../lib/cli.ts'
import { decode, defaultContext, encode, type BgpMessage } from '../../internal/bgp/wire/index.ts'
import { buildOpen, fsmConfig } from '../../internal/bgp/fsm/index.ts'

const BIRD_AS = 65001
const PORTER_AS = 65002
const PASSWORD = 'porter md5 test key'
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs')
const MD5_TS = join(ROOT, 'internal', 'sys', 'index.ts')

// Prints JSON lines: {"event":"connect"|"listening"|"accepted"|"message"|"error"|"timeout", ms, ...}
const CHILD = `
import net from 'node:net'
import { connectTcp, setTcpMd5, socketFd } from ${JSON.stringify(MD5_TS)}
const cfg = JSON.parse(process.argv[1])
const t0 = performance.now()
const out = (o) => console.log(JSON.stringify({ ms: Math.round(performance.now() - t0), ...o }))
const open = Buffer.from(cfg.open, 'hex')
function speak(sock) {
  let buf = Buffer.alloc(0)
  sock.write(open)
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d])
    if (buf.length >= 19 && buf.length >= buf.readUInt16BE(16)) {
      out({ event: 'message', hex: buf.subarray(0, buf.readUInt16BE(16)).toString('hex') })
      sock.destroy()
      process.exit(0)
    }
  })
}
setTimeout(() => { out({ event: 'timeout' }); process.exit(0) }, cfg.timeoutMs)
if (cfg.mode === 'active') {
  const opts = { host: cfg.host, port: 179, localAddress: cfg.localAddress }
  const sock = cfg.key === null ? net.connect(opts) : connectTcp({ ...opts, key: cfg.key })
  sock.on('connect', () => { out({ event: 'connect' }); speak(sock) })
  sock.on('error', (e) => out({ event: 'error', message: e.message }))
} else {
  const server = net.createServer((sock) => {
    out({ event: 'accepted', remote: sock.remoteAddress })
    sock.on('error', (e) => out({ event: 'error', message: e.message }))
    speak(sock)
  })
  server.listen({ host: cfg.listen, port: 179, ipv6Only: false }, () => {
    if (cfg.key !== null) setTcpMd5(socketFd(server), cfg.peer, cfg.key)
    out({ event: 'listening' })
  })
}
`

interface Event { event: string; ms: number; hex?: string; message?: string; remote?: string }

function openHex(): string {
  const open = buildOpen(fsmConfig({ localAs: PORTER_AS, remoteAs: BIRD_AS, routerId: '192.0.2.2', holdTime: 90 }))
  return Buffer.from(encode(open, defaultContext())).toString('hex')
}

function childCmd(cfg: Record<string, unknown>): string[] {
  return [process.execPath, '--import', TSX, '--input-type=module', '-e', CHILD, JSON.stringify({ open: openHex(), ...cfg })]
}

function events(text: string): Event[] {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event)
}

function bgpMessage(ev: Event | undefined): BgpMessage | undefined {
  return ev?.hex ? decode(Buffer.from(ev.hex, 'hex'), defaultContext()) : undefined
}

/** tcpdump's reading of a capture, checking MD5 signatures with the password (-M). */
async function readCapture(lab: Lab, ns: string, file: string): Promise<string[]> {
  const r = await lab.exec(ns, ['tcpdump', '-r', file, '-nn', '-v', '-M', PASSWORD])
  return r.stdout.split('\n').filter((l) => /Flags \[/.test(l))
}

/**
 * Stop a capture once tcpdump has written what `done` looks for: it receives packets from the
 * kernel in blocks, up to a second late, and would drop the pending ones if stopped at once.
 */
async function stopWhen(lab: Lab, ns: string, cap: { file: string; stop(): Promise<void> }, done: (lines: string[]) => boolean): Promise<string[]> {
  await waitFor(async () => done(await readCapture(lab, ns, cap.file)), { timeoutMs: 5000, intervalMs: 200, what: 'tcpdump to write the packets' }).catch(() => undefined)
  await cap.stop()
  return readCapture(lab, ns, cap.file)
}

const isSyn = (l: string): boolean => /Flags \[S\]/.test(l)
const isSynAck = (l: string): boolean => /Flags \[S\.\]/.test(l)

t.test('active: connectTcp signs the first SYN; BIRD answers the OPEN; wrong or no key never connects', async (t) => {
  const lab = createLab(t)
  const { r, p } = await routerAndPorter(lab)
  const bird = new Bird(lab, { ns: r, as: BIRD_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true, password: PASSWORD, name: 'porter4' },
    { address: '2001:db8::2', as: PORTER_AS, passive: true, password: PASSWORD, name: 'porter6', families: ['ipv6'] },
  ] })
  await bird.start()
  const active = async (cfg: Record<string, unknown>): Promise<Event[]> =>
    events((await lab.exec(p, childCmd({ mode: 'active', timeoutMs: 4000, ...cfg }), { timeoutMs: 30_000 })).stdout)

  for (const [host, localAddress, fam] of [['192.0.2.1', '192.0.2.2', 'IPv4'], ['2001:db8::1', '2001:db8::2', 'IPv6']] as const) {
    const pcap = join(lab.dir, `active-${fam}.pcap`)
    const cap = await tcpdump(lab, r, 'eth0', pcap)
    const ev = await active({ host, localAddress, key: PASSWORD })
    const lines = await stopWhen(lab, r, cap, (ls) => ls.some((l) => /Flags \[[RF]/.test(l)))
    const connect = ev.find((e) => e.event === 'connect')
    t.ok(connect, `${fam}: TCP connected (${JSON.stringify(ev)})`)
    // the initial SYN retransmission timeout is 1 s: a connection this fast used the first SYN
    t.ok(connect && connect.ms < 900, `${fam}: connected after ${connect?.ms} ms, before any SYN retransmission`)
    const msg = bgpMessage(ev.find((e) => e.event === 'message'))
    t.match(msg, { type: 'open', myAs: BIRD_AS, routerId: '192.0.2.1' }, `${fam}: BIRD answered our OPEN with its OPEN`)
    const syns = lines.filter((l) => isSyn(l) && l.includes(`${localAddress}.`))
    if (syns.length !== 1) t.comment(lines.join('\n'))
    t.equal(syns.length, 1, `${fam}: exactly one SYN from Porter's side, no retransmission`)
    t.match(syns[0], /md5 valid/, `${fam}: the first SYN carries a valid RFC 2385 signature`)
    const data = lines.filter((l) => /length [1-9]/.test(l))
    t.ok(data.length >= 2, `${fam}: segments with data were exchanged`)
    t.ok(data.every((l) => /md5 valid/.test(l)), `${fam}: every data segment is validly signed, both directions`)
  }

  const pcap = join(lab.dir, 'wrong.pcap')
  const cap = await tcpdump(lab, r, 'eth0', pcap)
  const wrong = await active({ host: '192.0.2.1', localAddress: '192.0.2.2', key: 'not the password' })
  const none = await active({ host: '192.0.2.1', localAddress: '192.0.2.2', key: null })
  const lines = await stopWhen(lab, r, cap, (ls) => ls.some((l) => isSyn(l) && !/md5/.test(l)))
  t.same(wrong.map((e) => e.event), ['timeout'], 'wrong key: no TCP connection within 4 s')
  t.same(none.map((e) => e.event), ['timeout'], 'no key: no TCP connection within 4 s')
  t.ok(lines.some((l) => isSyn(l) && /md5 +\(invalid\)/.test(l)), 'the wrong-key SYNs reached BIRD\'s side, signed with another key')
  t.ok(lines.some((l) => isSyn(l) && !/md5/.test(l)), 'the unsigned SYNs reached BIRD\'s side')
  t.notOk(lines.some(isSynAck), 'BIRD\'s kernel never answered them')
})

t.test('passive: a listener keyed for BIRD accepts its signed connection; without the key the SYNs are dropped', async (t) => {
  const lab = createLab(t)
  const { r, p } = await routerAndPorter(lab)
  const bird = new Bird(lab, { ns: r, as: BIRD_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: false, password: PASSWORD, name: 'porter4', localAddress: '192.0.2.1' },
  ] })

  const passive = async (label: string, cfg: Record<string, unknown>): Promise<Event[]> => {
    const log = join(lab.dir, `passive-${label}.log`)
    const child = lab.spawn(p, childCmd({ mode: 'passive', timeoutMs: 8000, ...cfg }), { logFile: log })
    await waitFor(() => events(readFileSync(log, 'utf8')).some((e) => e.event === 'listening'), { timeoutMs: 15_000, what: `${label} listener` })
    await bird.start()
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())))
    await bird.stop()
    return events(readFileSync(log, 'utf8'))
  }

  for (const [label, listen] of [['ipv4', '192.0.2.2'], ['dual-stack', '::']] as const) {
    const ev = await passive(label, { listen, peer: '192.0.2.1', key: PASSWORD })
    const accepted = ev.find((e) => e.event === 'accepted')
    t.ok(accepted, `${label} listener: BIRD's connection accepted (${JSON.stringify(ev)})`)
    t.match(accepted?.remote, /^(::ffff:)?192\.0\.2\.1$/, `${label}: from BIRD's address`)
    t.match(bgpMessage(ev.find((e) => e.event === 'message')), { type: 'open', myAs: BIRD_AS }, `${label}: OPEN exchanged`)
  }

  const pcap = join(lab.dir, 'passive-nokey.pcap')
  const cap = await tcpdump(lab, r, 'eth0', pcap)
  const ev = await passive('nokey', { listen: '192.0.2.2', peer: '192.0.2.1', key: null })
  const lines = await stopWhen(lab, r, cap, (ls) => ls.filter(isSyn).length >= 2)
  t.same(ev.map((e) => e.event), ['listening', 'timeout'], 'no key on the listener: nothing accepted in 8 s')
  const birdSyns = lines.filter((l) => isSyn(l) && l.includes('192.0.2.1.') && l.includes('> 192.0.2.2.179'))
  t.ok(birdSyns.length >= 2, `BIRD kept trying (${birdSyns.length} SYNs)`)
  t.ok(birdSyns.every((l) => /md5 valid/.test(l)), 'with validly signed SYNs')
  t.notOk(lines.some(isSynAck), 'which the listener\'s kernel dropped: no SYN-ACK')
})
