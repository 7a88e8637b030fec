// A peer's Adj-RIB-Out (internal/bgp/rib) as the session's RouteSource: the RIB decides what
// changes, the codec packs each attribute group into as few UPDATEs as the message size allows.
import { AdjRibOut, type Advertisement, type AdvertisementBatch, type ExportAttrs, type ExportContext, type NextHopMode, type RibDiff } from '../rib/index.ts'
import { encodeUpdates, encodeWithdrawals, joinMessages, type CodecContext, type FamilyKey } from '../wire/index.ts'
import type { RouteSource } from './types.ts'

export type { Advertisement, AdvertisementBatch } from '../rib/index.ts'
export type PeerExport = ExportAttrs

export interface PeerRoutesOptions {
  localAs: number
  peerAs: number
  nextHop: NextHopMode
  export: ExportAttrs
  /** ADD-PATH wanted (it is used only where the peer negotiated it) */
  addPath: boolean
  /**
   * Called once per negotiated session context when ADD-PATH was wanted but the peer did not
   * negotiate it for a family where a prefix has several next hops (it gets one path: no ECMP)
   */
  onEcmpUnavailable?: (info: { addPathTx: FamilyKey[]; singlePathPrefixes: number }) => void
}

/** Bytes per socket write: whole messages, about this size (the first writes smaller, FIRST_CHUNK doubling). */
const CHUNK = 256 * 1024
/**
 * The first write of a round: the router starts on it while the rest is encoded. A withdraw-all
 * of 100k VIPs is 492 KB: in 256 KB chunks of a diff encoded whole, the first bytes left after all
 * of it was encoded (60-100 ms in the daemon without the optimizing compiler).
 */
const FIRST_CHUNK = 16 * 1024
/** NLRI per encode call, so that a chunk can go out before a large group is encoded whole */
const SLICE = 8192

export class PeerRoutes implements RouteSource {
  private readonly rib: AdjRibOut
  private ctxKey = ''
  /** the ECMP warning was given for this context */
  private warnedKey: string | undefined
  private addPathTx: FamilyKey[] = []
  /** the context of the last set, without the graceful-shutdown flag */
  private ctx: ExportContext
  private gracefulShutdown = false

  constructor(private readonly opts: PeerRoutesOptions) {
    // start from the context the session will most likely negotiate, so reaching Established
    // does not rebuild a large table (ADD-PATH both families when wanted)
    this.ctx = this.context(opts.addPath ? new Set<FamilyKey>(['ipv4-unicast', 'ipv6-unicast']) : new Set(), undefined, undefined)
    this.rib = new AdjRibOut(this.ctx)
  }

  /**
   * RFC 8326: every route again with GRACEFUL_SHUTDOWN (and LOCAL_PREF 0 to an iBGP peer), or
   * back to normal. The session sends the re-announcements on its next drain.
   */
  setGracefulShutdown(on: boolean): void {
    if (on === this.gracefulShutdown) return
    this.gracefulShutdown = on
    this.rib.setContext({ ...this.ctx, gracefulShutdown: on })
  }

  private context(addPathTx: ReadonlySet<FamilyKey>, families: ReadonlySet<FamilyKey> | undefined, local: string | undefined): ExportContext {
    const o = this.opts
    return {
      localAs: o.localAs,
      peerAs: o.peerAs,
      addPathTx: o.addPath ? addPathTx : new Set(),
      families,
      nextHopMode: o.nextHop,
      selfAddress: local ? (local.includes(':') ? { ipv6: local } : { ipv4: local }) : undefined,
      peerAttrs: o.export,
    }
  }

  /** Replace the desired set (throws PORTER_ERR_CONFIG_INVALID and keeps the old set on bad input). */
  set(advs: readonly (Advertisement | AdvertisementBatch)[]): void {
    this.rib.set(advs)
    this.checkEcmp()
  }

  /** Next hops the peer has for `prefix` ([] none; next-hop self: our address). */
  sentNextHops(prefix: string): string[] {
    return this.rib.sentNextHops(prefix) ?? []
  }

  private checkEcmp(): void {
    // '' = not negotiated yet (the table assumes ADD-PATH until then)
    if (!this.opts.addPath || this.ctxKey === '' || this.warnedKey === this.ctxKey) return
    const n = this.rib.singlePathPrefixes
    if (n === 0) return
    this.warnedKey = this.ctxKey
    this.opts.onEcmpUnavailable?.({ addPathTx: this.addPathTx, singlePathPrefixes: n })
  }

  get sentCount(): number {
    return this.rib.status().sentPaths
  }

  status() {
    return this.rib.status()
  }

  drain(ctx: CodecContext, families: readonly FamilyKey[], full: boolean | readonly FamilyKey[], localAddress?: string) {
    const key = JSON.stringify([[...ctx.addPathTx].sort(), [...families].sort(), localAddress])
    if (key !== this.ctxKey) {
      this.ctx = this.context(ctx.addPathTx, new Set(families), localAddress)
      this.rib.setContext({ ...this.ctx, gracefulShutdown: this.gracefulShutdown })
      this.ctxKey = key
      this.addPathTx = [...ctx.addPathTx].sort()
      this.checkEcmp()
    }
    if (full === true) this.rib.reset()
    else if (full) for (const f of full) this.rib.reset(f)
    const diff: RibDiff = this.rib.pending()
    return { chunks: encodeDiff(diff, ctx), commit: () => this.rib.commit(diff) }
  }

  reset(): void {
    this.rib.reset()
  }
}

/**
 * Announcements first, then withdrawals (make-before-break: when a VIP's next hops change, the
 * router gets the new paths before the old ones go), as whole-message chunks of about CHUNK bytes.
 */
function* encodeDiff(diff: RibDiff, ctx: CodecContext): Generator<Uint8Array> {
  let batch: Uint8Array[] = []
  let size = 0
  let limit = FIRST_CHUNK
  const flush = function* () {
    if (batch.length) yield batch.length === 1 ? batch[0]! : joinMessages(batch)
    batch = []
    size = 0
    limit = Math.min(limit * 2, CHUNK)
  }
  const add = function* (msgs: Uint8Array[]) {
    for (const m of msgs) {
      batch.push(m)
      size += m.length
      if (size >= limit) yield* flush()
    }
  }
  // a group of more than SLICE NLRI is encoded a slice at a time (a partly filled UPDATE at
  // each slice's end: ~10% more messages than packed whole, at 100k /32s)
  const sliced = <T>(list: readonly T[], i: number): readonly T[] => (list.length <= SLICE ? list : list.slice(i, i + SLICE))
  for (const g of diff.announce) for (let i = 0; i < g.nlri.length; i += SLICE) yield* add(encodeUpdates(g.attrs as never, sliced(g.nlri, i), ctx))
  for (const w of diff.withdraw) for (let i = 0; i < w.nlri.length; i += SLICE) yield* add(encodeWithdrawals(sliced(w.nlri, i), ctx))
  yield* flush()
}
