// Independent, field-by-field annotator for BGP messages captured from real routers.
// Written from the RFCs (4271, 4760, 6793, 7911, 4724, 1997, 8092, 4360, 8203/9003, 2918,
// 7313, 8654, 9072), NOT from Porter's codec, so the corpus can check the codec.
//
// annotate(bytes, ctx) returns:
//   annotation: lines "<hex of the field> <meaning>"; the hex tokens concatenated equal the message
//   expected:   the message in Porter's model (internal/bgp/wire/types.ts) as JSON, with byte
//               strings written as "hex:<lowercase hex>" (see README.md in this folder)
//   features:   short tags used to pick a non-redundant corpus and to name the files

export interface GoldenCtx {
  as4: boolean
  /** families with ADD-PATH path ids in this message's direction (decoder: rx, encoder: tx) */
  addPathRx: string[]
  addPathTx: string[]
  maxMessageLength: number
  /** session is iBGP (same AS on both sides); absent when no OPEN pair was seen */
  ibgp?: boolean
}

export interface Annotated {
  annotation: string[]
  expected: Record<string, unknown>
  features: string[]
  type: string
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!
const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0

export function v6text(b: Uint8Array): string {
  const w: number[] = []
  for (let i = 0; i < 16; i += 2) w.push((b[i]! << 8) | b[i + 1]!)
  let bs = -1, bl = 0
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && w[j] === 0) j++
    if (j - i > bl) { bs = i; bl = j - i }
    i = j
  }
  if (bl < 2) return w.map(x => x.toString(16)).join(':')
  return `${w.slice(0, bs).map(x => x.toString(16)).join(':')}::${w.slice(bs + bl).map(x => x.toString(16)).join(':')}`
}
const v4text = (b: Uint8Array): string => [...b].join('.')

const AFI_NAME: Record<number, string> = { 1: 'IPv4', 2: 'IPv6' }
const SAFI_NAME: Record<number, string> = { 1: 'unicast', 2: 'multicast' }
const famKey = (afi: number, safi: number): string =>
  `${afi === 1 ? 'ipv4' : afi === 2 ? 'ipv6' : `afi${afi}`}-${safi === 1 ? 'unicast' : `safi${safi}`}`

const CAP_NAMES: Record<number, string> = {
  1: 'multiprotocol', 2: 'route refresh', 5: 'extended next hop', 6: 'extended message', 9: 'BGP role',
  64: 'graceful restart', 65: '4-octet AS', 67: 'dynamic capability', 69: 'ADD-PATH',
  70: 'enhanced route refresh', 71: 'long-lived graceful restart', 73: 'FQDN', 75: 'software version',
  128: 'route refresh (old Cisco)',
}
const ATTR_NAMES: Record<number, string> = {
  1: 'ORIGIN', 2: 'AS_PATH', 3: 'NEXT_HOP', 4: 'MULTI_EXIT_DISC', 5: 'LOCAL_PREF', 6: 'ATOMIC_AGGREGATE',
  7: 'AGGREGATOR', 8: 'COMMUNITIES', 9: 'ORIGINATOR_ID', 10: 'CLUSTER_LIST', 14: 'MP_REACH_NLRI',
  15: 'MP_UNREACH_NLRI', 16: 'EXTENDED_COMMUNITIES', 17: 'AS4_PATH', 18: 'AS4_AGGREGATOR',
  32: 'LARGE_COMMUNITY', 35: 'ONLY_TO_CUSTOMER',
}
const NOTIF_CODES: Record<number, string> = {
  1: 'Message Header Error', 2: 'OPEN Message Error', 3: 'UPDATE Message Error', 4: 'Hold Timer Expired',
  5: 'Finite State Machine Error', 6: 'Cease', 7: 'ROUTE-REFRESH Message Error',
}
const CEASE_SUB: Record<number, string> = {
  1: 'Maximum Number of Prefixes Reached', 2: 'Administrative Shutdown', 3: 'Peer De-configured',
  4: 'Administrative Reset', 5: 'Connection Rejected', 6: 'Other Configuration Change',
  7: 'Connection Collision Resolution', 8: 'Out of Resources', 9: 'Hard Reset',
}
const OPEN_SUB: Record<number, string> = {
  1: 'Unsupported Version Number', 2: 'Bad Peer AS', 3: 'Bad BGP Identifier',
  4: 'Unsupported Optional Parameter', 6: 'Unacceptable Hold Time', 7: 'Unsupported Capability', 11: 'Role Mismatch',
}

class Cursor {
  o = 0
  readonly lines: string[] = []
  constructor(readonly b: Uint8Array) {}
  take(n: number, what: string | ((v: Uint8Array) => string)): Uint8Array {
    if (this.o + n > this.b.length) throw new Error(`Annotator: need ${n} bytes at ${this.o}, have ${this.b.length - this.o}`)
    const v = this.b.subarray(this.o, this.o + n)
    this.o += n
    this.lines.push(`${hex(v)} ${typeof what === 'string' ? what : what(v)}`)
    return v
  }
  u8(what: (v: number) => string): number { return this.take(1, v => what(v[0]!))[0]! }
  u16(what: (v: number) => string): number { return u16(this.take(2, v => what(u16(v, 0))), 0) }
  u32(what: (v: number) => string): number { return u32(this.take(4, v => what(u32(v, 0))), 0) }
  get left(): number { return this.b.length - this.o }
}

export function annotate(msg: Uint8Array, ctx: GoldenCtx): Annotated {
  const c = new Cursor(msg)
  c.take(16, 'marker (16 x ff)')
  const len = c.u16(v => `length ${v}`)
  if (len !== msg.length) throw new Error(`Annotator: header length ${len} != ${msg.length}`)
  const type = c.u8(v => `type ${v} ${['', 'OPEN', 'UPDATE', 'NOTIFICATION', 'KEEPALIVE', 'ROUTE-REFRESH'][v] ?? '?'}`)
  const features: string[] = []
  let expected: Record<string, unknown>
  let tname: string
  switch (type) {
    case 1: tname = 'open'; expected = open(c, features); break
    case 2: tname = 'update'; expected = update(c, ctx, features); break
    case 3: tname = 'notification'; expected = notification(c, features); break
    case 4: tname = 'keepalive'; expected = { type: 'keepalive' }; break
    case 5: tname = 'route-refresh'; expected = routeRefresh(c, features); break
    default: throw new Error(`Annotator: unknown message type ${type}`)
  }
  if (c.left !== 0) throw new Error(`Annotator: ${c.left} trailing bytes in ${tname}`)
  return { annotation: c.lines, expected, features, type: tname }
}

function open(c: Cursor, features: string[]): Record<string, unknown> {
  const version = c.u8(v => `version ${v}`)
  const myAs = c.u16(v => `my AS ${v}${v === 23456 ? ' (AS_TRANS)' : ''}`)
  const holdTime = c.u16(v => `hold time ${v} s`)
  const routerId = v4text(c.take(4, v => `BGP identifier ${v4text(v)}`))
  let optLen = c.u8(v => `optional parameters length ${v}`)
  let extended = false
  if (optLen === 255 && c.b[c.o] === 255) { // RFC 9072
    extended = true
    c.u8(() => 'non-extended parameter type 255 (extended optional parameters follow)')
    optLen = c.u16(v => `extended optional parameters length ${v}`)
  }
  const end = c.o + optLen
  const capabilities: Record<string, unknown>[] = []
  const otherParams: Record<string, unknown>[] = []
  let nParams = 0
  while (c.o < end) {
    nParams++
    const ptype = c.u8(v => `parameter type ${v}${v === 2 ? ' (capabilities)' : ''}`)
    const plen = extended ? c.u16(v => `parameter length ${v}`) : c.u8(v => `parameter length ${v}`)
    if (ptype !== 2) {
      otherParams.push({ type: ptype, data: `hex:${hex(c.take(plen, 'parameter data'))}` })
      continue
    }
    const pend = c.o + plen
    while (c.o < pend) capabilities.push(capability(c, features))
  }
  if (myAs === 23456) features.push('as-trans')
  if (!capabilities.some(x => x.code === 65)) features.push('no-as4')
  features.push(nParams > 1 ? 'one-cap-per-param' : 'caps-in-one-param')
  const out: Record<string, unknown> = { type: 'open', version, myAs, holdTime, routerId, capabilities }
  if (otherParams.length) out.otherParams = otherParams
  return out
}

function capability(c: Cursor, features: string[]): Record<string, unknown> {
  const code = c.u8(v => `capability ${v} ${CAP_NAMES[v] ?? 'unknown'}`)
  const len = c.u8(v => `capability length ${v}`)
  const end = c.o + len
  let out: Record<string, unknown>
  switch (code) {
    case 1: {
      const afi = c.u16(v => `AFI ${v} ${AFI_NAME[v] ?? ''}`.trim())
      c.u8(v => `reserved ${v}`)
      const safi = c.u8(v => `SAFI ${v} ${SAFI_NAME[v] ?? ''}`.trim())
      out = { code: 1, kind: 'multiprotocol', afi, safi }
      break
    }
    case 2: out = { code: 2, kind: 'route-refresh' }; break
    case 6: out = { code: 6, kind: 'extended-message' }; break
    case 64: {
      const w = c.u16(v => `flags R=${v >> 15 & 1} N=${v >> 14 & 1}, restart time ${v & 0x0fff} s`)
      const families: Record<string, unknown>[] = []
      while (c.o < end) {
        const afi = c.u16(v => `AFI ${v} ${AFI_NAME[v] ?? ''}`.trim())
        const safi = c.u8(v => `SAFI ${v} ${SAFI_NAME[v] ?? ''}`.trim())
        const f = c.u8(v => `address family flags 0x${v.toString(16).padStart(2, '0')} (forwarding state ${v & 0x80 ? '' : 'not '}preserved)`)
        families.push({ afi, safi, forwardingPreserved: (f & 0x80) !== 0 })
      }
      out = { code: 64, kind: 'graceful-restart', restarting: (w & 0x8000) !== 0, notification: (w & 0x4000) !== 0, restartTime: w & 0x0fff, families }
      if (w & 0x8000) features.push('gr-restarting')
      if (families.length) features.push('gr-families')
      break
    }
    case 65: out = { code: 65, kind: 'as4', asn: c.u32(v => `AS ${v}`) }; break
    case 69: {
      const families: Record<string, unknown>[] = []
      while (c.o < end) {
        const afi = c.u16(v => `AFI ${v} ${AFI_NAME[v] ?? ''}`.trim())
        const safi = c.u8(v => `SAFI ${v} ${SAFI_NAME[v] ?? ''}`.trim())
        const m = c.u8(v => `send/receive ${v} (${['?', 'receive', 'send', 'both'][v] ?? '?'})`)
        families.push({ afi, safi, mode: (['?', 'receive', 'send', 'both'] as const)[m] ?? `?${m}` })
      }
      out = { code: 69, kind: 'add-path', families }
      break
    }
    default: {
      const data = len ? c.take(len, `capability data${code === 73 ? ' (hostname/domain)' : ''}`) : new Uint8Array(0)
      out = { code, kind: 'unknown', data: `hex:${hex(data)}` }
    }
  }
  if (c.o !== end) throw new Error(`Annotator: capability ${code} length mismatch`)
  features.push(`cap${code}`)
  return out
}

function prefixEntry(c: Cursor, afi: number, addPath: boolean): Record<string, unknown> {
  let pathId: number | undefined
  if (addPath) pathId = c.u32(v => `path identifier ${v}`)
  const plen = c.u8(v => `prefix length ${v}`)
  const nbytes = Math.ceil(plen / 8)
  const width = afi === 1 ? 4 : 16
  const full = new Uint8Array(width)
  const b = c.b.subarray(c.o, c.o + nbytes)
  full.set(b)
  const addr = afi === 1 ? v4text(full) : v6text(full)
  if (nbytes) c.take(nbytes, `prefix ${addr}/${plen}`)
  const out: Record<string, unknown> = { prefix: { afi, addr, len: plen } }
  if (pathId !== undefined) out.pathId = pathId
  return out
}

function update(c: Cursor, ctx: GoldenCtx, features: string[]): Record<string, unknown> {
  const ap4 = ctx.addPathRx.includes('ipv4-unicast')
  const wlen = c.u16(v => `withdrawn routes length ${v}`)
  const withdrawn: Record<string, unknown>[] = []
  const wend = c.o + wlen
  while (c.o < wend) withdrawn.push(prefixEntry(c, 1, ap4))
  const alen = c.u16(v => `total path attribute length ${v}`)
  const aend = c.o + alen
  const attrs: Record<string, unknown> = {}
  const order: number[] = []
  while (c.o < aend) attribute(c, ctx, attrs, order, features)
  const nlri: Record<string, unknown>[] = []
  while (c.left > 0) nlri.push(prefixEntry(c, 1, ap4))
  if (withdrawn.length) features.push('withdraw4')
  if (nlri.length) features.push('nlri4')
  if ((withdrawn.length || nlri.length) && ap4) features.push('addpath4')
  if (!withdrawn.length && !nlri.length && alen === 0) features.push('eor-ipv4')
  const mu = attrs.mpUnreach as { afi: number; withdrawn: unknown[] } | undefined
  if (mu && mu.withdrawn.length === 0 && order.length === 1 && !nlri.length) features.push(`eor-${mu.afi === 2 ? 'ipv6' : mu.afi}`)
  features.push(`order:${order.join(',')}`)
  return { type: 'update', withdrawn, attrs, nlri }
}

function asPath(c: Cursor, end: number, four: boolean): Record<string, unknown>[] {
  const segs: Record<string, unknown>[] = []
  while (c.o < end) {
    const st = c.u8(v => `segment type ${v} ${['', 'AS_SET', 'AS_SEQUENCE', 'AS_CONFED_SEQUENCE', 'AS_CONFED_SET'][v] ?? '?'}`)
    const n = c.u8(v => `segment length ${v} AS numbers`)
    const asns: number[] = []
    for (let i = 0; i < n; i++) asns.push(four ? c.u32(v => `AS ${v}`) : c.u16(v => `AS ${v}${v === 23456 ? ' (AS_TRANS)' : ''}`))
    segs.push({ type: st, asns })
  }
  return segs
}

function attribute(c: Cursor, ctx: GoldenCtx, attrs: Record<string, unknown>, order: number[], features: string[]): void {
  const flags = c.u8(v => {
    const f = [v & 0x80 ? 'optional' : 'well-known', v & 0x40 ? 'transitive' : 'non-transitive']
    if (v & 0x20) f.push('partial')
    if (v & 0x10) f.push('extended length')
    return `attribute flags 0x${v.toString(16).padStart(2, '0')} (${f.join(', ')})`
  })
  const type = c.u8(v => `attribute type ${v} ${ATTR_NAMES[v] ?? 'unknown'}`)
  const len = flags & 0x10 ? c.u16(v => `attribute length ${v}`) : c.u8(v => `attribute length ${v}`)
  const end = c.o + len
  order.push(type)
  features.push(`attr${type}`)
  if (flags & 0x10) features.push(`extlen${type}`)
  switch (type) {
    case 1: attrs.origin = c.u8(v => `origin ${v} ${['IGP', 'EGP', 'INCOMPLETE'][v] ?? '?'}`); break
    case 2: attrs.asPath = asPath(c, end, ctx.as4); break
    case 3: attrs.nextHop = v4text(c.take(4, v => `next hop ${v4text(v)}`)); break
    case 4: attrs.med = c.u32(v => `MED ${v}`); break
    case 5: attrs.localPref = c.u32(v => `local preference ${v}`); break
    case 6: attrs.atomicAggregate = true; break
    case 7: {
      const asn = ctx.as4 ? c.u32(v => `aggregator AS ${v}`) : c.u16(v => `aggregator AS ${v}${v === 23456 ? ' (AS_TRANS)' : ''}`)
      const address = v4text(c.take(4, v => `aggregator address ${v4text(v)}`))
      attrs.aggregator = { asn, address }
      break
    }
    case 8: {
      const list: number[] = []
      while (c.o < end) list.push(c.u32(v => `community ${v >>> 16}:${v & 0xffff}`))
      attrs.communities = list
      break
    }
    case 14: {
      const afi = c.u16(v => `AFI ${v} ${AFI_NAME[v] ?? ''}`.trim())
      const safi = c.u8(v => `SAFI ${v} ${SAFI_NAME[v] ?? ''}`.trim())
      const nhl = c.u8(v => `next hop length ${v}`)
      const mp: Record<string, unknown> = { afi, safi }
      if (afi === 2) {
        mp.nextHop = v6text(c.take(16, v => `global next hop ${v6text(v)}`))
        if (nhl === 32) { mp.linkLocalNextHop = v6text(c.take(16, v => `link-local next hop ${v6text(v)}`)); features.push('linklocal-nh') }
        else if (nhl !== 16) throw new Error(`Annotator: IPv6 next hop length ${nhl}`)
      } else if (afi === 1 && nhl === 4) {
        mp.nextHop = v4text(c.take(4, v => `next hop ${v4text(v)}`))
      } else throw new Error(`Annotator: MP_REACH next hop length ${nhl} for AFI ${afi}`)
      c.u8(v => `reserved ${v}`)
      const ap = ctx.addPathRx.includes(famKey(afi, safi))
      const nlri: Record<string, unknown>[] = []
      while (c.o < end) nlri.push(prefixEntry(c, afi, ap))
      mp.nlri = nlri
      if (ap) features.push('addpath-mp')
      attrs.mpReach = mp
      break
    }
    case 15: {
      const afi = c.u16(v => `AFI ${v} ${AFI_NAME[v] ?? ''}`.trim())
      const safi = c.u8(v => `SAFI ${v} ${SAFI_NAME[v] ?? ''}`.trim())
      const ap = ctx.addPathRx.includes(famKey(afi, safi))
      const withdrawn: Record<string, unknown>[] = []
      while (c.o < end) withdrawn.push(prefixEntry(c, afi, ap))
      if (ap && withdrawn.length) features.push('addpath-mp')
      attrs.mpUnreach = { afi, safi, withdrawn }
      break
    }
    case 16: {
      const list: string[] = []
      while (c.o < end) {
        list.push(`hex:${hex(c.take(8, v => {
          const t = v[0]!, st = v[1]!
          if ((t & 0x3f) === 0x00) return `extended community type 0x${t.toString(16).padStart(2, '0')} subtype 0x${st.toString(16).padStart(2, '0')} (2-octet AS specific${st === 2 ? ', route target' : st === 3 ? ', route origin' : ''}) ${u16(v, 2)}:${u32(v, 4)}`
          if ((t & 0x3f) === 0x02) return `extended community type 0x${t.toString(16).padStart(2, '0')} subtype 0x${st.toString(16).padStart(2, '0')} (4-octet AS specific${st === 2 ? ', route target' : ''}) ${u32(v, 2)}:${u16(v, 6)}`
          if ((t & 0x3f) === 0x01) return `extended community type 0x${t.toString(16).padStart(2, '0')} subtype 0x${st.toString(16).padStart(2, '0')} (IPv4 address specific) ${v4text(v.subarray(2, 6))}:${u16(v, 6)}`
          return `extended community type 0x${t.toString(16).padStart(2, '0')} subtype 0x${st.toString(16).padStart(2, '0')}`
        }))}`)
      }
      attrs.extendedCommunities = list
      break
    }
    case 17: attrs.as4Path = asPath(c, end, true); break
    case 18: {
      const asn = c.u32(v => `AS4 aggregator AS ${v}`)
      const address = v4text(c.take(4, v => `AS4 aggregator address ${v4text(v)}`))
      attrs.as4Aggregator = { asn, address }
      break
    }
    case 32: {
      const list: Record<string, number>[] = []
      while (c.o < end) {
        const v = c.take(12, v => `large community ${u32(v, 0)}:${u32(v, 4)}:${u32(v, 8)}`)
        list.push({ global: u32(v, 0), local1: u32(v, 4), local2: u32(v, 8) })
      }
      attrs.largeCommunities = list
      break
    }
    default: {
      const data = len ? c.take(len, type === 35 ? `OTC AS ${u32(c.b, c.o)}` : 'attribute data') : new Uint8Array(0)
      const unknown = (attrs.unknown ??= []) as Record<string, unknown>[]
      unknown.push({ flags, type, data: `hex:${hex(data)}` })
    }
  }
  if (c.o !== end) throw new Error(`Annotator: attribute ${type} length mismatch (${c.o} != ${end})`)
}

function notification(c: Cursor, features: string[]): Record<string, unknown> {
  const code = c.u8(v => `error code ${v} ${NOTIF_CODES[v] ?? ''}`.trim())
  const subcode = c.u8(v => `error subcode ${v} ${(code === 6 ? CEASE_SUB[v] : code === 2 ? OPEN_SUB[v] : '') ?? ''}`.trim())
  features.push(`notif${code}/${subcode}`)
  let data: Uint8Array = new Uint8Array(0)
  const start = c.o
  if (c.left > 0) {
    if (code === 6 && (subcode === 2 || subcode === 4)) {
      const n = c.u8(v => `shutdown communication length ${v}`)
      if (n) c.take(n, v => `shutdown communication "${Buffer.from(v).toString('utf8')}"`)
      if (c.left) c.take(c.left, 'trailing data')
    } else {
      c.take(c.left, code === 2 && subcode === 2 ? v => `data: peer AS field ${v.length === 2 ? u16(v, 0) : hex(v)}` : 'data')
    }
    data = c.b.subarray(start)
  }
  return { type: 'notification', code, subcode, data: `hex:${hex(data)}` }
}

function routeRefresh(c: Cursor, features: string[]): Record<string, unknown> {
  const afi = c.u16(v => `AFI ${v} ${AFI_NAME[v] ?? ''}`.trim())
  const subtype = c.u8(v => `subtype ${v} ${['normal request', 'BoRR', 'EoRR'][v] ?? '?'}`)
  const safi = c.u8(v => `SAFI ${v} ${SAFI_NAME[v] ?? ''}`.trim())
  features.push(`rr-subtype${subtype}`, `rr-afi${afi}`)
  return { type: 'route-refresh', afi, subtype, safi }
}
