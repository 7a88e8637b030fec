// Per-peer Adj-RIB-Out (RFC 4271 3.2), pure. It holds two tables:
//   desired: what the peer should have, rebuilt from the full advertisement set on every set()
//   sent:    what the peer is known to have (updated by commit(), emptied by reset())
// pending() is the difference, grouped by identical wire attributes so the session can pack
// many NLRI into one UPDATE. Both tables are keyed by prefix (a host route by its address text,
// the caller's own string), each entry being that prefix's route, or its few routes (one per
// path id) in an array. Once the peer has what it should (a whole pending() diff committed), the
// sent table is the desired one, the same Map. Memory per announced host route without a path
// id: one map entry (its value is the route's group, shared; see Entry).
import { PorterError } from '../../errors/index.ts'
import { hostPrefix, toNlri, type FamilyKey, type OutNlri, type PathAttributes } from '../wire/index.ts'
import { AFI_IPV4, isIpv4, parseAddress, parsePrefixOrReason, type ParsedAddress, type Prefix } from '../../ip/index.ts'
import { GRACEFUL_SHUTDOWN_ATTRS, buildPathAttributes, mergeExportAttrs, resolveExportAttrs, type ExportAttrs, type ResolvedAttrs } from './attrs.ts'
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

/**
 * Many prefixes with the same next hops and attributes (a config `vips` entry with an address
 * list): one object for all of them, not one per prefix. Each prefix takes the next hops of its
 * own family; those of the other family are ignored.
 */
export interface AdvertisementBatch {
  prefixes: readonly string[]
  nextHops: readonly string[]
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
  /**
   * RFC 8326 graceful shutdown under way: every route carries GRACEFUL_SHUTDOWN (65535:0) and,
   * to an iBGP peer, LOCAL_PREF 0, so the router moves traffic to other paths before we withdraw
   */
  gracefulShutdown?: boolean
}


/** Routes to announce that share one set of wire attributes. */
export interface AnnounceGroup {
  family: FamilyKey
  /** stable identity of the attribute set */
  key: string
  /** frozen, shared; see buildPathAttributes for what is in it */
  attrs: Readonly<PathAttributes>
  /**
   * pathId present exactly when ADD-PATH send is on for the family; a host route without a path
   * id is its address text (the table's own key: no object per route, see OutNlri)
   */
  nlri: OutNlri[]
}

export interface WithdrawGroup {
  family: FamilyKey
  /** as in AnnounceGroup */
  nlri: OutNlri[]
}

/**
 * A change set. Send the announcements, then the withdrawals (make-before-break: a route's new
 * paths reach the router before its old ones leave; the two never share a key); then commit(diff).
 */
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

/**
 * A route the peer has (sent table) or should have (desired table): the prefix itself (its
 * fields, not a Prefix object: one object per route, ~64 bytes), its path id and the group it is
 * sent with. Never mutated. The Nlri handed out in a diff is made from it.
 */
interface Route extends Prefix {
  pathId: number | undefined
  group: Group
}

const route = (p: Prefix, pathId: number | undefined, group: Group): Route => ({ afi: p.afi, addr: p.addr, len: p.len, pathId, group })

/**
 * A prefix's routes in a table: the route itself when there is one (the common case: no array
 * around it, at 100k prefixes every object per prefix is ~5 MiB), else one per path id, never empty.
 */
type Routes = Route | readonly Route[]

/**
 * A table's value for a prefix. A host route without a path id (the common case) is kept as its
 * group alone: the key is its address and the group says the rest, so no object is kept per
 * route (64 bytes a route); routesOf() makes the Route when a diff needs one. Otherwise its
 * route or routes. Every value stored is in this form (entryOf): one route, one way to keep it,
 * so entries compare by identity as routes did.
 */
type Entry = Group | Routes

const isGroup = (e: Entry): e is Group => (e as Group).attrs !== undefined

function entryOf(key: string, rs: Routes): Entry {
  return !isRouteList(rs) && rs.pathId === undefined && rs.addr === key ? rs.group : rs
}

/** A table entry as routes (a host route kept as its group: the key is its address). */
function routesOf(key: string, e: Entry): Routes {
  return isGroup(e) ? route(hostPrefix(key), undefined, e) : e
}

const entryCount = (e: Entry): number => (isGroup(e) ? 1 : count(e))
const entryFam = (e: Entry): 0 | 1 => (isGroup(e) ? (e.family === 'ipv4-unicast' ? 0 : 1) : famIndex(first(e)))

/** Next hops of one prefix, with the attributes each came with (parallel arrays, no per-hop objects). */
interface PrefixEntry {
  prefix: Prefix
  family: FamilyKey
  hops: ParsedAddress[]
  attrs: ResolvedAttrs[]
}

/** One advertisement's next hops by family, sorted by address and without duplicates, parsed once for all its prefixes. */
interface HopSet {
  hops: [ParsedAddress[], ParsedAddress[]]
  /** path ids of hops[f] (ADD-PATH), made on first use */
  ids: [number[] | undefined, number[] | undefined]
}

const FAMILIES: readonly FamilyKey[] = ['ipv4-unicast', 'ipv6-unicast']
/** set() changes the table in place for at most this many replaced prefixes (see #setSmallChange) */
const SMALL_CHANGE = 1024
const ALL_FAMILIES: ReadonlySet<FamilyKey> = new Set(FAMILIES)

function invalid(msg: string, cause?: unknown): PorterError {
  return new PorterError('PORTER_ERR_CONFIG_INVALID', msg, cause === undefined ? undefined : { cause })
}

/** Text key of a route: "addr/len#pathId" ("addr/len#" without a path id). For logs and tests. */
export function routeKey(out: OutNlri): string {
  const n = toNlri(out)
  return `${n.prefix.addr}/${n.prefix.len}#${n.pathId ?? ''}`
}

/**
 * Table key of a prefix: its address for a host route (so a VIP's key is the very string the
 * caller gave, no copy), "addr/len" otherwise.
 */
function keyOf(p: Prefix): string {
  return p.len === (p.afi === AFI_IPV4 ? 32 : 128) ? p.addr : `${p.addr}/${p.len}`
}

const isBatch = (a: Advertisement | AdvertisementBatch): a is AdvertisementBatch => (a as AdvertisementBatch).prefixes !== undefined
const famIndex = (p: Prefix): 0 | 1 => (p.afi === AFI_IPV4 ? 0 : 1)
const first = (rs: Routes): Route => (isRouteList(rs) ? (rs[0] as Route) : rs)
const count = (rs: Routes): number => (isRouteList(rs) ? rs.length : 1)
function isRouteList(rs: Entry): rs is readonly Route[] {
  return Array.isArray(rs)
}
function toList(rs: Routes): readonly Route[] {
  return isRouteList(rs) ? rs : [rs]
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

function findRoute(rs: Routes, pathId: number | undefined): Route | undefined {
  if (!isRouteList(rs)) return rs.pathId === pathId ? rs : undefined
  for (const r of rs) if (r.pathId === pathId) return r
  return undefined
}

type Pending = { announce: Map<string, AnnounceGroup>; withdraw: Map<FamilyKey, WithdrawGroup> }

/** The route of a prefix with one route: its group and path id */
interface SingleRoute {
  group: Group
  pathId: number | undefined
}

/** What set() is building: the new table and its counts. */
interface Build {
  table: Map<string, Entry>
  groups: Map<string, Group>
  groupCache: Map<ResolvedAttrs, Map<ParsedAddress, Group>>
  skipped: Map<string, string>
  paths: number
  /** prefixes with several next hops sent as one path (no ADD-PATH for their family) */
  singlePath: Set<string>
}

export class AdjRibOut {
  #ctx: ExportContext
  #ibgp: boolean
  #advs: readonly (Advertisement | AdvertisementBatch)[] = []
  #desired = new Map<string, Entry>()
  /** the same Map as #desired after a whole diff was committed (see #sentWas), else its own */
  #sent = new Map<string, Entry>()
  /**
   * While #sent is #desired: the sent routes of the keys #setSmallChange has changed in place
   * since (undefined: the peer had none). Read through #sentGet and #sentForEach.
   */
  #sentWas: Map<string, Entry | undefined> | undefined
  /**
   * Keys where the sent table may differ from the desired one, so pending() looks at these only;
   * undefined = not known, look at every key. The invariant: every key whose sent and desired
   * entries differ is in the set. It starts empty when a whole pending() diff is committed.
   */
  #dirty: Set<string> | undefined
  /** the last pending() diff, while nothing has changed since */
  #lastPending: RibDiff | undefined
  /** the table was built with no prefix given twice and none skipped (see #setSmallChange) */
  #clean = false
  #paths = 0
  #groups = new Map<string, Group>()
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
      this.#setFull(this.#advs)
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
   *
   * Cost: when the set has the same advertisements as the last one (same next hops and
   * attributes, the same number of prefixes each) and at most SMALL_CHANGE prefixes differ, only
   * those (a reload that replaces one VIP of 100k); otherwise one map lookup per prefix the table
   * already has with the same next hops and attributes (its records are kept as they are), and
   * parsing and new records only for the rest.
   */
  set(desired: readonly (Advertisement | AdvertisementBatch)[]): void {
    if (!this.#setSmallChange(desired)) this.#setFull(desired)
  }

  #setFull(desired: readonly (Advertisement | AdvertisementBatch)[]): void {
    const ctx = this.#ctx
    const families = ctx.families ?? ALL_FAMILIES
    const old = this.#desired
    const b: Build = { table: new Map(), groups: new Map(), groupCache: new Map(), skipped: new Map(), paths: 0, singlePath: new Set() }
    const seenFam = [false, false]
    let dups: Set<string> | undefined
    /** keys met again from the old table, and keys whose entry is not the old one */
    let kept = 0
    const changed: string[] = []
    let noHops = false
    this.#lastVip = undefined // the caller may have changed an attributes object since the last call
    for (const adv of desired) {
      const batch = isBatch(adv)
      const prefixes = batch ? adv.prefixes : [adv.prefix]
      if (prefixes.length === 0) continue
      const name = batch ? `${prefixes[0]}" (and ${prefixes.length - 1} more prefixes of the same advertisement)` : `${adv.prefix}"`
      let attrs: ResolvedAttrs
      try {
        attrs = this.#resolve(adv.attrs)
      } catch (e) {
        if (e instanceof PorterError) throw invalid(`Cannot advertise "${name}: ${e.message}`, e)
        throw e
      }
      const hs = this.#hopSet(adv.nextHops, name)
      // the one route every prefix of this advertisement gets per family, when it is one route
      // (as-given next hops; one next hop, or no ADD-PATH): null when not
      const single: (SingleRoute | null | undefined)[] = [undefined, undefined]
      const singleFor = (fam: 0 | 1): SingleRoute | null => {
        let r = single[fam]
        if (r === undefined) {
          r = null
          const hops = hs.hops[fam]
          const family = FAMILIES[fam] as FamilyKey
          const addPath = ctx.addPathTx.has(family)
          if (ctx.nextHopMode === 'as-given' && families.has(family) && hops.length > 0 && (!addPath || hops.length === 1)) {
            r = { group: this.#group(b, family, hops[0] as ParsedAddress, attrs, undefined), pathId: addPath ? (hs.ids[fam] ??= assignPathIds(hops))[0] : undefined }
          }
          single[fam] = r
        }
        return r
      }
      for (const text of prefixes) {
        // fast path: a prefix the table has, spelt as its key, whose one route stays as it is
        const hit = old.get(text)
        if (hit !== undefined && !isRouteList(hit)) {
          const fam = entryFam(hit)
          const sr = batch || hs.hops[1 - fam]!.length === 0 ? singleFor(fam) : null
          if (sr !== null && (isGroup(hit) ? hit === sr.group && sr.pathId === undefined : hit.group === sr.group && hit.pathId === sr.pathId)) {
            seenFam[fam] = true
            const size = b.table.size
            b.table.set(text, hit)
            if (b.table.size === size) { // given twice: #merge makes it
              (dups ??= new Set()).add(text)
              continue
            }
            b.paths++
            kept++
            if (hs.hops[fam].length > 1) b.singlePath.add(text)
            continue
          }
        }
        const at = this.#locate(text, old)
        const fam = famIndex(at.prefix)
        seenFam[fam] = true
        const hops = hs.hops[fam]
        if (!batch && hs.hops[1 - fam]!.length > 0) {
          const other = adv.nextHops.find((nh) => (this.#nextHop(nh) as ParsedAddress).afi !== at.prefix.afi)
          throw invalid(`Cannot advertise "${adv.prefix}" via next hop "${other}": next hop and prefix are of different address families`)
        }
        if (hops.length === 0) {
          noHops = true // given, without a next hop: maybe given again elsewhere (not clean)
          continue
        }
        if (b.table.has(at.key) || b.skipped.has(at.key)) {
          (dups ??= new Set()).add(at.key)
          continue
        }
        const addPath = ctx.addPathTx.has(FAMILIES[fam] as FamilyKey)
        const ids = addPath && ctx.nextHopMode !== 'self' ? (hs.ids[fam] ??= assignPathIds(hops)) : undefined
        this.#place(b, families, at.prefix, at.key, hops, attrs, ids, at.routes)
        if (at.routes !== undefined) kept++
        if (b.table.get(at.key) !== at.routes) changed.push(at.key)
      }
    }
    if (dups) this.#merge(b, families, desired, dups, old)
    // keys gone from the table (some key of the old table was not met again)
    if (!dups && kept < old.size) old.forEach((_, key) => { if (!b.table.has(key)) changed.push(key) })

    this.#lastPending = undefined
    if (dups || this.#dirty === undefined || this.#dirty.size + changed.length > Math.max(4096, b.table.size / 8)) this.#dirty = undefined
    else for (const key of changed) this.#dirty.add(key)
    this.#advs = desired
    this.#clean = !dups && !noHops && b.skipped.size === 0
    if (this.#sent === old) this.#unshare() // the old table is the sent one from now on, alone
    this.#desired = b.table
    this.#paths = b.paths
    this.#groups = b.groups
    this.#singlePath = b.singlePath.size
    this.#skipped = [...b.skipped].map(([prefix, reason]) => ({ prefix: prefix.includes('/') ? prefix : `${prefix}/${prefix.includes(':') ? 128 : 32}`, reason }))
    this.#advFamilies = new Set(FAMILIES.filter((_, i) => seenFam[i]))
    if (this.#nextHops.size > 4 * (b.table.size + 1024)) this.#nextHops.clear() // bound the parse cache
  }

  /**
   * set() of a set like the last one but for a few prefixes: the same advertisements in the same
   * order (next hops, attributes and the number of prefixes each), at most SMALL_CHANGE prefixes
   * replaced. Changes the table in place, only for those; false (nothing done) when it is not
   * such a set or when a replaced prefix needs the full rules (given twice, a family not
   * negotiated, next-hop self): set() then builds the table whole.
   */
  #setSmallChange(desired: readonly (Advertisement | AdvertisementBatch)[]): boolean {
    const prev = this.#advs
    const ctx = this.#ctx
    if (!this.#clean || ctx.nextHopMode !== 'as-given' || prev.length !== desired.length || desired.length === 0) return false
    const gone: { text: string; k: number }[] = []
    const come: { text: string; k: number }[] = []
    for (let k = 0; k < desired.length; k++) {
      const a = prev[k] as Advertisement | AdvertisementBatch
      const d = desired[k] as Advertisement | AdvertisementBatch
      if (isBatch(a) !== isBatch(d) || !sameStrings(a.nextHops, d.nextHops)) return false
      if (a.attrs !== d.attrs && (a.attrs === undefined || d.attrs === undefined || rawKey(a.attrs) !== rawKey(d.attrs))) return false
      const ap = isBatch(a) ? a.prefixes : [a.prefix]
      const dp = isBatch(d) ? d.prefixes : [(d as Advertisement).prefix]
      if (ap.length !== dp.length) return false
      if (ap === dp) continue
      for (let i = 0; i < ap.length; i++) {
        if (ap[i] === dp[i]) continue
        gone.push({ text: ap[i] as string, k })
        come.push({ text: dp[i] as string, k })
        if (come.length > SMALL_CHANGE) return false
      }
    }
    const table = this.#desired
    const families = ctx.families ?? ALL_FAMILIES
    // everything checked and made before the table changes: a bad prefix throws with the table as it was
    const goneKeys = new Map<string, number>()
    for (const g of gone) goneKeys.set(this.#locate(g.text, table).key, g.k)
    const b: Build = { table: new Map(), groups: new Map(this.#groups), groupCache: new Map(), skipped: new Map(), paths: 0, singlePath: new Set() }
    const hopSets = new Map<number, { hs: HopSet; attrs: ResolvedAttrs }>()
    const of = (k: number) => {
      let e = hopSets.get(k)
      if (e === undefined) {
        const d = desired[k] as Advertisement | AdvertisementBatch
        e = { hs: this.#hopSet(d.nextHops, `${isBatch(d) ? d.prefixes[0] : d.prefix}"`), attrs: this.#resolve(d.attrs) }
        hopSets.set(k, e)
      }
      return e
    }
    let newFams = 0
    for (const c of come) {
      const at = this.#locate(c.text, table)
      if (b.table.has(at.key) || (table.has(at.key) && !goneKeys.has(at.key))) return false // given twice
      const fam = famIndex(at.prefix)
      const family = FAMILIES[fam] as FamilyKey
      const { hs, attrs } = of(c.k)
      if (!isBatch(desired[c.k] as Advertisement | AdvertisementBatch) && hs.hops[1 - fam]!.length > 0) return false // the full rules say why
      if (!families.has(family)) return false
      newFams |= 1 << fam
      const hops = hs.hops[fam]
      if (hops.length === 0) return false // the full rules (a prefix without a next hop)
      const ids = ctx.addPathTx.has(family) ? (hs.ids[fam] ??= assignPathIds(hops)) : undefined
      this.#place(b, families, at.prefix, at.key, hops, attrs, ids, table.get(at.key))
    }
    // the changes
    const changed: string[] = []
    const shared = this.#sent === table
    const keepSent = (key: string): void => {
      if (!shared) return
      const was = (this.#sentWas ??= new Map())
      if (!was.has(key)) was.set(key, table.get(key))
    }
    for (const [key, k] of goneKeys) {
      const r = table.get(key)
      if (r === undefined) continue // it had no next hop of its family
      keepSent(key)
      this.#paths -= entryCount(r)
      const fam = entryFam(r)
      if (of(k).hs.hops[fam].length > 1 && !ctx.addPathTx.has(FAMILIES[fam] as FamilyKey)) this.#singlePath--
      table.delete(key)
      changed.push(key)
    }
    b.table.forEach((r, key) => {
      keepSent(key)
      table.set(key, r)
      changed.push(key)
    })
    this.#paths += b.paths
    this.#singlePath += b.singlePath.size
    this.#groups = b.groups
    this.#advs = desired
    this.#lastPending = undefined
    if (this.#dirty !== undefined && this.#dirty.size + changed.length <= Math.max(4096, table.size / 8)) for (const key of changed) this.#dirty.add(key)
    else this.#dirty = undefined
    if (newFams) this.#advFamilies = new Set(FAMILIES.filter((f, i) => this.#advFamilies.has(f) || newFams & (1 << i)))
    return true
  }

  /** A prefix as given -> its table key, its Prefix (the table's own object when it has the prefix) and its routes there. */
  #locate(text: string, table: ReadonlyMap<string, Entry>): { key: string; prefix: Prefix; routes: Entry | undefined } {
    const hit = table.get(text) // a canonical spelling (a VIP as the config has it): no parsing
    if (hit !== undefined) return { key: text, prefix: first(routesOf(text, hit)), routes: hit }
    // a host route as a dotted quad (a VIP): checked by a regular expression, which V8 runs as
    // machine code in a daemon without the optimizing compiler (cmd/porter/heap.ts)
    if (isIpv4(text)) return { key: text, prefix: { afi: AFI_IPV4, addr: text, len: 32 }, routes: undefined }
    const parsed = parsePrefixOrReason(text)
    if (typeof parsed === 'string') throw invalid(`Cannot advertise "${text}": ${parsed}`)
    const { afi, addr, len } = parsed.prefix
    // a host route spelt canonically: its address is the caller's string, the key, not a second
    // copy (the parser's is built anew: 40 bytes a route for IPv6)
    if (addr === text) return { key: text, prefix: { afi, addr: text, len }, routes: undefined }
    const key = keyOf(parsed.prefix)
    const routes = key === text ? undefined : table.get(key)
    return { key, prefix: routes === undefined ? parsed.prefix : first(routesOf(key, routes)), routes }
  }

  /** Next hops of an advertisement, parsed, split by family, sorted by address, duplicates dropped. */
  #hopSet(nextHops: readonly string[], name: string): HopSet {
    const hops: [ParsedAddress[], ParsedAddress[]] = [[], []]
    for (const nh of nextHops) {
      const addr = this.#nextHop(nh)
      if (addr === undefined) throw invalid(`Cannot advertise "${name} via next hop "${nh}": not an IP address`)
      const list = hops[addr.afi === AFI_IPV4 ? 0 : 1]
      if (!list.some((h) => h.key === addr.key)) list.push(addr)
    }
    for (const list of hops) if (list.length > 1) list.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    return { hops, ids: [undefined, undefined] }
  }

  /**
   * Put one prefix into the table being built. `hops` sorted, without duplicates; `attrs` one for
   * all hops or one per hop; `ids` their path ids when ADD-PATH send is on (as-given next hops).
   */
  #place(b: Build, families: ReadonlySet<FamilyKey>, prefix: Prefix, key: string, hops: readonly ParsedAddress[],
    attrs: ResolvedAttrs | readonly ResolvedAttrs[], ids: readonly number[] | undefined, prev: Entry | undefined): void {
    const ctx = this.#ctx
    const family = FAMILIES[famIndex(prefix)] as FamilyKey
    if (!families.has(family)) {
      b.skipped.set(key, `address family ${family} was not negotiated with this peer`)
      return
    }
    const attrOf = (i: number): ResolvedAttrs => (Array.isArray(attrs) ? (attrs as readonly ResolvedAttrs[])[i] as ResolvedAttrs : attrs as ResolvedAttrs)
    let n = hops.length
    let linkLocal: string | undefined
    if (ctx.nextHopMode === 'self') {
      const self = family === 'ipv4-unicast' ? ctx.selfAddress?.ipv4 : ctx.selfAddress?.ipv6
      const selfAddr = self === undefined ? undefined : this.#nextHop(self)
      if (selfAddr === undefined || selfAddr.afi !== prefix.afi) {
        b.skipped.set(key, `next-hop self: no local ${family === 'ipv4-unicast' ? 'IPv4' : 'IPv6'} address for this peer`)
        return
      }
      if (family === 'ipv6-unicast') linkLocal = ctx.selfAddress?.ipv6LinkLocal
      // one path: our address, with the attributes of the lowest original next hop
      const a = attrOf(0)
      hops = [selfAddr]
      attrs = a
      n = 1
      if (ctx.addPathTx.has(family)) ids = assignPathIds(hops)
    }
    if (ids === undefined) {
      if (n > 1) b.singlePath.add(key)
      n = 1
    }
    b.paths += n
    if (n === 1) {
      const group = this.#group(b, family, hops[0] as ParsedAddress, attrOf(0), linkLocal)
      const pathId = ids === undefined ? undefined : ids[0]
      // unchanged prefix: keep the previous entry as is (no allocation)
      const same = prev !== undefined && (isGroup(prev) ? prev === group && pathId === undefined
        : !isRouteList(prev) && prev.group === group && prev.pathId === pathId)
      // a new one in the form entryOf() gives, without making the route first
      b.table.set(key, same ? prev : pathId === undefined && prefix.addr === key ? group : route(prefix, pathId, group))
      return
    }
    const routes: Route[] = new Array(n)
    let same = prev !== undefined && entryCount(prev) === n
    const prevRoutes = prev === undefined ? undefined : routesOf(key, prev)
    for (let i = 0; i < n; i++) {
      const pathId = (ids as readonly number[])[i]
      const group = this.#group(b, family, hops[i] as ParsedAddress, attrOf(i), linkLocal)
      // an unchanged route keeps its object from the previous set()
      const was = prevRoutes === undefined ? undefined : findRoute(prevRoutes, pathId)
      if (was !== undefined && was.group === group) routes[i] = was
      else {
        routes[i] = route(prefix, pathId, group)
        same = false
      }
    }
    b.table.set(key, same ? prev as Entry : routes)
  }

  /**
   * Prefixes given by more than one advertisement: their next hops are the union; the same next
   * hop twice keeps the attributes with the smaller key (so the order of advertisements does not matter).
   */
  #merge(b: Build, families: ReadonlySet<FamilyKey>, desired: readonly (Advertisement | AdvertisementBatch)[], dups: ReadonlySet<string>, old: ReadonlyMap<string, Entry>): void {
    const entries = new Map<string, PrefixEntry>()
    for (const adv of desired) {
      const prefixes = isBatch(adv) ? adv.prefixes : [adv.prefix]
      let attrs: ResolvedAttrs | undefined
      for (const text of prefixes) {
        const at = this.#locate(text, old)
        if (!dups.has(at.key)) continue
        let e = entries.get(at.key)
        if (e === undefined) entries.set(at.key, (e = { prefix: at.prefix, family: FAMILIES[famIndex(at.prefix)] as FamilyKey, hops: [], attrs: [] }))
        attrs ??= this.#resolve(adv.attrs)
        for (const nh of adv.nextHops) {
          const addr = this.#nextHop(nh) as ParsedAddress
          if (addr.afi === at.prefix.afi) addHop(e, addr, attrs)
        }
      }
    }
    for (const [key, e] of entries) {
      const had = b.table.get(key)
      if (had !== undefined) {
        b.table.delete(key)
        b.paths -= entryCount(had)
      }
      b.skipped.delete(key)
      b.singlePath.delete(key)
      sortHops(e)
      const addPath = this.#ctx.addPathTx.has(e.family) && this.#ctx.nextHopMode !== 'self'
      this.#place(b, families, e.prefix, key, e.hops, e.attrs, addPath ? assignPathIds(e.hops) : undefined, old.get(key))
    }
  }

  /** Changes the peer still needs: withdrawals of routes it should no longer have, announcements of new or changed ones. */
  pending(): RibDiff {
    const p: Pending = { announce: new Map(), withdraw: new Map() }
    const desired = this.#desired
    const one = (de: Entry | undefined, key: string): void => {
      const se = this.#sentGet(key)
      if (se === de) return
      if (de === undefined) {
        withdrawEntry(p, key, se as Entry)
        return
      }
      if (se === undefined) {
        announceEntry(p, key, de)
        return
      }
      const d = routesOf(key, de)
      const s = routesOf(key, se)
      for (const r of toList(d)) {
        const sr = findRoute(s, r.pathId)
        if (sr === undefined || sr.group.key !== r.group.key) addAnnounce(p, r)
      }
      for (const sr of toList(s)) if (findRoute(d, sr.pathId) === undefined) addWithdraw(p, sr)
    }
    if (this.#dirty !== undefined) {
      // only the keys changed since the peer last had everything (a reload changing one VIP)
      for (const key of this.#dirty) one(desired.get(key), key)
    } else {
      // forEach, not for-of: no [key, value] array per entry (100k entries per call)
      desired.forEach(one)
      this.#sentForEach((se, key) => {
        if (!desired.has(key)) withdrawEntry(p, key, se)
      })
    }
    const diff = this.#finish(p)
    this.#lastPending = diff
    return diff
  }

  /** Every desired route as announcements (route refresh, or the first UPDATEs after Established). */
  all(): RibDiff {
    const p: Pending = { announce: new Map(), withdraw: new Map() }
    this.#desired.forEach((de, key) => announceEntry(p, key, de))
    return this.#finish(p)
  }

  /**
   * The peer now has what `diff` says: call after the UPDATEs are written. `diff` may be one
   * returned by pending()/all() or any part of one (groups with a subset of their NLRI).
   */
  commit(diff: RibDiff): void {
    if (diff === this.#lastPending) {
      // the whole last diff, nothing changed since: the peer has what it should, the desired
      // table (one table for both, no work per route)
      this.#sent = this.#desired
      this.#sentWas = undefined
      this.#dirty = new Set()
      this.#lastPending = undefined
      return
    }
    for (const w of diff.withdraw) {
      for (const n of w.nlri) {
        const key = typeof n === 'string' ? n : keyOf(n.prefix)
        this.#unsend(key, typeof n === 'string' ? undefined : n.pathId)
        this.#dirty?.add(key)
      }
    }
    for (const g of diff.announce) {
      // the group of the table (the same object: entries then compare by identity), else one like it
      const group = this.#groups.get(g.key) ?? { key: g.key, family: g.family, attrs: g.attrs }
      for (const out of g.nlri) {
        const n = toNlri(out)
        const r = route(n.prefix, n.pathId, group)
        const key = keyOf(r)
        this.#send(key, r)
        this.#dirty?.add(key)
      }
    }
    this.#lastPending = undefined
  }

  /**
   * The peer has nothing: the session went down (everything is re-sent after the next
   * Established), or, with `family`, it asked for a route refresh of that family only.
   */
  reset(family?: FamilyKey): void {
    this.#dirty = undefined
    this.#lastPending = undefined
    if (family === undefined) {
      this.#sent = new Map()
      this.#sentWas = undefined
      return
    }
    const v6 = family === 'ipv6-unicast'
    const sent = this.#ownSent()
    for (const key of [...sent.keys()]) if (key.includes(':') === v6) sent.delete(key)
  }

  status(): RibStatus {
    let sentPaths = 0
    this.#sentForEach((s) => { sentPaths += entryCount(s) })
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
    const key = keyOf(parsed.prefix)
    const s = this.#sentGet(key)
    return s === undefined ? [] : toList(routesOf(key, s)).map((r) => nextHopOfGroupKey(r.group.key))
  }

  /** The routes the peer has for a key. */
  #sentGet(key: string): Entry | undefined {
    const was = this.#sentWas
    return was !== undefined && was.has(key) ? was.get(key) : this.#sent.get(key)
  }

  #sentForEach(f: (s: Entry, key: string) => void): void {
    const was = this.#sentWas
    if (was === undefined) {
      this.#sent.forEach(f)
      return
    }
    this.#sent.forEach((s, key) => { if (!was.has(key)) f(s, key) })
    was.forEach((s, key) => { if (s !== undefined) f(s, key) })
  }

  /** The sent table as a Map of its own, to change (a copy when it is the desired one: rare, see commit()). */
  #ownSent(): Map<string, Entry> {
    if (this.#sent === this.#desired) {
      this.#sent = new Map(this.#sent)
      this.#unshare()
    }
    return this.#sent
  }

  /** #sent is about to be the sent table alone: the routes #sentWas kept go back into it. */
  #unshare(): void {
    const was = this.#sentWas
    this.#sentWas = undefined
    was?.forEach((s, key) => {
      if (s === undefined) this.#sent.delete(key)
      else this.#sent.set(key, s)
    })
  }

  #send(key: string, r: Route): void {
    const sent = this.#ownSent()
    const s = sent.get(key)
    const d = this.#desired.get(key)
    const e = entryOf(key, r)
    let shared: Entry
    if (s === undefined && d === e) {
      shared = d // the common case: one path, as desired
    } else {
      // copy on write: a sent entry may share its routes with the desired table
      const routes = s === undefined ? [r] : [...toList(routesOf(key, s)).filter((x) => x.pathId !== r.pathId), r]
      // share the desired entry when equal, so pending() skips the prefix with one comparison
      shared = d !== undefined && sameRoutes(key, d, routes) ? d : routes.length === 1 ? e : routes
    }
    sent.set(key, shared)
  }

  #unsend(key: string, pathId: number | undefined): void {
    const sent = this.#ownSent()
    const s = sent.get(key)
    if (s === undefined) return
    const routes = toList(routesOf(key, s)).filter((x) => x.pathId !== pathId)
    if (routes.length === 0) sent.delete(key)
    else sent.set(key, routes.length === 1 ? entryOf(key, routes[0] as Route) : routes)
  }

  #finish(p: Pending): RibDiff {
    const withdraw = FAMILIES.flatMap((f) => p.withdraw.get(f) ?? [])
    const announce = [...p.announce.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    return { withdraw, announce }
  }

  #resolve(vip: ExportAttrs | undefined): ResolvedAttrs {
    if (vip === undefined) {
      if (this.#peerOnly === undefined) this.#peerOnly = this.#resolveMerged(this.#ctx.peerAttrs ?? {})
      return this.#peerOnly
    }
    if (vip === this.#lastVip && this.#lastResolved !== undefined) return this.#lastResolved
    const text = rawKey(vip)
    let r = this.#byText.get(text)
    if (r === undefined) {
      r = this.#resolveMerged(mergeExportAttrs(this.#ctx.peerAttrs, vip))
      if (this.#byText.size > 65536) this.#byText.clear() // bound the cache
      this.#byText.set(text, r)
    }
    this.#lastVip = vip
    this.#lastResolved = r
    return r
  }

  /** Peer and VIP attributes merged -> wire-ready, with RFC 8326's additions during a graceful shutdown. */
  #resolveMerged(a: ExportAttrs): ResolvedAttrs {
    return resolveExportAttrs(this.#ctx.gracefulShutdown ? mergeExportAttrs(a, GRACEFUL_SHUTDOWN_ATTRS) : a, this.#ibgp)
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
  #group(b: Build, family: FamilyKey, addr: ParsedAddress, attrs: ResolvedAttrs, linkLocal: string | undefined): Group {
    let byAddr = b.groupCache.get(attrs)
    if (byAddr === undefined) b.groupCache.set(attrs, (byAddr = new Map()))
    let g = byAddr.get(addr)
    if (g !== undefined) return g
    g = this.#groupByKey(b.groups, family, addr, attrs, linkLocal)
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
  if (a.localAs !== b.localAs || a.peerAs !== b.peerAs || a.nextHopMode !== b.nextHopMode || a.peerAttrs !== b.peerAttrs ||
    !a.gracefulShutdown !== !b.gracefulShutdown) return false
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

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function sameRoutes(key: string, a: Entry, b: readonly Route[]): boolean {
  if (isGroup(a)) return b.length === 1 && entryOf(key, b[0] as Route) === a
  if (!isRouteList(a)) return b.length === 1 && b[0] === a
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

/**
 * The NLRI of a route, made when a diff is (pathId present exactly when ADD-PATH is on): a host
 * route without one is its address text, the table's key (no object); with one, an Nlri whose
 * prefix is the route itself.
 */
const nlriOf = (r: Route): OutNlri => {
  if (r.pathId === undefined) return r.len === (r.afi === AFI_IPV4 ? 32 : 128) ? r.addr : { prefix: { afi: r.afi, addr: r.addr, len: r.len } }
  // the route is its own prefix (a Prefix with more fields, never mutated): one object, not two
  return { prefix: r, pathId: r.pathId }
}

function announce(p: Pending, group: Group, n: OutNlri): void {
  let g = p.announce.get(group.key)
  if (g === undefined) p.announce.set(group.key, (g = { family: group.family, key: group.key, attrs: group.attrs, nlri: [] }))
  g.nlri.push(n)
}

function withdraw(p: Pending, family: FamilyKey, n: OutNlri): void {
  let w = p.withdraw.get(family)
  if (w === undefined) p.withdraw.set(family, (w = { family, nlri: [] }))
  w.nlri.push(n)
}

const addAnnounce = (p: Pending, r: Route): void => announce(p, r.group, nlriOf(r))
const addWithdraw = (p: Pending, r: Route): void => withdraw(p, r.group.family, nlriOf(r))

/** Every route of a table entry announced (a group entry as its key: no object, see nlriOf). */
function announceEntry(p: Pending, key: string, e: Entry): void {
  if (isGroup(e)) announce(p, e, key)
  else if (isRouteList(e)) for (const r of e) addAnnounce(p, r)
  else addAnnounce(p, e)
}

function withdrawEntry(p: Pending, key: string, e: Entry): void {
  if (isGroup(e)) withdraw(p, e.family, key)
  else if (isRouteList(e)) for (const r of e) addWithdraw(p, r)
  else addWithdraw(p, e)
}
