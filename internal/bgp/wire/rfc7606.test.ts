// RFC 7606 error handling, one case per malformation: the action, the NOTIFICATION code and
// subcode it would carry, and what the decoded message looks like afterwards.
import t from 'tap'
import { hex, msg } from '../../../test/lib/hex.ts'
import { BgpWireError, decodeDetailed, defaultContext, type CodecContext, type UpdateMessage } from './index.ts'

const ctx = defaultContext()
const ctx4: CodecContext = { ...ctx, as4: true }
const ebgp: CodecContext = { ...ctx, ibgp: false }

const ORIGIN = '40 01 01 00'
const AS_PATH = '40 02 04 02 01 fde8' // AS_SEQUENCE 65000
const NEXT_HOP = '40 03 04 c0000201'
const MANDATORY = `${ORIGIN} ${AS_PATH} ${NEXT_HOP}`
const NLRI = '18 c63364' // 198.51.100.0/24
const P24 = { prefix: { afi: 1 as const, addr: '198.51.100.0', len: 24 } }

/** an UPDATE from withdrawn routes, path attributes and NLRI given as hex */
function upd(attrs: string, nlri = NLRI, withdrawn = ''): Uint8Array {
  const w = hex(withdrawn)
  const a = hex(attrs)
  const n = hex(nlri)
  const body = new Uint8Array(4 + w.length + a.length + n.length)
  body[0] = w.length >>> 8
  body[1] = w.length & 255
  body.set(w, 2)
  body[2 + w.length] = a.length >>> 8
  body[3 + w.length] = a.length & 255
  body.set(a, 4 + w.length)
  body.set(n, 4 + w.length + a.length)
  return msg(2, body)
}

interface Soft {
  action: 'attribute-discard' | 'treat-as-withdraw' | 'afisafi-disable'
  subcode: number
  attrType?: number
}

const soft: [string, Uint8Array, CodecContext, Soft][] = [
  // 7.1 ORIGIN
  ['ORIGIN length 2', upd(`40 01 02 0000 ${AS_PATH} ${NEXT_HOP}`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 1 }],
  ['ORIGIN value 3', upd(`40 01 01 03 ${AS_PATH} ${NEXT_HOP}`), ctx, { action: 'treat-as-withdraw', subcode: 6, attrType: 1 }],
  ['ORIGIN flagged optional', upd(`c0 01 01 00 ${AS_PATH} ${NEXT_HOP}`), ctx, { action: 'treat-as-withdraw', subcode: 4, attrType: 1 }],
  // 7.2 AS_PATH
  ['AS_PATH segment type 5', upd(`${ORIGIN} 40 02 04 05 01 fde8 ${NEXT_HOP}`), ctx, { action: 'treat-as-withdraw', subcode: 11, attrType: 2 }],
  ['AS_PATH segment type 0', upd(`${ORIGIN} 40 02 04 00 01 fde8 ${NEXT_HOP}`), ctx, { action: 'treat-as-withdraw', subcode: 11, attrType: 2 }],
  ['AS_PATH zero-length segment', upd(`${ORIGIN} 40 02 02 02 00 ${NEXT_HOP}`), ctx, { action: 'treat-as-withdraw', subcode: 11, attrType: 2 }],
  ['AS_PATH segment overrun', upd(`${ORIGIN} 40 02 04 02 02 fde8 ${NEXT_HOP}`), ctx, { action: 'treat-as-withdraw', subcode: 11, attrType: 2 }],
  ['AS_PATH underrun (1 octet left)', upd(`${ORIGIN} 40 02 05 02 01 fde8 02 ${NEXT_HOP}`), ctx, { action: 'treat-as-withdraw', subcode: 11, attrType: 2 }],
  ['AS_PATH 2-octet data on a 4-octet session', upd(`${ORIGIN} 40 02 06 02 02 fde8 fde9 ${NEXT_HOP}`), ctx4, { action: 'treat-as-withdraw', subcode: 11, attrType: 2 }],
  ['AS_PATH flagged optional', upd(`${ORIGIN} 80 02 04 02 01 fde8 ${NEXT_HOP}`), ctx, { action: 'treat-as-withdraw', subcode: 4, attrType: 2 }],
  // 7.3 NEXT_HOP
  ['NEXT_HOP length 5', upd(`${ORIGIN} ${AS_PATH} 40 03 05 c000020101`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 3 }],
  ['NEXT_HOP length 16', upd(`${ORIGIN} ${AS_PATH} 40 03 10 20010db8000000000000000000000001`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 3 }],
  ['NEXT_HOP not transitive', upd(`${ORIGIN} ${AS_PATH} 00 03 04 c0000201`), ctx, { action: 'treat-as-withdraw', subcode: 4, attrType: 3 }],
  // 7.4 MED
  ['MED length 3', upd(`${MANDATORY} 80 04 03 000064`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 4 }],
  ['MED flagged well-known', upd(`${MANDATORY} 40 04 04 00000064`), ctx, { action: 'treat-as-withdraw', subcode: 4, attrType: 4 }],
  // 7.5 LOCAL_PREF
  ['LOCAL_PREF length 2', upd(`${MANDATORY} 40 05 02 0064`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 5 }],
  ['LOCAL_PREF from an external peer', upd(`${MANDATORY} 40 05 04 00000064`), ebgp, { action: 'attribute-discard', subcode: 1, attrType: 5 }],
  // 7.6 ATOMIC_AGGREGATE
  ['ATOMIC_AGGREGATE length 1', upd(`${MANDATORY} 40 06 01 00`), ctx, { action: 'attribute-discard', subcode: 5, attrType: 6 }],
  // 7.7 AGGREGATOR
  ['AGGREGATOR length 8 on a 2-octet session', upd(`${MANDATORY} c0 07 08 0000fde8 c0000201`), ctx, { action: 'attribute-discard', subcode: 5, attrType: 7 }],
  ['AGGREGATOR length 6 on a 4-octet session', upd(`${ORIGIN} 40 02 06 02 01 0000fde8 ${NEXT_HOP} c0 07 06 fde8 c0000201`), ctx4, { action: 'attribute-discard', subcode: 5, attrType: 7 }],
  // 7.8 COMMUNITIES
  ['COMMUNITIES length 0', upd(`${MANDATORY} c0 08 00`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 8 }],
  ['COMMUNITIES length 6', upd(`${MANDATORY} c0 08 06 fde80064 0001`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 8 }],
  ['COMMUNITIES not transitive', upd(`${MANDATORY} 80 08 04 fde80064`), ctx, { action: 'treat-as-withdraw', subcode: 4, attrType: 8 }],
  // 7.9, 7.10 ORIGINATOR_ID, CLUSTER_LIST
  ['ORIGINATOR_ID length 3', upd(`${MANDATORY} 80 09 03 c00002`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 9 }],
  ['ORIGINATOR_ID from an external peer', upd(`${MANDATORY} 80 09 04 c0000201`), ebgp, { action: 'attribute-discard', subcode: 1, attrType: 9 }],
  ['CLUSTER_LIST length 6', upd(`${MANDATORY} 80 0a 06 c0000201 0000`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 10 }],
  // 7.14 EXTENDED_COMMUNITIES, RFC 8092 LARGE_COMMUNITIES
  ['EXTENDED_COMMUNITIES length 12', upd(`${MANDATORY} c0 10 0c 0002fde800000064 00000000`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 16 }],
  ['EXTENDED_COMMUNITIES length 0', upd(`${MANDATORY} c0 10 00`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 16 }],
  ['LARGE_COMMUNITIES length 10', upd(`${MANDATORY} c0 20 0a 0000fde8 00000001 0000`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 32 }],
  // RFC 6793: AS4_PATH and AS4_AGGREGATOR are discarded
  ['AS4_PATH segment overrun', upd(`${MANDATORY} c0 11 06 02 02 fa56ea01`), ctx, { action: 'attribute-discard', subcode: 9, attrType: 17 }],
  ['AS4_PATH flagged non-transitive', upd(`${MANDATORY} 80 11 06 02 01 fa56ea01`), ctx, { action: 'attribute-discard', subcode: 4, attrType: 17 }],
  ['AS4_AGGREGATOR length 6', upd(`${MANDATORY} c0 12 06 fde8 c0000201`), ctx, { action: 'attribute-discard', subcode: 5, attrType: 18 }],
  // 3.d missing well-known mandatory attributes
  ['ORIGIN missing', upd(`${AS_PATH} ${NEXT_HOP}`), ctx, { action: 'treat-as-withdraw', subcode: 3, attrType: 1 }],
  ['AS_PATH missing', upd(`${ORIGIN} ${NEXT_HOP}`), ctx, { action: 'treat-as-withdraw', subcode: 3, attrType: 2 }],
  ['NEXT_HOP missing with IPv4 NLRI', upd(`${ORIGIN} ${AS_PATH}`), ctx, { action: 'treat-as-withdraw', subcode: 3, attrType: 3 }],
  ['no attributes at all with NLRI', upd(''), ctx, { action: 'treat-as-withdraw', subcode: 3, attrType: 1 }],
  // 3.g duplicates other than MP_*: later ones discarded
  ['ORIGIN twice', upd(`${MANDATORY} 40 01 01 02`), ctx, { action: 'attribute-discard', subcode: 1, attrType: 1 }],
  // unrecognized attribute without the Optional bit
  ['unrecognized well-known attribute', upd(`${MANDATORY} 40 63 01 00`), ctx, { action: 'treat-as-withdraw', subcode: 2, attrType: 99 }],
  // 4: attribute lengths against the Total Attribute Length
  ['last attribute overruns the attributes', upd(`${MANDATORY} c0 08 08 fde80064`), ctx, { action: 'treat-as-withdraw', subcode: 5, attrType: 8 }],
  ['2 octets left for an attribute', upd(`${MANDATORY} c0 08`), ctx, { action: 'treat-as-withdraw', subcode: 1 }],
  ['3 octets left with Extended Length', upd(`${MANDATORY} d0 08 00`), ctx, { action: 'treat-as-withdraw', subcode: 1 }],
  // RFC 4760 7: a family the codec does not know
  ['MP_REACH_NLRI of an unknown family', upd(`${MANDATORY} 80 0e 0b 0019 46 04 c0000201 00 0102`), ctx, { action: 'afisafi-disable', subcode: 9, attrType: 14 }],
  ['MP_UNREACH_NLRI of an unknown family', upd(`${MANDATORY} 80 0f 05 0001 80 0102`), ctx, { action: 'afisafi-disable', subcode: 9, attrType: 15 }],
]

t.test('errors handled without a session reset', async (t) => {
  t.ok(soft.length > 40, 'case table is populated')
  for (const [name, bytes, c, want] of soft) {
    let r
    try {
      r = decodeDetailed(bytes, c)
    } catch (e) {
      t.fail(`${name}: threw ${(e as Error).message}`)
      continue
    }
    const e = r.errors.find((x) => x.action === want.action)
    t.ok(e, `${name}: has a ${want.action} error`)
    t.equal(r.action, want.action, `${name}: strongest action`)
    if (!e) continue
    t.ok(e instanceof BgpWireError, `${name}: BgpWireError`)
    t.equal(e.bgpCode, 3, `${name}: UPDATE Message Error`)
    t.equal(e.subcode, want.subcode, `${name}: subcode`)
    if (want.attrType !== undefined) t.equal(e.attrType, want.attrType, `${name}: attribute`)
    const u = r.msg as UpdateMessage
    if (want.action === 'treat-as-withdraw') {
      t.equal(r.treatAsWithdraw, true, `${name}: treat-as-withdraw`)
      t.strictSame(u.nlri, [], `${name}: no NLRI left`)
      t.strictSame(u.withdrawn, [P24], `${name}: the NLRI is withdrawn`)
      t.strictSame(u.attrs, {}, `${name}: no attributes left`)
    } else {
      t.equal(r.treatAsWithdraw, false, `${name}: not treat-as-withdraw`)
      t.strictSame(u.nlri, [P24], `${name}: NLRI kept`)
      if (want.attrType !== undefined && want.action === 'attribute-discard' && want.attrType !== 1) {
        t.notOk(JSON.stringify(u.attrs.unknown ?? []).includes(`"type":${want.attrType}`), `${name}: not kept as unknown`)
      }
      t.equal(u.attrs.origin, 0, `${name}: other attributes kept`)
    }
  }
})

t.test('what an attribute-discard leaves', async (t) => {
  const r = decodeDetailed(upd(`${MANDATORY} 40 06 01 00 c0 07 06 fde8 c0000201`), ctx)
  const u = r.msg as UpdateMessage
  t.equal(u.attrs.atomicAggregate, undefined, 'ATOMIC_AGGREGATE dropped')
  t.strictSame(u.attrs.aggregator, { asn: 65000, address: '192.0.2.1' }, 'AGGREGATOR kept')
  const d = decodeDetailed(upd(`${MANDATORY} 40 01 01 02`), ctx).msg as UpdateMessage
  t.equal(d.attrs.origin, 0, 'the first ORIGIN stays')
})

const hard: [string, Uint8Array, CodecContext, number, number?][] = [
  // RFC 4271 6.3 / RFC 7606 3: lengths that do not add up
  ['withdrawn routes length overruns', msg(2, hex`0010 0000`), ctx, 1],
  ['total attribute length overruns', msg(2, hex`0000 0010 40 01 01 00`), ctx, 1],
  // 5.3 NLRI that cannot be parsed
  ['NLRI prefix length 33', upd(MANDATORY, '21 c6336401 00'), ctx, 10],
  ['NLRI prefix overruns', upd(MANDATORY, '18 c633'), ctx, 10],
  ['withdrawn prefix length 40', upd('', '', '28 c633640100'), ctx, 10],
  ['ADD-PATH NLRI cut inside the path id', upd(MANDATORY, '000001'), { ...ctx, addPathRx: new Set(['ipv4-unicast']) }, 10],
  // MP_REACH_NLRI / MP_UNREACH_NLRI
  ['MP_REACH_NLRI length 3', upd(`${ORIGIN} ${AS_PATH} 80 0e 03 000201`, ''), ctx, 9, 14],
  ['MP_REACH_NLRI next hop length 5 for IPv6', upd(`${ORIGIN} ${AS_PATH} 80 0e 0d 0002 01 05 2001 0db8 00 00 30 2001`, ''), ctx, 9, 14],
  ['MP_REACH_NLRI next hop length 4 for IPv6', upd(`${ORIGIN} ${AS_PATH} 80 0e 09 0002 01 04 c0000201 00`, ''), ctx, 9, 14],
  ['MP_REACH_NLRI next hop overruns', upd(`${ORIGIN} ${AS_PATH} 80 0e 08 0002 01 10 20010db8`, ''), ctx, 9, 14],
  ['MP_REACH_NLRI prefix length 129', upd(`${ORIGIN} ${AS_PATH} 80 0e 16 0002 01 10 20010db8000000000000000000000001 00 81`, ''), ctx, 9, 14],
  ['MP_REACH_NLRI prefix overruns', upd(`${ORIGIN} ${AS_PATH} 80 0e 17 0002 01 10 20010db8000000000000000000000001 00 30 20`, ''), ctx, 9, 14],
  ['MP_REACH_NLRI flagged transitive', upd(`${ORIGIN} ${AS_PATH} c0 0e 15 0002 01 10 20010db8000000000000000000000001 00`, ''), ctx, 4, 14],
  ['MP_UNREACH_NLRI length 2', upd('80 0f 02 0002', ''), ctx, 9, 15],
  ['MP_UNREACH_NLRI prefix overruns', upd('80 0f 05 0002 01 30 20', ''), ctx, 9, 15],
  ['MP_UNREACH_NLRI flagged well-known', upd('40 0f 03 0002 01', ''), ctx, 4, 15],
  // 3.g
  ['MP_UNREACH_NLRI twice', upd('80 0f 03 0002 01 80 0f 03 0002 01', ''), ctx, 1],
  ['MP_REACH_NLRI twice', upd(`${ORIGIN} ${AS_PATH} 80 0e 15 0002 01 10 20010db8000000000000000000000001 00 80 0e 15 0002 01 10 20010db8000000000000000000000001 00`, ''), ctx, 1],
  // 5.2: attributes, no reachable NLRI, an error stronger than attribute-discard
  ['bad ORIGIN in a withdrawal', upd('40 01 01 07', '', '18 c63364'), ctx, 6, 1],
  ['bad COMMUNITIES without NLRI', upd(`${MANDATORY} c0 08 03 000000`, ''), ctx, 5, 8],
  ['attribute overrun without NLRI', upd(`${MANDATORY} c0 08 08 fde80064`, ''), ctx, 5],
]

t.test('errors that reset the session', async (t) => {
  t.ok(hard.length > 15, 'case table is populated')
  for (const [name, bytes, c, subcode, attrType] of hard) {
    try {
      decodeDetailed(bytes, c)
      t.fail(`${name}: no error`)
    } catch (e) {
      if (!(e instanceof BgpWireError)) {
        t.fail(`${name}: ${String(e)}`)
        continue
      }
      t.equal(e.action, 'session-reset', `${name}: session-reset`)
      t.equal(e.bgpCode, 3, `${name}: UPDATE Message Error`)
      t.equal(e.subcode, subcode, `${name}: subcode`)
      if (attrType !== undefined) t.equal(e.attrType, attrType, `${name}: attribute`)
      const n = e.toNotification()
      t.strictSame([n.type, n.code, n.subcode], ['notification', 3, subcode], `${name}: notification`)
    }
  }
})

t.test('attribute-discard only, no NLRI: no session reset (5.2)', async (t) => {
  const r = decodeDetailed(upd('40 06 01 00', '', '18 c63364'), ctx)
  t.equal(r.action, 'attribute-discard')
  t.strictSame((r.msg as UpdateMessage).withdrawn, [P24])
})

t.test('treat-as-withdraw turns MP_REACH_NLRI into withdrawals', async (t) => {
  const MP6 = '80 0e 1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001'
  const P6 = { prefix: { afi: 2 as const, addr: '2001:db8:1::', len: 48 } }
  // bad ORIGIN, IPv6 NLRI only
  let r = decodeDetailed(upd(`${MP6} 40 01 01 09 ${AS_PATH}`, ''), ctx)
  t.equal(r.treatAsWithdraw, true)
  t.strictSame(r.msg, { type: 'update', withdrawn: [], attrs: { mpUnreach: { afi: 2, safi: 1, withdrawn: [P6] } }, nlri: [] })
  // IPv6 NLRI next to an IPv6 MP_UNREACH: merged
  const UN6 = '80 0f 0a 0002 01 30 20010db80002'
  r = decodeDetailed(upd(`${MP6} ${UN6} 40 01 01 09 ${AS_PATH}`, ''), ctx)
  t.strictSame((r.msg as UpdateMessage).attrs.mpUnreach?.withdrawn, [{ prefix: { afi: 2, addr: '2001:db8:2::', len: 48 } }, P6])
  // IPv4 NLRI field + IPv6 MP_REACH: both withdrawn
  r = decodeDetailed(upd(`${MP6} 40 01 01 09 ${AS_PATH} ${NEXT_HOP}`), ctx)
  t.strictSame(r.msg, { type: 'update', withdrawn: [P24], attrs: { mpUnreach: { afi: 2, safi: 1, withdrawn: [P6] } }, nlri: [] })
  // IPv6 MP_REACH with an IPv4 MP_UNREACH: the IPv4 withdrawals move to the withdrawn routes field
  r = decodeDetailed(upd(`${MP6} 80 0f 07 0001 01 18 c63365 40 01 01 09 ${AS_PATH}`, ''), ctx)
  t.strictSame(r.msg, {
    type: 'update',
    withdrawn: [{ prefix: { afi: 1, addr: '198.51.101.0', len: 24 } }],
    attrs: { mpUnreach: { afi: 2, safi: 1, withdrawn: [P6] } },
    nlri: [],
  })
  // NEXT_HOP is not required when the NLRI are only in MP_REACH_NLRI
  r = decodeDetailed(upd(`${MP6} ${ORIGIN} ${AS_PATH}`, ''), ctx)
  t.strictSame(r.errors, [])
})

t.test('several errors: the strongest action wins (3.h)', async (t) => {
  const r = decodeDetailed(upd(`${MANDATORY} 40 06 01 00 c0 08 02 0000`), ctx)
  t.strictSame(r.errors.map((e) => e.action), ['attribute-discard', 'treat-as-withdraw'])
  t.equal(r.action, 'treat-as-withdraw')
  const d = decodeDetailed(upd(`${MANDATORY} 80 0f 05 0001 80 0102 c0 08 02 0000`), ctx)
  t.equal(d.action, 'afisafi-disable')
  t.equal(d.treatAsWithdraw, true)
  t.strictSame(d.disabled, [{ afi: 1, safi: 128 }])
})

t.test('toNotification carries the erroneous attribute as data', async (t) => {
  const r = decodeDetailed(upd(`40 01 01 03 ${AS_PATH} ${NEXT_HOP}`), ctx)
  const n = r.errors[0]!.toNotification()
  t.strictSame(n, { type: 'notification', code: 3, subcode: 6, data: hex`40 01 01 03` })
  const m = decodeDetailed(upd(`${AS_PATH} ${NEXT_HOP}`), ctx).errors[0]!.toNotification()
  t.strictSame(m, { type: 'notification', code: 3, subcode: 3, data: hex`01` }, 'missing attribute: its type code')
  t.equal(r.errors[0]!.code, 'PORTER_ERR_BGP_WIRE')
})
