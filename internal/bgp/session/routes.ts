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

/** Bytes per socket write: whole messages, about this size. */
const CHUNK = 256 * 1024

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
  const flush = function* () {
    if (batch.length) yield batch.length === 1 ? batch[0]! : joinMessages(batch)
    batch = []
    size = 0
  }
  const add = function* (msgs: Uint8Array[]) {
    for (const m of msgs) {
      batch.push(m)
      size += m.length
      if (size >= CHUNK) yield* flush()
    }
  }
  for (const g of diff.announce) if (g.nlri.length) yield* add(encodeUpdates(g.attrs as never, g.nlri, ctx))
  for (const w of diff.withdraw) if (w.nlri.length) yield* add(encodeWithdrawals(w.nlri, ctx))
  yield* flush()
}
