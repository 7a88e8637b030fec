// Per-peer Adj-RIB-Out (RFC 4271 3.2), pure. It holds two tables:
//   desired: what the peer should have, rebuilt from the full advertisement set on every set()
//   sent:    what the peer is known to have (updated by commit(), emptied by reset())
// pending() is the difference, grouped by identical wire attributes so the session can pack
// many NLRI into one UPDATE. Both tables are keyed by prefix text, each entry being that
// prefix's few routes (one per path id; the array itself, no record around it: at 100k prefixes
// every object per prefix is ~5 MiB), so 100k prefixes cost 100k map entries, not more.
import { PorterError } from '../../errors/index.ts'
import type { FamilyKey, Nlri, PathAttributes } from '../wire/index.ts'
import { AFI_IPV4, parseAddress, parsePrefixOrReason, type ParsedAddress, type ParsedPrefix } from '../../ip/index.ts'
import { buildPathAttributes, mergeExportAttrs, resolveExportAttrs, type ExportAttrs, type ResolvedAttrs } from './attrs.ts'
import { assignPathIds } from './pathid.ts'

/** One VIP (or any prefix) and the next hops that serve it. */
export interface Advertisement {
  /** CIDR, e.g. "192.0.2.10/32" or "2001:db8::10/128"; host bits must be zero */
  prefix: string
  /** next hop addresses of the prefix's family; empty = not advertised */
  nextHops: readonly string[]
  /** per-VIP attributes, merged over the peer's (see mergeExportAttrs) */
  attrs?: ExportAttrs
}

export type NextHopMode = 'as-given' | 'self'

/** What the RIB needs to know about the peer and the session. */
export interface ExportContext {
  localAs: number
  /** equal to localAs = iBGP */
  peerAs: number
  /** families where ADD-PATH send was negotiated (`Negotiated.codec.addPathTx`) */
  addPathTx: ReadonlySet<FamilyKey>
  /** families negotiated with the peer (`Negotiated.families`); others are skipped. Default both */
  families?: ReadonlySet<FamilyKey>
  /** 'as-given': next hops as advertised (third party); 'self': our own address */
  nextHopMode: NextHopMode
  /** our addresses toward this peer, needed for 'self' */
  selfAddress?: { ipv4?: string; ipv6?: string; ipv6LinkLocal?: string }
  /** peer-level export attributes */
  peerAttrs?: ExportAttrs
}

/** Routes to announce that share one set of wire attributes. */
export interface AnnounceGroup {
  family: FamilyKey
  /** stable identity of the attribute set */
  key: string
  /** frozen, shared; see buildPathAttributes for what is in it */
  attrs: Readonly<PathAttributes>
  /** pathId present exactly when ADD-PATH send is on for the family */
  nlri: Nlri[]
}

export interface WithdrawGroup {
  family: FamilyKey
  nlri: Nlri[]
}

/** A change set. Send the withdrawals, then the announcements; then commit(diff). */
export interface RibDiff {
  withdraw: WithdrawGroup[]
  announce: AnnounceGroup[]
}

export interface RibStatus {
  /** prefixes with at least one path in the desired table */
  prefixes: number
  /** paths in the desired table */
  paths: number
  /** paths the peer is known to have */
  sentPaths: number
  addPath: Record<FamilyKey, boolean>
  /** some prefix has several next hops but the peer gets one path (no ADD-PATH for its family) */
  ecmpUnavailable: boolean
  /** how many prefixes lost next hops that way */
  singlePathPrefixes: number
  /** advertisements not sent to this peer, with why */
  skipped: { prefix: string; reason: string }[]
}

interface Group {
  key: string
  family: FamilyKey
  attrs: Readonly<PathAttributes>
}

/** A route the peer has (sent table) or should have (desired table). Never mutated. */
interface RouteRec {
  /** the prefix's canonical "addr/len" (its table key; the family is nlri.prefix.afi's) */
  text: string
  pathId: number | undefined
  nlri: Nlri
  groupKey: string
}

interface DesiredRoute extends RouteRec {
  group: Group
}

/** A prefix's routes in a table: one per path id, a handful at most, never empty */
type Routes<R extends RouteRec> = R[]

/** Next hops of one prefix, with the attributes each came with (parallel arrays, no per-hop objects). */
interface PrefixEntry {
  parsed: ParsedPrefix
  family: FamilyKey
  hops: ParsedAddress[]
  attrs: ResolvedAttrs[]
}

const FAMILIES: readonly FamilyKey[] = ['ipv4-unicast', 'ipv6-unicast']
const ALL_FAMILIES: ReadonlySet<FamilyKey> = new Set(FAMILIES)

function invalid(msg: string, cause?: unknown): PorterError {
  return new PorterError('PORTER_ERR_CONFIG_INVALID', msg, cause === undefined ? undefined : { cause })
}

/** Text key of a route: "addr/len#pathId" ("addr/len#" without a path id). For logs and tests. */
export function routeKey(n: Nlri): string {
  return `${n.prefix.addr}/${n.prefix.len}#${n.pathId ?? ''}`
}

export function isEmptyDiff(d: RibDiff): boolean {
  return d.withdraw.length === 0 && d.announce.length === 0
}

/** Number of NLRI withdrawn and announced. */
export function diffSize(d: RibDiff): { withdrawn: number; announced: number } {
  let withdrawn = 0
  let announced = 0
  for (const w of d.withdraw) withdrawn += w.nlri.length
  for (const a of d.announce) announced += a.nlri.length
  return { withdrawn, announced }
}

function findRoute<R extends RouteRec>(routes: readonly R[], pathId: number | undefined): R | undefined {
  for (const r of routes) if (r.pathId === pathId) return r
  return undefined
}

type Pending = { announce: Map<string, [AnnounceGroup, RouteRec[]]>; withdraw: Map<FamilyKey, [WithdrawGroup, RouteRec[]]> }

export class AdjRibOut {
  #ctx: ExportContext
  #ibgp: boolean
  #advs: readonly Advertisement[] = []
  #desired = new Map<string, Routes<DesiredRoute>>()
  #sent = new Map<string, Routes<RouteRec>>()
  #paths = 0
  #groups = new Map<string, Group>()
  /** routes behind each group of a diff this RIB returned, so commit() needs no parsing */
  #diffRoutes = new WeakMap<AnnounceGroup | WithdrawGroup, readonly RouteRec[]>()
  /** last attributes object seen: consecutive advertisements often share one */
  #lastVip: ExportAttrs | undefined
  #lastResolved: ResolvedAttrs | undefined
  #byText = new Map<string, ResolvedAttrs>()
  #peerOnly: ResolvedAttrs | undefined
  #nextHops = new Map<string, ParsedAddress>()
  #singlePath = 0
  #skipped: { prefix: string; reason: string }[] = []
  /** families of the prefixes in the last set(), skipped ones included */
  #advFamilies: ReadonlySet<FamilyKey> = new Set()

  constructor(ctx: ExportContext) {
    checkContext(ctx)
    this.#ctx = ctx
    this.#ibgp = ctx.localAs === ctx.peerAs
  }

  /**
   * Change the peer context (after OPEN negotiation, or a config reload) and rebuild the desired
   * table from the current advertisements. When ADD-PATH or the families change, the session is
   * new: call reset() as well so nothing is withdrawn in the old encoding.
   */
  setContext(ctx: ExportContext): void {
    checkContext(ctx)
    if (sameEffect(this.#ctx, ctx, this.#advFamilies)) {
      // nothing the desired table depends on changed (e.g. the first Established with the
      // families and ADD-PATH setting we started with): keep the table, skip the rebuild
      this.#ctx = ctx
      return
    }
    const prev = { ctx: this.#ctx, ibgp: this.#ibgp, byText: this.#byText, peerOnly: this.#peerOnly, groups: this.#groups }
    this.#ctx = ctx
    this.#ibgp = ctx.localAs === ctx.peerAs
    this.#groups = new Map() // attributes depend on the context: rebuild them
    this.#byText = new Map()
    this.#lastVip = undefined
    this.#peerOnly = undefined
    try {
      this.set(this.#advs)
    } catch (e) {
      this.#ctx = prev.ctx
      this.#ibgp = prev.ibgp
      this.#byText = prev.byText
      this.#peerOnly = prev.peerOnly
      this.#groups = prev.groups
      throw e
    }
  }

  /**
   * Replace the desired set with `desired` (the full set, never a delta). Throws PorterError
   * PORTER_ERR_CONFIG_INVALID naming the bad value (prefix, next hop, community, ...) and then
   * keeps the previous desired set.
   */
  set(desired: readonly Advertisement[]): void {
    const ctx = this.#ctx
    const families = ctx.families ?? ALL_FAMILIES
    const entries = new Map<string, PrefixEntry>()
    this.#lastVip = undefined // the caller may have changed an attributes object since the last call
    for (const adv of desired) {
      const parsed = parsePrefixOrReason(adv.prefix)
      if (typeof parsed === 'string') throw invalid(`Cannot advertise "${adv.prefix}": ${parsed}`)
      let attrs: ResolvedAttrs
      try {
        attrs = this.#resolve(adv.attrs)
      } catch (e) {
        if (e instanceof PorterError) throw invalid(`Cannot advertise "${adv.prefix}": ${e.message}`, e)
        throw e
      }
      let entry = entries.get(parsed.text)
      if (entry === undefined) {
        entry = { parsed, family: parsed.prefix.afi === AFI_IPV4 ? 'ipv4-unicast' : 'ipv6-unicast', hops: [], attrs: [] }
        entries.set(parsed.text, entry)
      }
      for (const nh of adv.nextHops) {
        const addr = this.#nextHop(nh)
        if (addr === undefined) throw invalid(`Cannot advertise "${adv.prefix}" via next hop "${nh}": not an IP address`)
        if (addr.afi !== parsed.prefix.afi) {
          throw invalid(`Cannot advertise "${adv.prefix}" via next hop "${nh}": next hop and prefix are of different address families`)
        }
        addHop(entry, addr, attrs)
      }
    }

    const old = this.#desired
    // the same map becomes the new table: entries are overwritten by records, or deleted
    const table = entries as unknown as Map<string, Routes<DesiredRoute>>
    const groups = new Map<string, Group>()
    const groupCache = new Map<ResolvedAttrs, Map<ParsedAddress, Group>>()
    const skipped: { prefix: string; reason: string }[] = []
    let paths = 0
    let singlePath = 0
    let v4 = false
    let v6 = false
    for (const entry of entries.values()) {
      const { parsed, family } = entry
      if (family === 'ipv4-unicast') v4 = true
      else v6 = true
      let n = entry.hops.length
      if (n === 0) {
        entries.delete(parsed.text)
        continue
      }
      if (!families.has(family)) {
        skipped.push({ prefix: parsed.text, reason: `address family ${family} was not negotiated with this peer` })
        entries.delete(parsed.text)
        continue
      }
      if (n > 1) sortHops(entry)
      let hops = entry.hops
      let linkLocal: string | undefined
      if (ctx.nextHopMode === 'self') {
        const self = family === 'ipv4-unicast' ? ctx.selfAddress?.ipv4 : ctx.selfAddress?.ipv6
        const selfAddr = self === undefined ? undefined : this.#nextHop(self)
        if (selfAddr === undefined || selfAddr.afi !== parsed.prefix.afi) {
          skipped.push({ prefix: parsed.text, reason: `next-hop self: no local ${family === 'ipv4-unicast' ? 'IPv4' : 'IPv6'} address for this peer` })
          entries.delete(parsed.text)
          continue
        }
        if (family === 'ipv6-unicast') linkLocal = ctx.selfAddress?.ipv6LinkLocal
        // one path: our address, with the attributes of the lowest original next hop
        hops = [selfAddr]
        n = 1
      }
      const prev = old.get(parsed.text)
      const addPath = ctx.addPathTx.has(family)
      const ids = addPath ? assignPathIds(hops) : undefined
      if (!addPath) {
        if (n > 1) singlePath++
        n = 1
      }
      paths += n
      // unchanged prefix: keep the previous record as is (no allocation)
      let same = prev !== undefined && prev.length === n
      for (let i = 0; same && i < n; i++) {
        const r = (prev as Routes<DesiredRoute>)[i] as DesiredRoute
        same = r.pathId === (ids === undefined ? undefined : ids[i]) &&
          r.group === this.#group(groups, groupCache, family, hops[i] as ParsedAddress, entry.attrs[i] as ResolvedAttrs, linkLocal)
      }
      if (same) {
        table.set(parsed.text, prev as Routes<DesiredRoute>)
        continue
      }
      const text = prev?.[0]?.text ?? parsed.text // one string per prefix across set() calls
      const routes: DesiredRoute[] = []
      for (let i = 0; i < n; i++) {
        const pathId = ids === undefined ? undefined : ids[i]
        const group = this.#group(groups, groupCache, family, hops[i] as ParsedAddress, entry.attrs[i] as ResolvedAttrs, linkLocal)
        // an unchanged route keeps its object (and Nlri) from the previous set()
        const was = prev === undefined ? undefined : findRoute(prev, pathId)
        if (was !== undefined && was.group === group) {
          routes.push(was)
        } else {
          const nlri: Nlri = pathId === undefined ? { prefix: parsed.prefix } : { prefix: parsed.prefix, pathId }
          routes.push({ text, pathId, nlri, groupKey: group.key, group })
        }
      }
      table.set(parsed.text, routes)
    }

    this.#advs = desired
    this.#desired = table
    this.#paths = paths
    this.#groups = groups
    this.#singlePath = singlePath
    this.#skipped = skipped
    this.#advFamilies = new Set<FamilyKey>([...(v4 ? ['ipv4-unicast' as const] : []), ...(v6 ? ['ipv6-unicast' as const] : [])])
    if (this.#nextHops.size > 4 * (table.size + 1024)) this.#nextHops.clear() // bound the parse cache
  }

  /** Changes the peer still needs: withdrawals of routes it should no longer have, announcements of new or changed ones. */
  pending(): RibDiff {
    const p: Pending = { announce: new Map(), withdraw: new Map() }
    for (const [text, d] of this.#desired) {
      const s = this.#sent.get(text)
      if (s === undefined) {
        for (const r of d) addAnnounce(p, r)
        continue
      }
      if (s === d) continue
      for (const r of d) {
        const sr = findRoute(s, r.pathId)
        if (sr === undefined || sr.groupKey !== r.groupKey) addAnnounce(p, r)
      }
      for (const sr of s) if (findRoute(d, sr.pathId) === undefined) addWithdraw(p, sr)
    }
    for (const [text, s] of this.#sent) {
      if (this.#desired.has(text)) continue
      for (const sr of s) addWithdraw(p, sr)
    }
    return this.#finish(p)
  }

  /** Every desired route as announcements (route refresh, or the first UPDATEs after Established). */
  all(): RibDiff {
    const p: Pending = { announce: new Map(), withdraw: new Map() }
    for (const d of this.#desired.values()) for (const r of d) addAnnounce(p, r)
    return this.#finish(p)
  }

  /**
   * The peer now has what `diff` says: call after the UPDATEs are written. `diff` may be one
   * returned by pending()/all() or any part of one (groups with a subset of their NLRI).
   */
  commit(diff: RibDiff): void {
    for (const w of diff.withdraw) {
      const recs = this.#recordsOf(w)
      for (let i = 0; i < w.nlri.length; i++) {
        const r = recs?.[i]
        const n = w.nlri[i] as Nlri
        this.#unsend(r?.text ?? `${n.prefix.addr}/${n.prefix.len}`, n.pathId)
      }
    }
    for (const g of diff.announce) {
      const recs = this.#recordsOf(g)
      for (let i = 0; i < g.nlri.length; i++) {
        const n = g.nlri[i] as Nlri
        const r = recs?.[i] ?? { text: `${n.prefix.addr}/${n.prefix.len}`, pathId: n.pathId, nlri: n, groupKey: g.key }
        this.#send(r)
      }
    }
  }

  /**
   * The peer has nothing: the session went down (everything is re-sent after the next
   * Established), or, with `family`, it asked for a route refresh of that family only.
   */
  reset(family?: FamilyKey): void {
    if (family === undefined) {
      this.#sent = new Map()
      return
    }
    const v6 = family === 'ipv6-unicast'
    for (const text of [...this.#sent.keys()]) if (text.includes(':') === v6) this.#sent.delete(text)
  }

  status(): RibStatus {
    let sentPaths = 0
    for (const s of this.#sent.values()) sentPaths += s.length
    return {
      prefixes: this.#desired.size,
      paths: this.#paths,
      sentPaths,
      addPath: { 'ipv4-unicast': this.#ctx.addPathTx.has('ipv4-unicast'), 'ipv6-unicast': this.#ctx.addPathTx.has('ipv6-unicast') },
      ecmpUnavailable: this.#singlePath > 0,
      singlePathPrefixes: this.#singlePath,
      skipped: [...this.#skipped],
    }
  }

  /** Prefixes with several next hops sent as one path (no ADD-PATH for their family); cheap, unlike status(). */
  get singlePathPrefixes(): number {
    return this.#singlePath
  }

  /**
   * The next hops the peer is known to have for `prefix` (canonical addresses; next-hop self:
   * our own), or [] when it has none. Undefined when `prefix` is not a prefix.
   */
  sentNextHops(prefix: string): string[] | undefined {
    const parsed = parsePrefixOrReason(prefix)
    if (typeof parsed === 'string') return undefined
    const s = this.#sent.get(parsed.text)
    return s === undefined ? [] : s.map((r) => nextHopOfGroupKey(r.groupKey))
  }

  #send(r: RouteRec): void {
    const text = r.text
    const s = this.#sent.get(text)
    const d = this.#desired.get(text)
    let shared: RouteRec[]
    if (s === undefined && d !== undefined && d.length === 1 && d[0] === r) {
      shared = d // the common case: one path, as desired
    } else {
      // copy on write: a sent entry may share its routes array with the desired table
      const routes = s === undefined ? [r] : s.filter((x) => x.pathId !== r.pathId)
      if (s !== undefined) routes.push(r)
      // share the desired array when equal, so pending() skips the prefix with one comparison
      shared = d !== undefined && sameRoutes(d, routes) ? d : routes
    }
    this.#sent.set(text, shared)
  }

  #unsend(text: string, pathId: number | undefined): void {
    const s = this.#sent.get(text)
    if (s === undefined) return
    const routes = s.filter((x) => x.pathId !== pathId)
    if (routes.length === 0) this.#sent.delete(text)
    else this.#sent.set(text, routes)
  }

  #finish(p: Pending): RibDiff {
    const withdraw = FAMILIES.flatMap((f) => {
      const e = p.withdraw.get(f)
      if (e === undefined) return []
      this.#diffRoutes.set(e[0], e[1])
      return [e[0]]
    })
    const a = [...p.announce.values()].sort((x, y) => (x[0].key < y[0].key ? -1 : x[0].key > y[0].key ? 1 : 0))
    for (const [g, recs] of a) this.#diffRoutes.set(g, recs)
    return { withdraw, announce: a.map((e) => e[0]) }
  }

  /** The route records behind a group this RIB returned, if the caller kept its NLRI as they were. */
  #recordsOf(g: AnnounceGroup | WithdrawGroup): readonly RouteRec[] | undefined {
    const recs = this.#diffRoutes.get(g)
    if (recs === undefined || recs.length !== g.nlri.length) return undefined
    for (let i = 0; i < recs.length; i++) if ((recs[i] as RouteRec).nlri !== g.nlri[i]) return undefined
    return recs
  }

  #resolve(vip: ExportAttrs | undefined): ResolvedAttrs {
    if (vip === undefined) {
      if (this.#peerOnly === undefined) this.#peerOnly = resolveExportAttrs(this.#ctx.peerAttrs ?? {}, this.#ibgp)
      return this.#peerOnly
    }
    if (vip === this.#lastVip && this.#lastResolved !== undefined) return this.#lastResolved
    const text = rawKey(vip)
    let r = this.#byText.get(text)
    if (r === undefined) {
      r = resolveExportAttrs(mergeExportAttrs(this.#ctx.peerAttrs, vip), this.#ibgp)
      if (this.#byText.size > 65536) this.#byText.clear() // bound the cache
      this.#byText.set(text, r)
    }
    this.#lastVip = vip
    this.#lastResolved = r
    return r
  }

  #nextHop(s: string): ParsedAddress | undefined {
    let a = this.#nextHops.get(s)
    if (a === undefined) {
      a = parseAddress(s)
      if (a !== undefined) this.#nextHops.set(s, a)
    }
    return a
  }

  /** The group of (next hop, attributes); one object lookup per route, string keys only once per group. */
  #group(groups: Map<string, Group>, cache: Map<ResolvedAttrs, Map<ParsedAddress, Group>>, family: FamilyKey,
    addr: ParsedAddress, attrs: ResolvedAttrs, linkLocal: string | undefined): Group {
    let byAddr = cache.get(attrs)
    if (byAddr === undefined) cache.set(attrs, (byAddr = new Map()))
    let g = byAddr.get(addr)
    if (g !== undefined) return g
    g = this.#groupByKey(groups, family, addr, attrs, linkLocal)
    byAddr.set(addr, g)
    return g
  }

  #groupByKey(groups: Map<string, Group>, family: FamilyKey, addr: ParsedAddress, attrs: ResolvedAttrs, linkLocal: string | undefined): Group {
    const key = `${family}|${addr.text}|${linkLocal ?? ''}|${attrs.key}` // read back by nextHopOfGroupKey
    let g = groups.get(key)
    if (g !== undefined) return g
    g = this.#groups.get(key) // keep the same frozen attrs object across set() calls
    if (g === undefined) {
      const nh = linkLocal === undefined ? { address: addr.text } : { address: addr.text, linkLocal }
      g = { key, family, attrs: buildPathAttributes(attrs, this.#ctx.localAs, this.#ibgp, family, nh) }
    }
    groups.set(key, g)
    return g
  }
}

/**
 * True when `b` builds the same desired table as `a` for advertisements of `fams`: same ASes,
 * next-hop mode, peer attributes (the same object), ADD-PATH and negotiation state for those
 * families, and (next-hop self only) the same own addresses.
 */
function sameEffect(a: ExportContext, b: ExportContext, fams: ReadonlySet<FamilyKey>): boolean {
  if (a.localAs !== b.localAs || a.peerAs !== b.peerAs || a.nextHopMode !== b.nextHopMode || a.peerAttrs !== b.peerAttrs) return false
  const fa = a.families ?? ALL_FAMILIES
  const fb = b.families ?? ALL_FAMILIES
  for (const f of fams) {
    if (fa.has(f) !== fb.has(f) || a.addPathTx.has(f) !== b.addPathTx.has(f)) return false
  }
  if (a.nextHopMode === 'self') {
    const x = a.selfAddress
    const y = b.selfAddress
    if (x?.ipv4 !== y?.ipv4 || x?.ipv6 !== y?.ipv6 || x?.ipv6LinkLocal !== y?.ipv6LinkLocal) return false
  }
  return true
}

function checkContext(ctx: ExportContext): void {
  for (const [name, v] of [['local AS', ctx.localAs], ['peer AS', ctx.peerAs]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 0xffffffff) throw invalid(`Cannot use ${name} "${v}": expected an integer from 1 to 4294967295`)
  }
  if (ctx.nextHopMode !== 'as-given' && ctx.nextHopMode !== 'self') {
    throw invalid(`Cannot use next hop mode "${String(ctx.nextHopMode)}": expected "as-given" or "self"`)
  }
}

/** Cache key of raw export attributes (cheaper than JSON; equal content gives equal keys). */
function rawKey(a: ExportAttrs): string {
  return `${a.origin}|${a.asPathPrepend}|${a.med}|${a.localPref}|${a.communities?.join(' ')}|${a.largeCommunities?.join(' ')}`
}

function sameRoutes(a: readonly RouteRec[], b: readonly RouteRec[]): boolean {
  if (a.length !== b.length) return false
  for (const r of b) if (!a.includes(r)) return false
  return true
}

/** The next hop in a group key ("family|next hop|link-local|attributes", see #groupByKey). */
function nextHopOfGroupKey(key: string): string {
  const a = key.indexOf('|')
  return key.slice(a + 1, key.indexOf('|', a + 1))
}

/** Sort a prefix's next hops by address, keeping their attributes alongside (insertion sort: a few hops). */
function sortHops(e: PrefixEntry): void {
  const { hops, attrs } = e
  for (let i = 1; i < hops.length; i++) {
    const h = hops[i] as ParsedAddress
    const a = attrs[i] as ResolvedAttrs
    let j = i - 1
    while (j >= 0 && (hops[j] as ParsedAddress).key > h.key) {
      hops[j + 1] = hops[j] as ParsedAddress
      attrs[j + 1] = attrs[j] as ResolvedAttrs
      j--
    }
    hops[j + 1] = h
    attrs[j + 1] = a
  }
}

/** Add a next hop to a prefix; the same next hop twice keeps the attributes with the smaller key (order independent). */
function addHop(e: PrefixEntry, addr: ParsedAddress, attrs: ResolvedAttrs): void {
  for (let i = 0; i < e.hops.length; i++) {
    if ((e.hops[i] as ParsedAddress).key !== addr.key) continue
    if (attrs.key < (e.attrs[i] as ResolvedAttrs).key) e.attrs[i] = attrs
    return
  }
  e.hops.push(addr)
  e.attrs.push(attrs)
}

function familyOf(r: RouteRec): FamilyKey {
  return r.nlri.prefix.afi === AFI_IPV4 ? 'ipv4-unicast' : 'ipv6-unicast'
}

function addAnnounce(p: Pending, r: DesiredRoute): void {
  let g = p.announce.get(r.groupKey)
  if (g === undefined) {
    g = [{ family: familyOf(r), key: r.groupKey, attrs: r.group.attrs, nlri: [] }, []]
    p.announce.set(r.groupKey, g)
  }
  g[0].nlri.push(r.nlri)
  g[1].push(r)
}

function addWithdraw(p: Pending, r: RouteRec): void {
  const family = familyOf(r)
  let w = p.withdraw.get(family)
  if (w === undefined) {
    w = [{ family, nlri: [] }, []]
    p.withdraw.set(family, w)
  }
  w[0].nlri.push(r.nlri)
  w[1].push(r)
}
