// Community text <-> wire values: RFC 1997 communities ("65000:100" or a well-known name) and
// RFC 8092 large communities ("65000:1:2"). Exported for config validation.
import { PorterError } from '../../errors/index.ts'
// the table's own file, not the wire index: `porter validate` need not load the BGP codec
import { WELL_KNOWN_COMMUNITIES } from '../wire/well-known-communities.ts'
import type { LargeCommunity } from '../wire/index.ts'

export { WELL_KNOWN_COMMUNITIES }

const U16 = /^(0|[1-9][0-9]{0,4})$/
const U32 = /^(0|[1-9][0-9]{0,9})$/

function bad(kind: string, s: unknown, what: string): PorterError {
  const shown = typeof s === 'string' ? `"${s}"` : String(s)
  return new PorterError('PORTER_ERR_CONFIG_INVALID', `Cannot parse ${kind} ${shown}: ${what}`)
}

/**
 * "65000:100" -> 0xFDE80064; "no-export" -> 0xFFFFFF01. Throws PorterError
 * PORTER_ERR_CONFIG_INVALID naming the value.
 */
export function parseCommunity(s: string): number {
  if (typeof s !== 'string') throw bad('community', s, 'expected a string')
  const name = s.trim().toLowerCase().replace(/_/g, '-')
  const known = WELL_KNOWN_COMMUNITIES[name]
  if (known !== undefined) return known
  const parts = s.trim().split(':')
  if (parts.length !== 2) {
    throw bad('community', s, `expected "ASN:VALUE" with two numbers from 0 to 65535, or one of ${Object.keys(WELL_KNOWN_COMMUNITIES).join(', ')}`)
  }
  const [hi, lo] = parts as [string, string]
  if (!U16.test(hi) || Number(hi) > 0xffff || !U16.test(lo) || Number(lo) > 0xffff) {
    throw bad('community', s, 'both halves must be numbers from 0 to 65535')
  }
  return (Number(hi) * 0x10000 + Number(lo)) >>> 0
}

/** 0xFDE80064 -> "65000:100" (well-known values keep their numeric form). */
export function formatCommunity(v: number): string {
  return `${(v >>> 16) & 0xffff}:${v & 0xffff}`
}

/** "65000:1:2" -> { global: 65000, local1: 1, local2: 2 }. Throws PorterError naming the value. */
export function parseLargeCommunity(s: string): LargeCommunity {
  if (typeof s !== 'string') throw bad('large community', s, 'expected a string')
  const parts = s.trim().split(':')
  if (parts.length !== 3) throw bad('large community', s, 'expected "GLOBAL:LOCAL1:LOCAL2" with three numbers from 0 to 4294967295')
  const n = parts.map((p) => (U32.test(p) && Number(p) <= 0xffffffff ? Number(p) : -1))
  if (n.some((x) => x < 0)) throw bad('large community', s, 'each part must be a number from 0 to 4294967295')
  return { global: n[0] as number, local1: n[1] as number, local2: n[2] as number }
}

export function formatLargeCommunity(c: LargeCommunity): string {
  return `${c.global}:${c.local1}:${c.local2}`
}

/** Sort key order for large communities (global, local1, local2). */
export function compareLargeCommunity(a: LargeCommunity, b: LargeCommunity): number {
  return a.global - b.global || a.local1 - b.local1 || a.local2 - b.local2
}
