// PURE in-memory IP allocator (MetalLB internal/allocator style): pools replaceable at run time,
// assign() to rebuild from Service status, allocate() to decide, unassign() to release. The
// Kubernetes layer persists the verdicts; nothing here does I/O or reads a clock.
//
// Rules:
// - Pools for a new IP: the requested pool by name (whatever its namespace binding, like
//   OpenELB); else the pools bound to the namespace (priority, then name), then the default
//   pools (priority, then name). Per family, the first enabled pool of that family with a free
//   address gives its lowest free address.
// - A requested IP must be in the requested pool, or with none requested in an enabled pool;
//   an IP outside every pool is refused.
// - An IP held by another service is never picked; it is shared only when requested by IP and
//   the sharing rule (_sharing.ts) allows it with every holder.
// - Assignments are never dropped or moved by pool changes: a service keeps its IPs while its
//   request (requested IPs, requested pool, families) still matches them, even when the pool is
//   disabled, shrunk or deleted. IPs outside every pool are reported by outOfPool().
// - A failed allocate() or assign() changes nothing.
import { boundTo } from './_namespaces.ts'
import { sharingConflict, sharingOf, type Sharing } from './_sharing.ts'
import { UsedAddresses } from './_used.ts'
import { formatIp, inRange, parseIp, type Address } from './range.ts'
import type { AllocateResult, AssignResult, Failure, Family, IpRange, OutOfPool, Pool, PoolStatus, Reason, ServiceRequest } from './types.ts'

interface Holding {
  /** in the order of the request's families */
  ips: Address[]
  sharing: Sharing
}

type Pick = { ok: true; addr: Address } | Failure

const FAMILIES: readonly Family[] = ['IPv4', 'IPv6']

/** failures of a PreferDualStack family picked from pools that leave the family out instead */
const SKIPPABLE: ReadonlySet<Reason> = new Set<Reason>(['NoPoolForNamespace', 'NoPoolForFamily', 'PoolDisabled', 'PoolExhausted'])

const fail = (reason: Reason, message: string): Failure => ({ ok: false, reason, message })
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const rangeText = (r: IpRange) => (r.first === r.last ? r.firstIP : `${r.firstIP}-${r.lastIP}`)
const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ')

export class Allocator {
  /** by priority, then name */
  #pools: Pool[] = []
  #byName = new Map<string, Pool>()
  readonly #held = new Map<string, Holding>()
  /** canonical IP -> the keys holding it */
  readonly #holders = new Map<string, Set<string>>()
  readonly #used: Record<Family, UsedAddresses> = { IPv4: new UsedAddresses(), IPv6: new UsedAddresses() }

  /**
   * Replace the pools. Assignments are never dropped or moved; returns every assignment outside
   * all pools now (as outOfPool()), for the caller to report. Throws TypeError on two pools of one name.
   */
  setPools(pools: readonly Pool[]): { outOfPool: OutOfPool[] } {
    const byName = new Map<string, Pool>()
    for (const p of pools) {
      if (byName.has(p.name)) throw new TypeError(`Two pools are named "${p.name}"`)
      byName.set(p.name, p)
    }
    this.#byName = byName
    this.#pools = [...pools].sort((a, b) => a.priority - b.priority || byCodeUnits(a.name, b.name))
    return { outOfPool: this.outOfPool() }
  }

  /**
   * Record what a service holds (rebuild after start, from Service status), replacing what it
   * held. An IP outside every pool is accepted (and reported by outOfPool()); an IP held by a
   * service this one may not share with is refused. Empty `ips` releases everything.
   */
  assign(req: ServiceRequest, ips: readonly string[]): AssignResult {
    const addrs: Address[] = []
    for (const s of ips) {
      const a = parseIp(s)
      if (a === undefined) return fail('InvalidIP', `"${s}" is not an IP address`)
      const twin = addrs.find((x) => x.family === a.family)
      if (twin) return fail('WrongFamily', `"${req.key}" cannot hold two ${a.family} addresses ("${twin.text}" and "${a.text}"): one per family`)
      addrs.push(a)
    }
    const sharing = sharingOf(req)
    for (const a of addrs) {
      const c = this.#conflict(req.key, a, sharing)
      if (c) return c
    }
    const rank = (f: Family) => {
      const i = req.families.indexOf(f)
      return i < 0 ? req.families.length + FAMILIES.indexOf(f) : i
    }
    this.#set(req.key, addrs.sort((x, y) => rank(x.family) - rank(y.family)), sharing)
    return { ok: true }
  }

  /**
   * The IPs for `req`: per family, what the service holds while it still matches the request,
   * else a new one. On failure nothing changes (the service keeps what it held).
   */
  allocate(req: ServiceRequest): AllocateResult {
    const requested = this.#checkRequest(req)
    if (!(requested instanceof Map)) return requested
    const held = this.#held.get(req.key)?.ips ?? []
    const sharing = sharingOf(req)
    const out: Address[] = []
    let skipped: Failure | undefined
    for (const family of req.families) {
      const want = requested.get(family)
      const h = held.find((a) => a.family === family)
      if (h && this.#keeps(req, sharing, h, want)) {
        out.push(h)
        continue
      }
      const r = want ? this.#pickRequested(req, sharing, want) : this.#pickFree(req, family)
      if (r.ok) out.push(r.addr)
      else if (req.preferDualStack && !want && SKIPPABLE.has(r.reason)) skipped ??= r
      else return r
    }
    if (out.length === 0) return skipped!
    const changed = out.length !== held.length || out.some((a, i) => a.text !== held[i]!.text)
    this.#set(req.key, out, sharing)
    return { ok: true, ips: out.map((a) => a.text), pools: out.map((a) => this.#poolOf(req, a)), changed }
  }

  /** Release what `key` holds; returns the released IPs. */
  unassign(key: string): string[] {
    const ips = this.ipsOf(key)
    this.#release(key)
    return ips
  }

  ipsOf(key: string): string[] {
    return this.#held.get(key)?.ips.map((a) => a.text) ?? []
  }

  /** The keys holding IPs, sorted. */
  keys(): string[] {
    return [...this.#held.keys()].sort(byCodeUnits)
  }

  /** The keys holding `ip` (any text form), sorted; more than one when shared. */
  holders(ip: string): string[] {
    const a = parseIp(ip)
    return a ? [...(this.#holders.get(a.text) ?? [])].sort(byCodeUnits) : []
  }

  /** Held IPs inside no pool (a disabled pool still counts), by key. */
  outOfPool(): OutOfPool[] {
    const out: OutOfPool[] = []
    for (const key of this.keys()) {
      for (const a of this.#held.get(key)!.ips) if (!this.#pools.some((p) => inRange(p.range, a))) out.push({ key, ip: a.text })
    }
    return out
  }

  /** What the pool's Eip status shows, or undefined for an unknown pool. */
  poolStatus(name: string): PoolStatus | undefined {
    const p = this.#byName.get(name)
    if (p === undefined) return undefined
    const { family, first, last, size, firstIP, lastIP } = p.range
    const used: Record<string, string> = {}
    const values = this.#used[family].within(first, last)
    for (const v of values) {
      const ip = formatIp(family, v)
      used[ip] = this.holders(ip).join(',')
    }
    return { size, used, usage: values.length, firstIP, lastIP, family }
  }

  /** requested IPs by family, or why the request is malformed */
  #checkRequest(req: ServiceRequest): Map<Family, Address> | Failure {
    if (req.families.length === 0) return fail('InvalidRequest', `"${req.key}" asks for no IP family: give IPv4, IPv6 or both`)
    for (const [i, f] of req.families.entries()) {
      if (!FAMILIES.includes(f)) return fail('InvalidRequest', `"${req.key}" asks for family "${String(f)}": use IPv4 or IPv6`)
      if (req.families.indexOf(f) !== i) return fail('InvalidRequest', `"${req.key}" asks for ${f} twice`)
    }
    const requested = new Map<Family, Address>()
    for (const s of req.ips ?? []) {
      const a = parseIp(s)
      if (a === undefined) return fail('InvalidIP', `"${s}" is not an IP address`)
      if (!req.families.includes(a.family)) return fail('WrongFamily', `"${a.text}" is ${a.family} but "${req.key}" asks for ${req.families.join(' and ')} only`)
      const twin = requested.get(a.family)
      if (twin) return fail('WrongFamily', `"${req.key}" requests two ${a.family} addresses ("${twin.text}" and "${a.text}"): request one per family`)
      requested.set(a.family, a)
    }
    return requested
  }

  #requestedPool(req: ServiceRequest): string | undefined {
    return req.pool === '' ? undefined : req.pool
  }

  /** Does the held `h` still answer the request? Pool changes alone never say no. */
  #keeps(req: ServiceRequest, sharing: Sharing, h: Address, want: Address | undefined): boolean {
    if (want && want.text !== h.text) return false
    const name = this.#requestedPool(req)
    if (name !== undefined) {
      // another pool holds it: the request names a different pool now
      const p = this.#byName.get(name)
      if (p && !inRange(p.range, h) && this.#pools.some((q) => inRange(q.range, h))) return false
    }
    return this.#conflict(req.key, h, sharing) === undefined
  }

  #pickRequested(req: ServiceRequest, sharing: Sharing, want: Address): Pick {
    const holds = this.#held.get(req.key)?.ips.some((a) => a.text === want.text) ?? false
    const name = this.#requestedPool(req)
    if (name !== undefined) {
      const p = this.#byName.get(name)
      if (p === undefined) return fail('PoolNotFound', `Pool "${name}" does not exist: create it or request another pool`)
      if (!inRange(p.range, want)) return fail('IPNotInPool', `"${want.text}" is not in pool "${name}" (${rangeText(p.range)}): request an IP of the pool or another pool`)
      if (p.disabled && !holds) return fail('PoolDisabled', `Pool "${name}" is disabled and gives no new IPs: enable it or request another pool`)
    } else {
      const containing = this.#pools.filter((p) => inRange(p.range, want))
      if (containing.length === 0) return fail('IPNotInPool', `"${want.text}" is in no pool: request an IP of a pool or add a pool with it`)
      if (!holds && containing.every((p) => p.disabled)) {
        return fail('PoolDisabled', `"${want.text}" is only in disabled pools (${quoted(containing.map((p) => p.name))}), which give no new IPs: enable one`)
      }
    }
    const c = this.#conflict(req.key, want, sharing)
    return c ?? { ok: true, addr: want }
  }

  #pickFree(req: ServiceRequest, family: Family): Pick {
    const name = this.#requestedPool(req)
    let candidates: Pool[]
    if (name !== undefined) {
      const p = this.#byName.get(name)
      if (p === undefined) return fail('PoolNotFound', `Pool "${name}" does not exist: create it or request another pool`)
      if (p.range.family !== family) return fail('NoPoolForFamily', `Pool "${name}" is ${p.range.family} and gives no ${family} address to "${req.key}": drop ${family} from its families or request no pool`)
      candidates = [p]
    } else {
      const eligible = this.#eligible(req)
      if (eligible.length === 0) {
        return fail('NoPoolForNamespace', `No pool is bound to namespace "${req.namespace}" and none is a default: bind one (spec.namespaces or spec.namespaceSelector), mark one with eip.openelb.kubesphere.io/is-default-eip: "true" or request a pool`)
      }
      candidates = eligible.filter((p) => p.range.family === family)
      if (candidates.length === 0) {
        return fail('NoPoolForFamily', `No ${family} pool serves namespace "${req.namespace}" (its pools: ${quoted(eligible.map((p) => p.name))}): add one or drop ${family}`)
      }
    }
    const enabled = candidates.filter((p) => !p.disabled)
    if (enabled.length === 0) return fail('PoolDisabled', `${this.#poolsText(candidates)} disabled and give${candidates.length === 1 ? 's' : ''} no new IPs: enable one or add a pool`)
    for (const p of enabled) {
      const v = this.#used[family].firstFree(p.range.first, p.range.last)
      if (v !== undefined) return { ok: true, addr: { family, value: v, text: formatIp(family, v) } }
    }
    return fail('PoolExhausted', `${this.#poolsText(enabled)} full: widen a range, add a pool or release an IP`)
  }

  #poolsText(pools: readonly Pool[]): string {
    const [only] = pools
    return pools.length === 1 && only ? `Pool "${only.name}" (${rangeText(only.range)}) is` : `Pools ${quoted(pools.map((p) => p.name))} are`
  }

  /** The pools a service gets new IPs from when it requests none: bound to its namespace, then default. */
  #eligible(req: ServiceRequest): Pool[] {
    const bound = this.#pools.filter((p) => boundTo(p, req.namespace, req.namespaceLabels))
    return [...bound, ...this.#pools.filter((p) => p.isDefault && !bound.includes(p))]
  }

  /** The pool `a` counts against for `req`: the first containing it (enabled first) of the requested, eligible, then all pools. */
  #poolOf(req: ServiceRequest, a: Address): string {
    const name = this.#requestedPool(req)
    const requested = name === undefined ? undefined : this.#byName.get(name)
    const order = [...(requested ? [requested] : []), ...this.#eligible(req), ...this.#pools].filter((p) => inRange(p.range, a))
    return (order.find((p) => !p.disabled) ?? order[0])?.name ?? ''
  }

  /** Why `key` may not hold `a` alongside its other holders (IPInUse before PortConflict), or undefined. */
  #conflict(key: string, a: Address, sharing: Sharing): Failure | undefined {
    let ports: Failure | undefined
    for (const other of this.holders(a.text)) {
      if (other === key) continue
      const c = sharingConflict(sharing, this.#held.get(other)!.sharing)
      if (c === undefined) continue
      const f = fail(c.reason, `"${a.text}" is held by "${other}": ${c.why}; request another IP or change one of them`)
      if (c.reason === 'IPInUse') return f
      ports ??= f
    }
    return ports
  }

  #release(key: string): void {
    for (const a of this.#held.get(key)?.ips ?? []) {
      const keys = this.#holders.get(a.text)!
      keys.delete(key)
      if (keys.size === 0) {
        this.#holders.delete(a.text)
        this.#used[a.family].delete(a.value)
      }
    }
    this.#held.delete(key)
  }

  /** `key` holds exactly `ips` (nothing when empty) */
  #set(key: string, ips: Address[], sharing: Sharing): void {
    this.#release(key)
    if (ips.length === 0) return
    this.#held.set(key, { ips, sharing })
    for (const a of ips) {
      const keys = this.#holders.get(a.text)
      if (keys) keys.add(key)
      else {
        this.#holders.set(a.text, new Set([key]))
        this.#used[a.family].add(a.value)
      }
    }
  }
}
