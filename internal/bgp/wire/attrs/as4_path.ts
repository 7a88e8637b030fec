// AS4_PATH (type 17, optional transitive, RFC 6793): AS_PATH with 4-octet ASNs, sent alongside
// a 2-octet AS_PATH holding AS_TRANS when one side lacks the 4-octet AS capability.
// RFC 6793 7: a malformed AS4_PATH -> attribute-discard (flags errors too).
// mergeAsPath() rebuilds the real path (RFC 6793 4.2.3).

import { UpdateSubcode } from '../notification.ts'
import type { AsPathSegment, PathAttributes } from '../types.ts'
import { type AttrDef, attrError, OPTIONAL_TRANSITIVE } from './_def.ts'
import { decodeSegments, writeSegments } from './_as_path.ts'

export const as4Path: AttrDef = {
  type: 17,
  name: 'AS4_PATH',
  flags: OPTIONAL_TRANSITIVE,
  flagsAction: 'attribute-discard',
  decode(data, attrs, env) {
    const segs = decodeSegments(data, 4)
    if (typeof segs === 'string') throw attrError(this, env, segs, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, 'attribute-discard')
    attrs.as4Path = segs
  },
  has: (a) => a.as4Path !== undefined,
  encode(a, w) {
    writeSegments(w, a.as4Path!, 4)
  },
}

/** number of ASNs a path counts for in length comparisons (an AS_SET counts 1, confed segments 0) */
export function pathLength(segs: readonly AsPathSegment[]): number {
  let n = 0
  for (const s of segs) n += s.type === 2 ? s.asns.length : s.type === 1 ? 1 : 0
  return n
}

/**
 * The effective AS path of an UPDATE (RFC 6793 4.2.3): with 4-octet AS negotiated AS_PATH is
 * the path; otherwise AS4_PATH replaces the tail of AS_PATH when it is not longer.
 */
export function mergeAsPath(attrs: PathAttributes, as4: boolean): AsPathSegment[] {
  const path = attrs.asPath ?? []
  const p4 = attrs.as4Path
  if (as4 || !p4) return path.map((s) => ({ type: s.type, asns: [...s.asns] }))
  const n = pathLength(path)
  const n4 = pathLength(p4)
  if (n < n4) return path.map((s) => ({ type: s.type, asns: [...s.asns] }))
  // keep the first n - n4 counted ASNs of AS_PATH (and confed segments in front), then AS4_PATH
  let keep = n - n4
  const out: AsPathSegment[] = []
  for (const s of path) {
    if (keep === 0) break
    if (s.type === 3 || s.type === 4) {
      out.push({ type: s.type, asns: [...s.asns] })
    } else if (s.type === 1) {
      out.push({ type: 1, asns: [...s.asns] })
      keep--
    } else {
      const take = Math.min(keep, s.asns.length)
      out.push({ type: 2, asns: s.asns.slice(0, take) })
      keep -= take
    }
  }
  for (const s of p4) out.push({ type: s.type, asns: [...s.asns] })
  return out
}
