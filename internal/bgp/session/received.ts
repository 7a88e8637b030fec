// Routes a peer sent us, counted: Porter uses none of them (it only announces), but `porter
// status`, the metrics and `maxPrefixes` need how many the peer has. Pure.
//
// Each family keeps the routes announced and not withdrawn, so that a route announced twice is
// counted once and the withdrawal of a route never announced subtracts nothing. Compact keys: an
// IPv4 route without a path id is a number, an IPv6 host route its address text, anything else
// a short string. Withdrawn routes are deleted (the set shrinks; the daemon's heap trimmer gives
// the pages back).
//
// Bounded: a family keeps at most `limit` routes. A session with `maxPrefixes` ends before that
// (limit = maxPrefixes + 1). Without `maxPrefixes` a peer may send a full table or a flood;
// past the limit the family stops keeping routes and counts announcements minus withdrawals
// (never below zero): the count is then approximate (`exact` false), memory stays bounded.
import type { FamilyKey, Nlri } from '../wire/index.ts'
import { AFI_IPV4, parseIpv4 } from '../../ip/index.ts'

/** routes kept per family when the session has no maxPrefixes */
export const RECEIVED_LIMIT = 200_000

interface FamilyRoutes {
  keys: Set<number | string> | undefined
  count: number
}

/** IPv4 without a path id: address * 33 + length (< 2^38, an exact double); else text */
function keyOf(n: Nlri): number | string {
  const p = n.prefix
  if (p.afi === AFI_IPV4 && n.pathId === undefined) return parseIpv4(p.addr) * 33 + p.len
  if (n.pathId !== undefined) return `${p.addr}/${p.len}#${n.pathId}`
  // an IPv6 host route: the decoded address text itself (no new string); others "addr/len"
  return p.len === 128 ? p.addr : `${p.addr}/${p.len}`
}

export class ReceivedRoutes {
  readonly #limit: number
  readonly #fams = new Map<FamilyKey, FamilyRoutes>()

  constructor(limit = RECEIVED_LIMIT) {
    this.#limit = limit
  }

  announce(fam: FamilyKey, list: readonly Nlri[]): void {
    if (list.length === 0) return
    const f = this.#family(fam)
    for (const n of list) {
      if (f.keys === undefined) {
        f.count++
        continue
      }
      f.keys.add(keyOf(n))
      if (f.keys.size > this.#limit) {
        // too many to keep: count from here on
        f.count = f.keys.size
        f.keys = undefined
      }
    }
  }

  withdraw(fam: FamilyKey, list: readonly Nlri[]): void {
    if (list.length === 0) return
    const f = this.#fams.get(fam)
    if (f === undefined) return
    for (const n of list) {
      if (f.keys !== undefined) f.keys.delete(keyOf(n))
      else if (f.count > 0) f.count--
    }
  }

  /** routes of `fam` (approximate once the family passed the limit) */
  count(fam: FamilyKey): number {
    const f = this.#fams.get(fam)
    return f === undefined ? 0 : f.keys !== undefined ? f.keys.size : f.count
  }

  get total(): number {
    let n = 0
    for (const fam of this.#fams.keys()) n += this.count(fam)
    return n
  }

  /** every family's count is exact (none passed the limit) */
  get exact(): boolean {
    for (const f of this.#fams.values()) if (f.keys === undefined) return false
    return true
  }

  families(): FamilyKey[] {
    return [...this.#fams.keys()]
  }

  clear(): void {
    this.#fams.clear()
  }

  #family(fam: FamilyKey): FamilyRoutes {
    let f = this.#fams.get(fam)
    if (f === undefined) this.#fams.set(fam, (f = { keys: new Set(), count: 0 }))
    return f
  }
}
