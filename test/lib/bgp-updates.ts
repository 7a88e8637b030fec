// Placing a diff's NLRI into UPDATE messages. How many NLRI fit in one message is the codec's
// business (it knows the encoded sizes and the negotiated maximum); these helpers only say where
// the NLRI go, so every caller does it the same way.
import { AFI_IPV6, SAFI_UNICAST, toNlri, type FamilyKey, type Nlri, type OutNlri, type UpdateMessage } from '../../internal/bgp/wire/index.ts'
import type { AnnounceGroup } from '../../internal/bgp/rib/adj-rib-out.ts'

/** An NLRI as the wire carries it: the prefix's own fields only (a RIB hands out its route as the prefix). */
function wireNlri(out: OutNlri): Nlri {
  const { prefix: p, pathId } = toNlri(out)
  const prefix = { afi: p.afi, addr: p.addr, len: p.len }
  return pathId === undefined ? { prefix } : { prefix, pathId }
}

/**
 * UPDATE announcing `nlri` (a slice of `group.nlri`) with the group's attributes:
 * IPv4 unicast in the NLRI field, IPv6 unicast in a copy of MP_REACH_NLRI.
 */
export function announceUpdate(group: AnnounceGroup, out: readonly OutNlri[]): UpdateMessage {
  const nlri = out.map(wireNlri)
  if (group.family === 'ipv4-unicast') return { type: 'update', withdrawn: [], attrs: group.attrs, nlri }
  const mp = group.attrs.mpReach
  if (mp === undefined) throw new Error('IPv6 announce group without MP_REACH_NLRI') // built by buildPathAttributes: cannot happen
  return { type: 'update', withdrawn: [], attrs: { ...group.attrs, mpReach: { ...mp, nlri } }, nlri: [] }
}

/** UPDATE withdrawing `nlri`: IPv4 unicast in the Withdrawn Routes field, IPv6 unicast in MP_UNREACH_NLRI. */
export function withdrawUpdate(family: FamilyKey, out: readonly OutNlri[]): UpdateMessage {
  const nlri = out.map(wireNlri)
  if (family === 'ipv4-unicast') return { type: 'update', withdrawn: nlri, attrs: {}, nlri: [] }
  return { type: 'update', withdrawn: [], attrs: { mpUnreach: { afi: AFI_IPV6, safi: SAFI_UNICAST, withdrawn: nlri } }, nlri: [] }
}
