// Netlink request sockets over the `netlink` package: dumps and batched writes with a bounded
// number of requests in flight. One operation runs at a time per socket (the kernel allows one
// dump per socket anyway). `Rtnl` adds the rtnetlink dumps (addresses, routes, links).
import { RawNetlinkSocket, Protocol } from 'netlink'
import { constants } from 'node:os'
import {
  splitMessages, errorOf, setSeq, decodeAddr, decodeRoute, decodeLink, routeProtocolOf,
  encodeGetAddrs, encodeGetRoutes, encodeGetLinks,
  NLMSG_DONE, NLMSG_ERROR, NLM_F_DUMP_INTR,
  type AddrEntry, type RouteEntry, type LinkEntry, type Family, type NlHeader,
} from './_codec.ts'
import { errnoNumber } from '../base/index.ts'
import { NetlinkError, errnoName } from './errors.ts'

export interface RtnlOptions {
  /** requests in flight at once (1..256, default 256) */
  maxInFlight?: number
  /** SO_RCVBUF to ask for (the kernel caps it at net.core.rmem_max); default 4 MiB */
  recvBufferSize?: number
  /** an operation that makes no progress for this long fails with ETIMEDOUT (default 10 s) */
  timeoutMs?: number
  /**
   * read into 32 KiB buffers instead of peeking at each datagram's size: the kernel then builds
   * 32 KiB dump chunks (8x fewer than after 4 KiB reads). Costs 32 KiB per datagram received,
   * so use it for a socket that dumps, not for one that collects thousands of ACKs.
   */
  bulkReads?: boolean
}

/** One write request: an encoded message and a description for errors ("add address ..."). */
export interface WriteRequest { msg: Buffer; op: string }
/** errno per request, in order: 0 for success. */
export type WriteResults = number[]

interface Op {
  onMessage(buf: Buffer, h: NlHeader): void
  fail(err: NetlinkError): void
}

const DUMP_RETRIES = 5
/** messages packed into one sendmsg (the kernel handles each and acks each) */
const PACK = 64

export class NetlinkConn {
  readonly #sock: RawNetlinkSocket
  readonly #maxInFlight: number
  readonly #timeoutMs: number
  #seq = 1
  #op: { seqs: Set<number>; op: Op } | undefined
  #queue: Promise<unknown> = Promise.resolve()
  #closed = false
  /** number of write requests sent to the kernel since the socket was opened */
  writes = 0

  readonly #what: string

  constructor(protocol: number, what: string, opts: RtnlOptions = {}) {
    this.#what = what
    this.#maxInFlight = Math.max(1, Math.min(256, opts.maxInFlight ?? 256))
    this.#timeoutMs = opts.timeoutMs ?? 10_000
    try {
      this.#sock = new RawNetlinkSocket(protocol, opts.bulkReads
        ? { recvBufferSize: opts.recvBufferSize ?? 4 << 20, sendBufferSize: 0, messagePeeking: false, msgBufferSize: 32768 }
        : { recvBufferSize: opts.recvBufferSize ?? 4 << 20, sendBufferSize: 0 })
    } catch (e) {
      throw new NetlinkError(`open ${what} socket`, errnoNumber(e), undefined, { cause: e })
    }
    this.#sock.unref()
    this.#sock.on('message', (buf) => this.#receive(buf))
    this.#sock.on('error', (err) => {
      // a socket error (ENOBUFS: the receive queue overflowed and replies were lost) fails the
      // running operation; the socket stays usable and the caller re-dumps.
      const e = new NetlinkError(`receive from the ${this.#what} socket`, errnoNumber(err), undefined, { cause: err })
      this.#failCurrent(e)
    })
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#failCurrent(new NetlinkError('finish the request', constants.errno.ECANCELED, 'the socket was closed'))
    this.#sock.close()
  }

  #nextSeq(): number {
    const s = this.#seq
    this.#seq = (this.#seq % 0x7fffffff) + 1
    return s
  }

  #receive(buf: Buffer): void {
    const cur = this.#op
    if (!cur) return
    for (const h of splitMessages(buf)) {
      if (!cur.seqs.has(h.seq)) continue
      cur.op.onMessage(buf, h)
      if (this.#op !== cur) return
    }
  }

  #failCurrent(err: NetlinkError): void {
    const cur = this.#op
    if (cur) cur.op.fail(err)
  }

  /** Run one operation at a time. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => undefined)
    return run
  }

  #run<T>(opName: string, start: (seqs: Set<number>, progress: () => void, done: (v: T) => void, fail: (e: NetlinkError) => void) => Op): Promise<T> {
    return this.#exclusive(() => new Promise<T>((resolve, reject) => {
      if (this.#closed) { reject(new NetlinkError(opName, constants.errno.EBADF, 'the socket is closed')); return }
      const seqs = new Set<number>()
      // one timer per operation; progress only records the time (a dump delivers thousands of messages)
      let last = performance.now()
      let timer: NodeJS.Timeout | undefined
      const check = () => {
        const idle = performance.now() - last
        if (idle >= this.#timeoutMs) fail(new NetlinkError(opName, constants.errno.ETIMEDOUT, `no reply within ${this.#timeoutMs} ms`))
        else timer = setTimeout(check, this.#timeoutMs - idle)
      }
      const finish = () => { clearTimeout(timer); this.#op = undefined; this.#sock.unref() }
      const progress = () => { last = performance.now() }
      const done = (v: T) => { finish(); resolve(v) }
      const fail = (e: NetlinkError) => { finish(); reject(e) }
      this.#sock.ref()
      timer = setTimeout(check, this.#timeoutMs)
      this.#op = { seqs, op: start(seqs, progress, done, fail) }
    }))
  }

  #send(msgs: Buffer[], opName: string, fail: (e: NetlinkError) => void): void {
    try {
      this.#sock.send(msgs, { port: 0 }, (err) => {
        if (err) fail(new NetlinkError(opName, errnoNumber(err), undefined, { cause: err }))
      })
    } catch (e) {
      // the socket was closed under us (e.g. by a fatal socket error)
      queueMicrotask(() => fail(new NetlinkError(opName, errnoNumber(e) || constants.errno.EBADF, (e as Error).message, { cause: e })))
    }
  }

  /** A dump request; returns every reply message. Retries when the kernel flags the dump as interrupted. */
  async dump<T>(opName: string, encode: (seq: number) => Buffer, decode: (buf: Buffer, h: NlHeader) => T | undefined): Promise<T[]> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.#run<{ items: T[]; intr: boolean }>(opName, (seqs, progress, done, fail) => {
        const seq = this.#nextSeq()
        seqs.add(seq)
        const items: T[] = []
        let intr = false
        this.#send([encode(seq)], opName, fail)
        return {
          onMessage: (buf, h) => {
            progress()
            if (h.flags & NLM_F_DUMP_INTR) intr = true
            if (h.type === NLMSG_DONE) { done({ items, intr }); return }
            if (h.type === NLMSG_ERROR) { fail(new NetlinkError(opName, errorOf(buf, h))); return }
            const v = decode(buf, h)
            if (v !== undefined) items.push(v)
          },
          fail,
        }
      })
      if (!r.intr || attempt >= DUMP_RETRIES) return r.items
    }
  }

  /**
   * Send write requests with at most `maxInFlight` awaiting their ACK. Returns the errno of each
   * (0 = done). A socket error or timeout rejects with NetlinkError: some requests may then have
   * been applied, so the caller must re-dump before planning again.
   */
  write(reqs: readonly WriteRequest[]): Promise<WriteResults> {
    return this.#write(reqs)
  }

  /** Like `write`, but throws the first failure as a NetlinkError naming the request. */
  async writeAll(reqs: readonly WriteRequest[], ignore: readonly number[] = []): Promise<void> {
    const res = await this.write(reqs)
    const i = res.findIndex((e) => e !== 0 && !ignore.includes(e))
    if (i >= 0) throw new NetlinkError(reqs[i]!.op, res[i]!, errnoName(res[i]!))
  }

  #write(reqs: readonly WriteRequest[]): Promise<WriteResults> {
    if (reqs.length === 0) return Promise.resolve([])
    return this.#run<WriteResults>(reqs[0]!.op, (seqs, progress, done, fail) => {
      const results: WriteResults = new Array(reqs.length).fill(-1)
      const bySeq = new Map<number, number>()
      let next = 0
      let acked = 0
      const pump = () => {
        while (next < reqs.length && seqs.size < this.#maxInFlight) {
          const n = Math.min(PACK, reqs.length - next, this.#maxInFlight - seqs.size)
          const batch: Buffer[] = []
          for (let i = 0; i < n; i++, next++) {
            const seq = this.#nextSeq()
            const msg = reqs[next]!.msg
            setSeq(msg, seq)
            seqs.add(seq)
            bySeq.set(seq, next)
            batch.push(msg)
          }
          this.writes += n
          this.#send(batch, reqs[next - 1]!.op, fail)
        }
      }
      pump()
      return {
        onMessage: (buf, h) => {
          if (h.type !== NLMSG_ERROR) return
          const i = bySeq.get(h.seq)
          if (i === undefined) return
          progress()
          seqs.delete(h.seq)
          bySeq.delete(h.seq)
          results[i] = errorOf(buf, h)
          if (++acked === reqs.length) done(results)
          else pump()
        },
        fail,
      }
    })
  }
}

/** rtnetlink: addresses, routes and links of the current network namespace. */
export class Rtnl extends NetlinkConn {
  constructor(opts: RtnlOptions = {}) {
    super(Protocol.ROUTE, 'rtnetlink', opts)
  }

  /** Every IPv4 and IPv6 address in the namespace. */
  addresses(family: Family | 0 = 0): Promise<AddrEntry[]> {
    return this.dump('list addresses', (seq) => encodeGetAddrs(family, seq), decodeAddr)
  }

  /** Routes of one family in every table; `protocol` keeps only routes with that protocol number. */
  routes(family: Family, protocol?: number): Promise<RouteEntry[]> {
    return this.dump(`list IPv${family} routes`, (seq) => encodeGetRoutes(family, seq), (buf, h) =>
      protocol === undefined || routeProtocolOf(buf, h) === protocol ? decodeRoute(buf, h) : undefined)
  }

  links(): Promise<LinkEntry[]> {
    return this.dump('list links', encodeGetLinks, decodeLink)
  }

  async ifindex(name: string): Promise<number | undefined> {
    return (await this.links()).find((l) => l.name === name)?.ifindex
  }

}

