// Export attributes -> wire PathAttributes, and ADD-PATH path ids.
import t from 'tap'
import { parseAddress, type ParsedAddress } from '../../ip/index.ts'
import { buildAsPath, buildPathAttributes, mergeExportAttrs, resolveExportAttrs } from './attrs.ts'
import { assignPathIds, fnv1a32, pathIdFor } from './pathid.ts'

t.test('eBGP attributes for IPv4', async (t) => {
  const r = resolveExportAttrs({ communities: ['65000:200', 'no-export', '65000:100', '65000:200'], largeCommunities: ['65000:2:1', '65000:1:9', '65000:1:9'], med: 50, localPref: 300, asPathPrepend: 2 }, false)
  const attrs = buildPathAttributes(r, 65001, false, 'ipv4-unicast', { address: '192.0.2.1' })
  t.same(attrs, {
    origin: 0,
    asPath: [{ type: 2, asns: [65001, 65001, 65001] }],
    nextHop: '192.0.2.1',
    med: 50,
    communities: [0xfde80064, 0xfde800c8, 0xffffff01],
    largeCommunities: [{ global: 65000, local1: 1, local2: 9 }, { global: 65000, local1: 2, local2: 1 }],
  }, 'sorted, de-duplicated, no LOCAL_PREF on eBGP')
  t.ok(Object.isFrozen(attrs), 'shared object is frozen')
})

t.test('iBGP attributes for IPv6: LOCAL_PREF defaults to 100, AS_PATH empty, MP_REACH next hop', async (t) => {
  const r = resolveExportAttrs({ origin: 'incomplete' }, true)
  const attrs = buildPathAttributes(r, 65001, true, 'ipv6-unicast', { address: '2001:db8::1', linkLocal: 'fe80::1' })
  t.same(attrs, {
    origin: 2,
    asPath: [],
    mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1', nlri: [] },
    localPref: 100,
  })
  t.equal(resolveExportAttrs({ localPref: 250, asPathPrepend: 1 }, true).localPref, 250)
  t.same(buildAsPath(65001, true, 2), [{ type: 2, asns: [65001, 65001] }], 'iBGP prepends only the extra copies')
})

t.test('AS_PATH longer than 255 ASNs is split into segments', async (t) => {
  const segs = buildAsPath(4200000001, false, 255)
  t.same(segs.map((s) => s.asns.length), [255, 1])
  t.ok(segs.every((s) => s.type === 2 && s.asns.every((a) => a === 4200000001)))
})

t.test('merge: community lists united, VIP scalars win', async (t) => {
  const m = mergeExportAttrs({ communities: ['65000:1'], med: 10, localPref: 200 }, { communities: ['65000:2'], med: 20, largeCommunities: ['1:2:3'] })
  t.same(m, { communities: ['65000:1', '65000:2'], med: 20, localPref: 200, largeCommunities: ['1:2:3'] })
  t.same(mergeExportAttrs(undefined, { med: 1 }), { med: 1 })
  t.same(mergeExportAttrs({ med: 1 }, undefined), { med: 1 })
  t.same(mergeExportAttrs({ med: 1 }, { med: undefined }), { med: 1 }, 'an explicit undefined does not erase the peer value')
})

t.test('resolved key: equal wire attributes <=> equal keys', async (t) => {
  const a = resolveExportAttrs({ communities: ['no-export', '65000:1'] }, false)
  const b = resolveExportAttrs({ communities: ['65000:1', '65535:65281'] }, false)
  t.equal(a.key, b.key, 'a well-known name and its number are the same community')
  t.not(a.key, resolveExportAttrs({ communities: ['65000:1'] }, false).key)
  t.equal(resolveExportAttrs({ localPref: 5 }, false).key, resolveExportAttrs({}, false).key, 'LOCAL_PREF does not split eBGP groups')
})

t.test('invalid attributes name the value', async (t) => {
  const bad: [object, RegExp][] = [
    [{ med: -1 }, /med "-1"/],
    [{ med: 2 ** 32 }, /med "4294967296"/],
    [{ localPref: 1.5 }, /localPref "1.5"/],
    [{ asPathPrepend: 256 }, /asPathPrepend "256"/],
    [{ origin: 'bgp' }, /origin "bgp"/],
    [{ communities: ['65000:70000'] }, /community "65000:70000"/],
    [{ largeCommunities: ['1:2'] }, /large community "1:2"/],
  ]
  for (const [a, re] of bad) t.throws(() => resolveExportAttrs(a, true), { code: 'PORTER_ERR_CONFIG_INVALID', message: re }, JSON.stringify(a))
})

t.test('FNV-1a 32 reference values', async (t) => {
  const enc = (s: string) => new TextEncoder().encode(s)
  t.equal(fnv1a32(new Uint8Array(0)), 0x811c9dc5)
  t.equal(fnv1a32(enc('a')), 0xe40c292c)
  t.equal(fnv1a32(enc('foobar')), 0xbf9cf968)
})

const addr = (s: string): ParsedAddress => {
  const a = parseAddress(s)
  if (!a) throw new Error(`bad test address ${s}`)
  return a
}

/** An IPv6 address under 2001:db8:: whose FNV-1a hash is `target` (meet in the middle over the last 4 octets). */
function addressWithHash(target: number): ParsedAddress {
  const P = 0x01000193
  const PINV = 0x359c449b // P * PINV = 1 mod 2^32
  for (let tries = 0; tries < 64; tries++) {
    const head = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, tries, 0, 0, 0, 0)
    let h = 0x811c9dc5
    for (let i = 0; i < 12; i++) h = Math.imul(h ^ (head[i] as number), P) >>> 0
    const fwd = new Map<number, number>()
    for (let x = 0; x < 65536; x++) fwd.set(Math.imul(Math.imul(h ^ (x >> 8), P) ^ (x & 255), P) >>> 0, x)
    for (let y = 0; y < 65536; y++) {
      const h15 = (Math.imul(target, PINV) ^ (y & 255)) >>> 0
      const h14 = (Math.imul(h15, PINV) ^ (y >> 8)) >>> 0
      const x = fwd.get(h14)
      if (x === undefined) continue
      head.set([x >> 8, x & 255, y >> 8, y & 255], 12)
      const groups: string[] = []
      for (let i = 0; i < 16; i += 2) groups.push((((head[i] as number) << 8) | (head[i + 1] as number)).toString(16))
      return addr(groups.join(':'))
    }
  }
  throw new Error('no preimage found')
}

t.test('path ids: stable hash of the next hop, collisions resolved deterministically', async (t) => {
  const a = addr('192.0.2.1')
  t.equal(pathIdFor(a), fnv1a32(Uint8Array.of(192, 0, 2, 1)))
  t.same(assignPathIds([a]), [pathIdFor(a)])
  t.equal(pathIdFor(addr('2001:db8::1')), pathIdFor(addr('2001:0db8:0:0::1')), 'same address, any spelling, same id')

  // two real addresses with the same FNV-1a hash (found by search, kept as a named case)
  const lo = addr('2001:db8:50a4:4d12:1d69:da08:4f51:4228')
  const hi = addr('2001:db8:4b24:de09:99a1:d0e1:162a:3525')
  t.equal(pathIdFor(lo), pathIdFor(hi), 'the pair collides')
  t.equal(pathIdFor(lo), 1660284078)
  const [x, y] = [hi, lo].sort((p, q) => (p.key < q.key ? -1 : 1)) as [ParsedAddress, ParsedAddress]
  t.same(assignPathIds([x, y]), [1660284078, 1660284079], 'lower address keeps the hash, the other takes the next id')

  // a third next hop whose own hash is that next id keeps it; the collided one moves further
  const z = addressWithHash(1660284079)
  t.equal(pathIdFor(z), 1660284079, 'preimage found')
  const hops = [x, y, z].sort((p, q) => (p.key < q.key ? -1 : 1))
  const ids = assignPathIds(hops)
  t.equal(ids[hops.indexOf(z)], 1660284079, 'a hop without a collision never moves')
  t.equal(ids[hops.indexOf(x)], 1660284078)
  t.equal(ids[hops.indexOf(y)], 1660284080)
  t.equal(new Set(ids).size, 3, 'unique')

  // 0 is never used: a hop whose hash is 0 gets 1
  const zero = addressWithHash(0)
  t.equal(fnv1a32(zero.bytes), 0)
  t.same(assignPathIds([zero]), [1])
})
