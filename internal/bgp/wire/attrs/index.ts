// The path attribute table (one row per attribute, BIRD/holo style) and the attribute
// list encoder. Adding an attribute means writing attrs/<attr>.ts and adding it to ATTRS.
//
// Encoding order: MP_REACH_NLRI and MP_UNREACH_NLRI first (RFC 7606 5.1), then every other
// attribute by ascending type code (unknown ones included). A `layout` (the order and flags
// seen when decoding, see update.ts) overrides this, to reproduce captured bytes exactly.
// The Extended Length bit is set only when the value exceeds 255 octets, or when the
// layout says so. Unknown optional transitive attributes get the Partial bit (RFC 4271 5),
// except under a layout, whose flags are used as they are.

import type { Writer } from '../_writer.ts'
import { encodeError } from '../errors.ts'
import type { CodecContext, PathAttributes } from '../types.ts'
import type { AttrDef } from './_def.ts'
import { aggregator } from './aggregator.ts'
import { as4Aggregator } from './as4_aggregator.ts'
import { as4Path } from './as4_path.ts'
import { asPath } from './as_path.ts'
import { atomicAggregate } from './atomic_aggregate.ts'
import { clusterList } from './cluster_list.ts'
import { communities } from './communities.ts'
import { extendedCommunities } from './extended_communities.ts'
import { largeCommunities } from './large_communities.ts'
import { localPref } from './local_pref.ts'
import { med } from './med.ts'
import { mpReach } from './mp_reach.ts'
import { mpUnreach } from './mp_unreach.ts'
import { nextHop } from './next_hop.ts'
import { origin } from './origin.ts'
import { originatorId } from './originator_id.ts'

export type { AttrDef, DecodeEnv } from './_def.ts'

/** every attribute the codec knows, by ascending type code */
export const ATTRS: readonly AttrDef[] = [
  origin,
  asPath,
  nextHop,
  med,
  localPref,
  atomicAggregate,
  aggregator,
  communities,
  originatorId,
  clusterList,
  mpReach,
  mpUnreach,
  extendedCommunities,
  as4Path,
  as4Aggregator,
  largeCommunities,
]

/** ATTRS indexed by type code */
export const ATTR_BY_TYPE: readonly (AttrDef | undefined)[] = (() => {
  const t: (AttrDef | undefined)[] = new Array(256).fill(undefined)
  for (const d of ATTRS) t[d.type] = d
  return t
})()

/** one attribute as it appeared on the wire: its type and raw flags */
export interface AttrLayoutEntry {
  type: number
  flags: number
}

interface Emit {
  type: number
  flags: number
  forceExt: boolean
  write: (w: Writer) => void
}

function defaultEmits(attrs: PathAttributes, ctx: CodecContext): Emit[] {
  const first: Emit[] = []
  const rest: Emit[] = []
  for (const d of ATTRS) {
    if (!d.has(attrs)) continue
    const e: Emit = { type: d.type, flags: d.flags, forceExt: false, write: (w) => d.encode(attrs, w, ctx) }
    if (d.type === 14 || d.type === 15) first.push(e)
    else rest.push(e)
  }
  if (attrs.unknown) {
    for (const u of attrs.unknown) {
      if (!(u.type >= 0 && u.type <= 255) || ATTR_BY_TYPE[u.type]?.has(attrs)) {
        throw encodeError(`Cannot encode unknown attribute type "${u.type}": it is out of range or also set as a known field`)
      }
      let flags = u.flags & 0xe0
      if ((flags & 0xc0) === 0xc0) flags |= 0x20
      const data = u.data
      rest.push({ type: u.type, flags, forceExt: false, write: (w) => w.bytes(data) })
    }
    rest.sort((a, b) => a.type - b.type) // stable: unknown ones keep their order
  }
  return first.concat(rest)
}

/** write the path attributes of `attrs` (headers and values) */
export function encodeAttributes(w: Writer, attrs: PathAttributes, ctx: CodecContext, layout?: readonly AttrLayoutEntry[]): void {
  let emits = defaultEmits(attrs, ctx)
  if (layout && layout.length > 0) {
    const byType = new Map<number, Emit>()
    for (const e of emits) if (!byType.has(e.type)) byType.set(e.type, e)
    const ordered: Emit[] = []
    for (const l of layout) {
      const e = byType.get(l.type)
      if (!e) continue
      byType.delete(l.type)
      // the layout's flags exactly (Partial included): it reproduces what was received
      ordered.push({ ...e, flags: l.flags & 0xe0, forceExt: (l.flags & 0x10) !== 0 })
    }
    for (const e of emits) if (byType.get(e.type) === e) ordered.push(e)
    emits = ordered
  }
  for (const e of emits) writeAttribute(w, e.type, e.flags, e.forceExt, e.write)
}

export function writeAttribute(w: Writer, type: number, flags: number, forceExt: boolean, write: (w: Writer) => void): void {
  const hdr = w.reserve(4)
  const start = w.pos
  write(w)
  const len = w.pos - start
  if (len > 0xffff) throw encodeError(`Cannot encode attribute type ${type}: value of ${len} bytes exceeds 65535`)
  const b = w.buf
  if (!forceExt && len <= 255) {
    b.copyWithin(hdr + 3, start, w.pos)
    w.pos--
    b[hdr] = flags & 0xe0
    b[hdr + 1] = type
    b[hdr + 2] = len
  } else {
    b[hdr] = (flags & 0xe0) | 0x10
    b[hdr + 1] = type
    b[hdr + 2] = len >>> 8
    b[hdr + 3] = len & 255
  }
}
