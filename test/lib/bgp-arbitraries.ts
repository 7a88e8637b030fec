// fast-check generators of valid messages, in the canonical form decode() produces
// (host bits clear, path ids exactly where ADD-PATH applies, well-known attributes present
// with NLRI, Partial bit set on unknown optional transitive attributes). Test helper.

import fc from 'fast-check'
import { formatIpv4, formatIpv6, maskBytes } from '../../internal/ip/index.ts'
import type {
  AsPathSegment, BgpMessage, Capability, CodecContext, FamilyKey, KeepaliveMessage, Nlri, NotificationMessage,
  OpenMessage, PathAttributes, RouteRefreshMessage, UpdateMessage,
} from '../../internal/bgp/wire/types.ts'

const rec = { noNullPrototype: true } as const

export const ctxArb: fc.Arbitrary<CodecContext> = fc
  .record({ as4: fc.boolean(), ap4: fc.boolean(), ap6: fc.boolean(), ext: fc.boolean(), ibgp: fc.constantFrom(undefined, true, false) }, rec)
  .map(({ as4, ap4, ap6, ext, ibgp }) => {
    const fams: FamilyKey[] = []
    if (ap4) fams.push('ipv4-unicast')
    if (ap6) fams.push('ipv6-unicast')
    const ctx: CodecContext = { as4, addPathTx: new Set(fams), addPathRx: new Set(fams), maxMessageLength: ext ? 65535 : 4096 }
    if (ibgp !== undefined) ctx.ibgp = ibgp
    return ctx
  })

const u32 = fc.integer({ min: 0, max: 0xffffffff })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u8 = fc.integer({ min: 0, max: 255 })

export const ipv4Arb = u32.map(formatIpv4)
export const ipv6Arb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIpv6(b, 0))

function prefixArb(afi: 1 | 2) {
  if (afi === 1) {
    return fc.tuple(fc.integer({ min: 0, max: 32 }), u32).map(([len, v]) => ({
      afi: 1 as const,
      addr: formatIpv4(len === 0 ? 0 : (v & (0xffffffff << (32 - len))) >>> 0),
      len,
    }))
  }
  return fc.tuple(fc.integer({ min: 0, max: 128 }), fc.uint8Array({ minLength: 16, maxLength: 16 })).map(([len, b]) => {
    maskBytes(b, 0, 16, len)
    return { afi: 2 as const, addr: formatIpv6(b, 0), len }
  })
}

export function nlriArb(afi: 1 | 2, addPath: boolean): fc.Arbitrary<Nlri> {
  return addPath
    ? fc.tuple(prefixArb(afi), u32).map(([prefix, pathId]) => ({ prefix, pathId }))
    : prefixArb(afi).map((prefix) => ({ prefix }))
}

function segmentsArb(asn: fc.Arbitrary<number>): fc.Arbitrary<AsPathSegment[]> {
  return fc.array(
    fc.record({ type: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const), asns: fc.array(asn, { minLength: 1, maxLength: 8 }) }, rec),
    { maxLength: 4 },
  )
}

const KNOWN_ATTRS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32])
const KNOWN_CAPS = new Set([1, 2, 6, 64, 65, 69])

export function attrsArb(ctx: CodecContext): fc.Arbitrary<PathAttributes> {
  const asn = ctx.as4 ? u32 : u16
  const ap4 = ctx.addPathTx.has('ipv4-unicast')
  const ap6 = ctx.addPathTx.has('ipv6-unicast')
  const famArb = fc.constantFrom(1 as const, 2 as const)
  const mpReach = famArb.chain((afi) =>
    fc.record({
      afi: fc.constant(afi),
      safi: fc.constant(1),
      hop: afi === 1
        ? fc.oneof(ipv4Arb.map((nextHop) => ({ nextHop })), fc.tuple(ipv6Arb, fc.option(ipv6Arb, { nil: undefined })).map(([nextHop, ll]) => (ll === undefined ? { nextHop } : { nextHop, linkLocalNextHop: ll })))
        : fc.tuple(ipv6Arb, fc.option(ipv6Arb, { nil: undefined })).map(([nextHop, ll]) => (ll === undefined ? { nextHop } : { nextHop, linkLocalNextHop: ll })),
      nlri: fc.array(nlriArb(afi, afi === 1 ? ap4 : ap6), { maxLength: 12 }),
    }, rec).map(({ afi, safi, hop, nlri }) => ({ afi, safi, ...hop, nlri })),
  )
  const mpUnreach = famArb.chain((afi) =>
    fc.record({ afi: fc.constant(afi), safi: fc.constant(1), withdrawn: fc.array(nlriArb(afi, afi === 1 ? ap4 : ap6), { maxLength: 12 }) }, rec),
  )
  const unknownType = fc.integer({ min: 0, max: 255 }).filter((x) => !KNOWN_ATTRS.has(x))
  return fc.record(
    {
      origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
      asPath: segmentsArb(asn),
      nextHop: ipv4Arb,
      med: u32,
      localPref: u32,
      atomicAggregate: fc.constant(true),
      aggregator: fc.record({ asn, address: ipv4Arb }, rec),
      communities: fc.array(u32, { minLength: 1, maxLength: 8 }),
      extendedCommunities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
      largeCommunities: fc.array(fc.record({ global: u32, local1: u32, local2: u32 }, rec), { minLength: 1, maxLength: 4 }),
      as4Path: segmentsArb(u32),
      as4Aggregator: fc.record({ asn: u32, address: ipv4Arb }, rec),
      mpReach,
      mpUnreach,
      unknown: fc.uniqueArray(
        fc.record({ flags: fc.constantFrom(0x80, 0xa0, 0xe0), type: unknownType, data: fc.uint8Array({ maxLength: 300 }) }, rec),
        { minLength: 1, maxLength: 3, selector: (u) => u.type },
      ),
    },
    { requiredKeys: [], noNullPrototype: true },
  )
}

export function updateArb(ctx: CodecContext): fc.Arbitrary<UpdateMessage> {
  const ap4 = ctx.addPathTx.has('ipv4-unicast')
  return fc
    .record({
      withdrawn: fc.array(nlriArb(1, ap4), { maxLength: 15 }),
      attrs: attrsArb(ctx),
      nlri: fc.array(nlriArb(1, ap4), { maxLength: 15 }),
    }, rec)
    .map(({ withdrawn, attrs, nlri }) => {
      // well-known mandatory attributes wherever there are NLRI (RFC 7606 3.d)
      const reach = nlri.length > 0 || (attrs.mpReach?.nlri.length ?? 0) > 0
      if (reach) {
        attrs.origin ??= 0
        attrs.asPath ??= []
      }
      if (nlri.length > 0) attrs.nextHop ??= '192.0.2.1'
      // the encoder writes attributes by ascending type code, so that is the decoded order
      attrs.unknown?.sort((a, b) => a.type - b.type)
      // LOCAL_PREF from an external peer is discarded (RFC 7606 7.5)
      if (ctx.ibgp === false) delete attrs.localPref
      const m: UpdateMessage = { type: 'update', withdrawn, attrs, nlri }
      return m
    })
}

const capabilityArb: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ code: fc.constant(1 as const), kind: fc.constant('multiprotocol' as const), afi: u16, safi: u8 }, rec),
  fc.constant({ code: 2 as const, kind: 'route-refresh' as const }),
  fc.constant({ code: 6 as const, kind: 'extended-message' as const }),
  fc.record({
    code: fc.constant(64 as const), kind: fc.constant('graceful-restart' as const), restarting: fc.boolean(), notification: fc.boolean(),
    restartTime: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(fc.record({ afi: u16, safi: u8, forwardingPreserved: fc.boolean() }, rec), { maxLength: 4 }),
  }, rec),
  fc.record({ code: fc.constant(65 as const), kind: fc.constant('as4' as const), asn: u32 }, rec),
  fc.record({
    code: fc.constant(69 as const), kind: fc.constant('add-path' as const),
    families: fc.array(fc.record({ afi: u16, safi: u8, mode: fc.constantFrom('receive' as const, 'send' as const, 'both' as const) }, rec), { minLength: 1, maxLength: 4 }),
  }, rec),
  fc.record({ code: u8.filter((c) => !KNOWN_CAPS.has(c)), kind: fc.constant('unknown' as const), data: fc.uint8Array({ maxLength: 120 }) }, rec),
)

export const openArb: fc.Arbitrary<OpenMessage> = fc
  .record({
    myAs: u16,
    holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
    routerId: fc.integer({ min: 1, max: 0xffffffff }).map(formatIpv4),
    capabilities: fc.array(capabilityArb, { maxLength: 10 }),
    otherParams: fc.array(fc.record({ type: fc.integer({ min: 0, max: 254 }).filter((x) => x !== 2), data: fc.uint8Array({ maxLength: 40 }) }, rec), { maxLength: 3 }),
  }, rec)
  .map(({ otherParams, ...o }) => {
    const m: OpenMessage = { type: 'open', version: 4, ...o }
    if (otherParams.length > 0) m.otherParams = otherParams
    return m
  })

export const notificationArb: fc.Arbitrary<NotificationMessage> = fc
  .record({ code: u8, subcode: u8, data: fc.uint8Array({ maxLength: 200 }) }, rec)
  .map((x) => ({ type: 'notification' as const, ...x }))

export const routeRefreshArb: fc.Arbitrary<RouteRefreshMessage> = fc
  .record({ afi: u16, subtype: u8, safi: u8 }, rec)
  .map((x) => ({ type: 'route-refresh' as const, ...x }))

export const keepaliveArb: fc.Arbitrary<KeepaliveMessage> = fc.constant({ type: 'keepalive' as const })

export function messageArb(ctx: CodecContext): fc.Arbitrary<BgpMessage> {
  return fc.oneof(updateArb(ctx), openArb, notificationArb, routeRefreshArb, keepaliveArb)
}
