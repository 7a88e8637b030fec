import t from 'tap'
import {
  decode, decodeDetailed, defaultContext, encode, encodeUpdates, encodeWithdrawals, joinMessages, splitMessages,
  type CodecContext, type Nlri, type PathAttributes, type UpdateMessage,
} from './index.ts'

const base = defaultContext()
const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65000] }], nextHop: '192.0.2.1', communities: [0xfde80064] }

function v4hosts(n: number, pathIds = false): Nlri[] {
  const out: Nlri[] = []
  for (let i = 0; i < n; i++) {
    const prefix = { afi: 1 as const, addr: `198.${18 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}`, len: 32 }
    out.push(pathIds ? { prefix, pathId: 0x10000 + i } : { prefix })
  }
  return out
}

function v6hosts(n: number): Nlri[] {
  const out: Nlri[] = []
  for (let i = 0; i < n; i++) out.push({ prefix: { afi: 2, addr: `2001:db8::${(i + 1).toString(16)}`, len: 128 }, pathId: i })
  return out
}

/** fast deep comparison for long NLRI lists (tap's strictSame is slow on 100k objects) */
function sameNlri(a: Nlri[], b: Nlri[]): string {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x.prefix.afi !== y.prefix.afi || x.prefix.addr !== y.prefix.addr || x.prefix.len !== y.prefix.len || x.pathId !== y.pathId || ('pathId' in x) !== ('pathId' in y)) {
      return `at ${i}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`
    }
  }
  return 'same'
}

function decodeAll(msgs: Uint8Array[], ctx: CodecContext): UpdateMessage[] {
  return msgs.map((m) => {
    const r = decodeDetailed(m, ctx)
    if (r.errors.length) throw new Error(r.errors[0]!.message)
    return r.msg as UpdateMessage
  })
}

t.test('100,000 IPv4 /32 with ADD-PATH: packed, complete, in order', async (t) => {
  const ctx: CodecContext = { ...base, addPathTx: new Set(['ipv4-unicast']), addPathRx: new Set(['ipv4-unicast']) }
  const nlri = v4hosts(100000, true)
  const msgs = encodeUpdates(attrs, nlri, ctx)
  // 23 fixed + 25 attribute octets; 9 octets per NLRI
  const perMsg = Math.floor((4096 - 23 - 25) / 9)
  t.equal(msgs.length, Math.ceil(100000 / perMsg), 'as few messages as fit')
  t.ok(msgs.every((m) => m.length <= 4096))
  const got = decodeAll(msgs, ctx)
  t.strictSame(got[0]!.attrs, attrs, 'attributes in every message')
  t.equal(sameNlri(got.flatMap((u) => u.nlri), nlri), 'same', 'every NLRI, in order')
  const joined = joinMessages(msgs)
  t.equal(joined.length, msgs.reduce((a, m) => a + m.length, 0))
  t.equal(splitMessages(joined).messages.length, msgs.length)
  // withdrawals
  const w = encodeWithdrawals(nlri, ctx)
  t.equal(w.length, Math.ceil(100000 / Math.floor((4096 - 23) / 9)))
  t.equal(sameNlri(decodeAll(w, ctx).flatMap((u) => u.withdrawn), nlri), 'same')
})

t.test('IPv6 in MP_REACH_NLRI, with extended messages', async (t) => {
  const ctx: CodecContext = { ...base, as4: true, addPathTx: new Set(['ipv6-unicast']), addPathRx: new Set(['ipv6-unicast']), maxMessageLength: 65535 }
  const nlri = v6hosts(20000)
  const a6: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [4200000001] }], localPref: 100, mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1', nlri: [] } }
  const msgs = encodeUpdates(a6, nlri, ctx)
  t.ok(msgs.length < 20000 * 21 / 60000 + 2, `few messages (${msgs.length})`)
  t.ok(msgs.every((m) => m.length <= 65535))
  const got = decodeAll(msgs, ctx)
  t.equal(sameNlri(got.flatMap((u) => u.attrs.mpReach!.nlri), nlri), 'same')
  t.strictSame({ ...got[0]!.attrs, mpReach: { ...got[0]!.attrs.mpReach!, nlri: [] } }, a6)
  t.equal(msgs[0]![23], 0x90, 'MP_REACH_NLRI first, with Extended Length')
  const w = encodeWithdrawals(nlri, ctx)
  t.equal(sameNlri(decodeAll(w, ctx).flatMap((u) => u.attrs.mpUnreach!.withdrawn), nlri), 'same')
})

t.test('a small set equals the general encoder', async (t) => {
  const nlri = v4hosts(3)
  const [one] = encodeUpdates(attrs, nlri, base)
  t.strictSame(one, encode({ type: 'update', withdrawn: [], attrs, nlri }, base))
  const a6: PathAttributes = { origin: 0, asPath: [], mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::1', nlri: [] } }
  const n6 = v6hosts(2).map((n) => ({ prefix: n.prefix }))
  const [six] = encodeUpdates(a6, n6, base)
  t.strictSame(six, encode({ type: 'update', withdrawn: [], attrs: { ...a6, mpReach: { ...a6.mpReach!, nlri: n6 } }, nlri: [] }, base))
  const [w6] = encodeWithdrawals(n6, base)
  t.strictSame(w6, encode({ type: 'update', withdrawn: [], attrs: { mpUnreach: { afi: 2, safi: 1, withdrawn: n6 } }, nlri: [] }, base))
  t.strictSame(encodeUpdates(attrs, [], base), [])
})

t.test('message boundaries hold for every prefix length mix', async (t) => {
  let checked = 0
  for (const max of [4096, 200, 64]) {
    const ctx = { ...base, maxMessageLength: max }
    const nlri: Nlri[] = []
    for (let i = 0; i < 500; i++) nlri.push({ prefix: { afi: 1, addr: '0.0.0.0', len: (i * 7) % 33 } })
    const msgs = encodeUpdates({ origin: 0, asPath: [], nextHop: '192.0.2.1' }, nlri, ctx)
    t.ok(msgs.every((m) => m.length <= max), `max ${max}`)
    t.strictSame(msgs.flatMap((m) => (decode(m, ctx) as UpdateMessage).nlri), nlri)
    checked++
  }
  t.equal(checked, 3)
})

t.test('bad input is refused', async (t) => {
  t.throws(() => encodeUpdates({ origin: 0, asPath: [] }, v4hosts(1), base), /nextHop/)
  t.throws(() => encodeUpdates({ origin: 0, asPath: [] }, v6hosts(1), base), /mpReach/)
  t.throws(() => encodeUpdates(attrs, [{ prefix: { afi: 1, addr: '198.51.100.300', len: 32 } }], base), /not an IPv4 address/)
  t.throws(() => encodeUpdates(attrs, [{ prefix: { afi: 1, addr: '198.51.100.0', len: 33 } }], base))
})

t.test('host routes as their address text (OutNlri): the same bytes as their Nlri', async (t) => {
  const a6: PathAttributes = { origin: 0, asPath: [], mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::1', nlri: [] } }
  const v4 = v4hosts(3000)
  const v6 = v6hosts(1000).map((n) => ({ prefix: n.prefix }))
  let compared = 0
  for (const addPath of [false, true]) {
    const ctx: CodecContext = { ...base, addPathTx: addPath ? new Set(['ipv4-unicast', 'ipv6-unicast']) : new Set() }
    for (const [list, a] of [[v4, attrs], [v6, a6]] as const) {
      const text = list.map((n) => n.prefix.addr)
      // with ADD-PATH, the text form is path id 0
      const objs = addPath ? list.map((n) => ({ ...n, pathId: 0 })) : list
      const same = (x: Uint8Array[], y: Uint8Array[]) => Buffer.compare(joinMessages(x), joinMessages(y)) === 0 && x.length === y.length
      t.ok(same(encodeUpdates(a, text, ctx), encodeUpdates(a, objs, ctx)), `announce, ${list[0]!.prefix.afi === 1 ? 'IPv4' : 'IPv6'}, ADD-PATH ${addPath}`)
      t.ok(same(encodeWithdrawals(text, ctx), encodeWithdrawals(objs, ctx)), `withdraw, ${list[0]!.prefix.afi === 1 ? 'IPv4' : 'IPv6'}, ADD-PATH ${addPath}`)
      // both forms in one list
      const mixed = list.map((n, i) => (i % 2 ? n.prefix.addr : objs[i]!))
      t.ok(same(encodeWithdrawals(mixed, ctx), encodeWithdrawals(objs, ctx)), 'mixed forms')
      compared++
    }
  }
  t.equal(compared, 4)
  t.equal(encodeWithdrawals(['198.51.100.7'], base)[0]!.length, 23 + 5, 'a /32 withdrawal: 5 octets')
  t.strictSame((decode(encodeWithdrawals(['2001:db8::7'], base)[0]!, base) as UpdateMessage).attrs.mpUnreach?.withdrawn, [{ prefix: { afi: 2, addr: '2001:db8::7', len: 128 } }])
  t.throws(() => encodeWithdrawals(['198.51.100.300'], base), /not an IPv4 address/)
  t.throws(() => encodeWithdrawals(['198.51.100.1', '2001:db8::1'], base), /not an IPv4 address/, 'another family in the list')
  t.throws(() => encodeUpdates(a6, ['2001:db8::1', '198.51.100.1'], base), /not an IPv6 address/)
})
