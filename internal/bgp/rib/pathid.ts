// ADD-PATH path identifiers (RFC 7911) that stay the same across restarts: a hash of the next hop.
import type { ParsedAddress } from '../../ip/index.ts'

/** FNV-1a, 32 bits, over bytes. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5
  for (const b of bytes) {
    h ^= b
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** The preferred path id of a next hop: FNV-1a of its address octets, 0 mapped to 1. */
export function pathIdFor(nextHop: ParsedAddress): number {
  return fnv1a32(nextHop.bytes) || 1
}

/**
 * Path ids for the next hops of one prefix. `hops` must be sorted by address (`key`) and free
 * of duplicates. Every hop whose hash no other hop of the prefix shares keeps its hash. When
 * several hops share one, the lowest address keeps it and the others, in address order, take
 * the next id (skipping 0) that is no hop's hash and not yet taken. So only the hops of a
 * collision can move, deterministically; collisions among a handful of next hops are rare.
 */
export function assignPathIds(hops: readonly ParsedAddress[]): number[] {
  const natural = hops.map(pathIdFor)
  if (natural.length < 2) return natural
  const claimed = new Set<number>()
  const dup = new Set<number>()
  for (const id of natural) (claimed.has(id) ? dup : claimed).add(id)
  if (dup.size === 0) return natural
  const taken = new Set<number>(claimed) // every natural id stays reserved for its owner
  const seen = new Set<number>()
  return natural.map((id) => {
    if (!dup.has(id)) return id
    if (!seen.has(id)) { seen.add(id); return id } // lowest address of the collision keeps it
    let next = id
    do next = ((next + 1) >>> 0) || 1
    while (taken.has(next))
    taken.add(next)
    return next
  })
}
