// PURE nf_tables netlink codec for READING Porter's state (writes go through `nft -j -f`):
// dump requests for sets, set elements, chains and rules, and decoders of the replies.
// Netlink headers and attribute headers are host order; nf_tables integer values are big endian.
import { endianness } from 'node:os'
import { bytesToIp } from '../ip/index.ts'
import { walkAttrs, type NlHeader } from '../netlink/index.ts'

const LE = endianness() === 'LE'
const NFNL_SUBSYS_NFTABLES = 10
export const NFT_MSG_NEWTABLE = 0
export const NFT_MSG_GETTABLE = 1
export const NFT_MSG_NEWCHAIN = 3
export const NFT_MSG_GETCHAIN = 4
export const NFT_MSG_NEWRULE = 6
export const NFT_MSG_GETRULE = 7
export const NFT_MSG_NEWSET = 9
export const NFT_MSG_GETSET = 10
export const NFT_MSG_NEWSETELEM = 12
export const NFT_MSG_GETSETELEM = 13

const NLM_F_REQUEST = 0x1
const NLM_F_DUMP = 0x300

export const NFPROTO: Record<string, number> = { inet: 1, ip: 2, arp: 3, netdev: 5, bridge: 7, ip6: 10 }
const HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting']

/** nft's datatype ids (src/datatype.h) for set keys. */
const TYPE_IPADDR = 7
const TYPE_IP6ADDR = 8

function w16(b: Buffer, v: number, o: number): void { if (LE) b.writeUInt16LE(v, o); else b.writeUInt16BE(v, o) }
function w32(b: Buffer, v: number, o: number): void { if (LE) b.writeUInt32LE(v >>> 0, o); else b.writeUInt32BE(v >>> 0, o) }

const align4 = (n: number): number => (n + 3) & ~3

/** A dump request: nlmsghdr + nfgenmsg + string attributes. */
export function encodeDump(msg: number, family: string, strAttrs: readonly [number, string][], seq: number): Buffer {
  const attrs = strAttrs.map(([t, v]) => [t, Buffer.from(`${v}\0`)] as const)
  const len = 16 + 4 + attrs.reduce((n, [, d]) => n + align4(4 + d.length), 0)
  const b = Buffer.alloc(len)
  w32(b, len, 0)
  w16(b, (NFNL_SUBSYS_NFTABLES << 8) | msg, 4)
  w16(b, NLM_F_REQUEST | NLM_F_DUMP, 6)
  w32(b, seq, 8)
  b[16] = NFPROTO[family] ?? 0
  b[17] = 0 // NFNETLINK_V0
  let o = 20
  for (const [t, d] of attrs) {
    w16(b, 4 + d.length, o)
    w16(b, t, o + 2)
    d.copy(b, o + 4)
    o += align4(4 + d.length)
  }
  return b
}

/** Attributes in [start, end): map type -> [offset, length] of the payload (last one wins). */
function attrs(b: Buffer, start: number, end: number): Map<number, [number, number]> {
  const m = new Map<number, [number, number]>()
  walkAttrs(b, start, end, (type, off, len) => { m.set(type, [off, len]) })
  return m
}

/** Every attribute of one type in [start, end) (lists of NFTA_LIST_ELEM). */
function attrList(b: Buffer, start: number, end: number, type: number): [number, number][] {
  const out: [number, number][] = []
  walkAttrs(b, start, end, (t, off, len) => { if (t === type) out.push([off, len]) })
  return out
}

const str = (b: Buffer, a: [number, number] | undefined): string | undefined =>
  a === undefined ? undefined : b.toString('utf8', a[0], a[1] > 0 && b[a[0] + a[1] - 1] === 0 ? a[0] + a[1] - 1 : a[0] + a[1])
const be32 = (b: Buffer, a: [number, number] | undefined): number | undefined => (a === undefined || a[1] < 4 ? undefined : b.readUInt32BE(a[0]))
const bes32 = (b: Buffer, a: [number, number] | undefined): number | undefined => (a === undefined || a[1] < 4 ? undefined : b.readInt32BE(a[0]))

const payload = (h: NlHeader): [number, number] => [h.off + 20, h.off + h.len]
const familyName = (b: Buffer, h: NlHeader): string => Object.keys(NFPROTO).find((k) => NFPROTO[k] === b[h.off + 16]) ?? String(b[h.off + 16])

export interface NfSet { family: string; table: string; name: string; keyType: number; keyLen: number; anonymous: boolean }

export function decodeSet(b: Buffer, h: NlHeader): NfSet | undefined {
  const [s, e] = payload(h)
  const a = attrs(b, s, e)
  const table = str(b, a.get(1))
  const name = str(b, a.get(2))
  if (table === undefined || name === undefined) return undefined
  return { family: familyName(b, h), table, name, keyType: be32(b, a.get(4)) ?? 0, keyLen: be32(b, a.get(5)) ?? 0, anonymous: ((be32(b, a.get(3)) ?? 0) & 0x1) !== 0 }
}

/** nft type name of a set key ("ipv4_addr"), or "type N/len L" for anything else. */
export function setTypeName(s: NfSet): string {
  if (s.keyType === TYPE_IPADDR && s.keyLen === 4) return 'ipv4_addr'
  if (s.keyType === TYPE_IP6ADDR && s.keyLen === 16) return 'ipv6_addr'
  return `type ${s.keyType}/len ${s.keyLen}`
}

/** The first attribute of `type` in [start, end): [offset, length] of its payload. */
function find(b: Buffer, start: number, end: number, type: number): [number, number] | undefined {
  let found: [number, number] | undefined
  walkAttrs(b, start, end, (t, off, len) => { if (found === undefined && t === type) found = [off, len] })
  return found
}

/** Elements of one NEWSETELEM message: the keys as canonical IP text when 4 or 16 bytes, else hex. */
export function decodeSetElems(b: Buffer, h: NlHeader): string[] {
  const [s, e] = payload(h)
  const list = find(b, s, e, 3) // NFTA_SET_ELEM_LIST_ELEMENTS
  if (!list) return []
  const out: string[] = []
  for (const [eo, el] of attrList(b, list[0], list[0] + list[1], 1)) { // NFTA_LIST_ELEM, nested
    const ee = eo + el
    const flags = find(b, eo, ee, 3) // NFTA_SET_ELEM_FLAGS
    if (flags && flags[1] >= 4 && (b.readUInt32BE(flags[0]) & 0x1)) continue // NFT_SET_ELEM_INTERVAL_END
    const key = find(b, eo, ee, 1) // NFTA_SET_ELEM_KEY
    if (!key) continue
    const v = find(b, key[0], key[0] + key[1], 1) // NFTA_DATA_VALUE
    if (!v) continue
    const at = v[0]
    if (v[1] === 4) out.push(`${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`)
    else if (v[1] === 16) out.push(bytesToIp(b.subarray(at, at + 16)))
    else out.push(b.toString('hex', at, at + v[1]))
  }
  return out
}

export interface NfChain { family: string; table: string; name: string; hook?: string; prio?: number; policy?: string; type?: string }

export function decodeChain(b: Buffer, h: NlHeader): NfChain | undefined {
  const [s, e] = payload(h)
  const a = attrs(b, s, e)
  const table = str(b, a.get(1))
  const name = str(b, a.get(3))
  if (table === undefined || name === undefined) return undefined
  const c: NfChain = { family: familyName(b, h), table, name }
  const hook = a.get(4)
  if (hook) {
    const ha = attrs(b, hook[0], hook[0] + hook[1])
    const num = be32(b, ha.get(1))
    if (num !== undefined) c.hook = HOOKS[num] ?? String(num)
    const prio = bes32(b, ha.get(2))
    if (prio !== undefined) c.prio = prio
  }
  const policy = be32(b, a.get(5))
  if (policy !== undefined) c.policy = policy === 1 ? 'accept' : policy === 0 ? 'drop' : String(policy)
  const type = str(b, a.get(7))
  if (type !== undefined) c.type = type
  return c
}

export interface NfRule {
  family: string
  table: string
  chain: string
  handle: number
  comment?: string
  /** the set a "lookup" expression refers to */
  lookupSet?: string
  /** the value bytes a "cmp" expression compares with (one-element sets compile to this) */
  cmpValues: Buffer[]
}

function ruleComment(b: Buffer, a: [number, number] | undefined): string | undefined {
  if (!a) return undefined
  // userdata TLVs: u8 type, u8 len, value; NFTNL_UDATA_RULE_COMMENT = 0
  let o = a[0]
  const end = a[0] + a[1]
  while (o + 2 <= end) {
    const t = b[o]!
    const l = b[o + 1]!
    if (o + 2 + l > end) break
    if (t === 0) return b.toString('utf8', o + 2, l > 0 && b[o + 2 + l - 1] === 0 ? o + 2 + l - 1 : o + 2 + l)
    o += 2 + l
  }
  return undefined
}

export function decodeRule(b: Buffer, h: NlHeader): NfRule | undefined {
  const [s, e] = payload(h)
  const a = attrs(b, s, e)
  const table = str(b, a.get(1))
  const chain = str(b, a.get(2))
  const handle = a.get(3)
  if (table === undefined || chain === undefined || !handle || handle[1] < 8) return undefined
  const r: NfRule = { family: familyName(b, h), table, chain, handle: Number(b.readBigUInt64BE(handle[0])), cmpValues: [] }
  const comment = ruleComment(b, a.get(7))
  if (comment !== undefined) r.comment = comment
  const exprs = a.get(4)
  if (exprs) {
    for (const [xo, xl] of attrList(b, exprs[0], exprs[0] + exprs[1], 1)) {
      const xa = attrs(b, xo, xo + xl)
      const name = str(b, xa.get(1))
      const data = xa.get(2)
      if (!data) continue
      const da = attrs(b, data[0], data[0] + data[1])
      if (name === 'lookup') {
        const set = str(b, da.get(1)) // NFTA_LOOKUP_SET
        if (set !== undefined) r.lookupSet = set
      } else if (name === 'cmp') {
        const d = da.get(3) // NFTA_CMP_DATA
        const v = d ? attrs(b, d[0], d[0] + d[1]).get(1) : undefined
        if (v) r.cmpValues.push(Buffer.from(b.subarray(v[0], v[0] + v[1])))
      }
    }
  }
  return r
}
