// The BGP message decoder fuzz: seeds (the golden vectors captured from BIRD, FRR and GoBGP),
// mutations of them, the oracle (decode the way a session does: frame, then decode each
// message; anything thrown must be a BgpWireError that makes a proper NOTIFICATION), and the
// regression corpus file format (corpus/*.hex, see README.md).
import fc from 'fast-check'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  BgpWireError, FrameReader, decode, decodeDetailed, defaultContext, encode, receiveLimit,
  type CodecContext, type FamilyKey,
} from '../../internal/bgp/wire/index.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
export const GOLDEN_DIR = join(HERE, '..', 'golden')
export const CORPUS_DIR = join(HERE, 'corpus')

/** A codec context as JSON (the golden vectors' `ctx`, a corpus file's `# ctx:` line). */
export interface CtxJson { as4: boolean; addPathRx: FamilyKey[]; addPathTx?: FamilyKey[]; maxMessageLength: number; ibgp?: boolean }

export function ctxFromJson(j: CtxJson): CodecContext {
  const c: CodecContext = { as4: j.as4, addPathRx: new Set(j.addPathRx), addPathTx: new Set(j.addPathTx ?? []), maxMessageLength: j.maxMessageLength }
  if (j.ibgp !== undefined) c.ibgp = j.ibgp
  return c
}

export function ctxToJson(c: CodecContext): CtxJson {
  const j: CtxJson = { as4: c.as4, addPathRx: [...c.addPathRx].sort(), maxMessageLength: c.maxMessageLength }
  if (c.ibgp !== undefined) j.ibgp = c.ibgp
  return j
}

export interface Seed { name: string; bytes: Uint8Array; ctx: CtxJson }

export const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'))
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** Every golden vector (test/golden/<sender>/*.json): the bytes a real router sent and the context they were sent in. */
export function goldenSeeds(): Seed[] {
  const out: Seed[] = []
  for (const sender of readdirSync(GOLDEN_DIR, { withFileTypes: true })) {
    if (!sender.isDirectory() || sender.name === 'lib') continue
    for (const f of readdirSync(join(GOLDEN_DIR, sender.name)).filter((x) => x.endsWith('.json')).sort()) {
      const v = JSON.parse(readFileSync(join(GOLDEN_DIR, sender.name, f), 'utf8')) as { hex: string; ctx: CtxJson }
      out.push({ name: `${sender.name}/${f}`, bytes: fromHex(v.hex), ctx: v.ctx })
    }
  }
  return out
}

// ---- the oracle ----

/** What a session makes of some bytes: one entry per framed message, then 'incomplete' when bytes are left. */
export type Outcome = string

const ACTIONS = new Set(['attribute-discard', 'treat-as-withdraw', 'afisafi-disable', 'session-reset'])

/** Throws unless `e` is a BgpWireError whose NOTIFICATION (RFC 4271 4.5) encodes and decodes back. */
function assertProperNotification(e: unknown): BgpWireError {
  if (!(e instanceof BgpWireError)) throw new Error(`decoding threw something else than a BgpWireError: ${(e as Error)?.stack ?? String(e)}`)
  const bad = (why: string) => new Error(`improper BgpWireError (${why}): ${e.message} [${e.bgpCode}/${e.subcode}]`)
  if (!Number.isInteger(e.bgpCode) || e.bgpCode < 1 || e.bgpCode > 7) throw bad('error code not 1-7')
  if (!Number.isInteger(e.subcode) || e.subcode < 0 || e.subcode > 255) throw bad('subcode not 0-255')
  if (!(e.data instanceof Uint8Array)) throw bad('data is not bytes')
  if (!ACTIONS.has(e.action)) throw bad(`action ${String(e.action)}`)
  if (!e.message) throw bad('no message')
  const n = e.toNotification()
  const back = decode(encode(n, defaultContext()), defaultContext())
  if (back.type !== 'notification' || back.code !== e.bgpCode || back.subcode !== e.subcode || toHex(back.data) !== toHex(e.data)) throw bad('the NOTIFICATION does not survive encoding')
  return e
}

/**
 * Frame `bytes` as a session's reader does (header checks at the receive limit) and decode each
 * message. Returns the outcomes (`update`, `keepalive`, `error 3/1` (the NOTIFICATION the session sends), ...); throws on anything that is
 * not a proper NOTIFICATION error, or when a decoded message cannot be encoded again.
 */
export function decodeOutcome(bytes: Uint8Array, ctx: CodecContext): Outcome[] {
  const out: Outcome[] = []
  const r = new FrameReader()
  r.push(bytes)
  for (;;) {
    let m: Uint8Array | null
    try {
      m = r.next(receiveLimit(ctx))
    } catch (e) {
      const w = assertProperNotification(e)
      out.push(`error ${w.bgpCode}/${w.subcode}`)
      return out
    }
    if (m === null) {
      if (r.buffered > 0) out.push('incomplete')
      return out
    }
    try {
      const d = decodeDetailed(m, ctx)
      encode(d.msg, ctx)
      out.push(d.action === 'none' ? d.msg.type : `${d.msg.type} ${d.action}`)
    } catch (e) {
      const w = assertProperNotification(e)
      out.push(`error ${w.bgpCode}/${w.subcode}`)
      return out // the session ends with the first error
    }
  }
}

// ---- mutations of the seeds ----

type Mutation =
  | { op: 'set'; pos: number; val: number }
  | { op: 'insert'; pos: number; bytes: Uint8Array }
  | { op: 'delete'; pos: number; len: number }
  | { op: 'truncate'; len: number }
  | { op: 'duplicate'; pos: number; len: number }
  | { op: 'splice'; other: number; from: number; len: number; pos: number }
  | { op: 'u16'; pos: number; val: number }

export interface MutatedInput { seed: string; bytes: Uint8Array; ctx: CtxJson }

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), pos: fc.nat(), val: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 0x7f, 0x80, 0xff)) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), len: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 24 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), other: fc.nat(), from: fc.nat(), len: fc.integer({ min: 1, max: 32 }), pos: fc.nat() }) },
  // length fields (withdrawn / attribute / path-attribute / optional-parameter lengths) are two octets
  { weight: 2, arbitrary: fc.record({ op: fc.constant('u16' as const), pos: fc.nat(), val: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffff })) }) },
)

function apply(b: Uint8Array, m: Mutation, seeds: readonly Seed[]): Uint8Array {
  const n = b.length
  // mutations land after the marker: a broken marker is one easy case, the body parsers are the point
  const at = (p: number) => (n > 16 ? 16 + (p % (n - 16)) : p % Math.max(1, n))
  switch (m.op) {
    case 'set': { const c = b.slice(); if (n) c[at(m.pos)] = m.val; return c }
    case 'u16': { const c = b.slice(); if (n > 1) { const p = Math.min(at(m.pos), n - 2); c[p] = m.val >>> 8; c[p + 1] = m.val & 255 } return c }
    case 'insert': { const p = at(m.pos); return Uint8Array.from([...b.subarray(0, p), ...m.bytes, ...b.subarray(p)]) }
    case 'delete': { const p = at(m.pos); return Uint8Array.from([...b.subarray(0, p), ...b.subarray(p + m.len)]) }
    case 'truncate': return b.slice(0, m.len % (n + 1))
    case 'duplicate': { const p = at(m.pos); return Uint8Array.from([...b.subarray(0, p + m.len), ...b.subarray(p)]) }
    case 'splice': {
      const o = seeds[m.other % seeds.length]!.bytes
      const from = 19 + (m.from % Math.max(1, o.length - 19))
      const p = at(m.pos)
      return Uint8Array.from([...b.subarray(0, p), ...o.subarray(from, from + m.len), ...b.subarray(p)])
    }
  }
}

/** A golden vector with 1-5 mutations, the header length fixed or not, in its own context or a varied one. */
export function mutatedSeedArb(seeds: readonly Seed[]): fc.Arbitrary<MutatedInput> {
  return fc.record({
    i: fc.nat(seeds.length - 1),
    muts: fc.array(mutationArb, { minLength: 1, maxLength: 5 }),
    fixLength: fc.boolean(),
    ctx: fc.constantFrom('own', 'own', 'own', 'flip-as4', 'no-add-path', 'all-add-path', 'extended'),
  }).map(({ i, muts, fixLength, ctx }) => {
    const s = seeds[i]!
    let b = s.bytes
    for (const m of muts) b = apply(b, m, seeds)
    if (fixLength && b.length >= 19 && b.length <= 0xffff) {
      b = b.slice()
      b[16] = b.length >>> 8
      b[17] = b.length & 255
    }
    const c: CtxJson = { ...s.ctx }
    if (ctx === 'flip-as4') c.as4 = !c.as4
    if (ctx === 'no-add-path') c.addPathRx = []
    if (ctx === 'all-add-path') c.addPathRx = ['ipv4-unicast', 'ipv6-unicast']
    if (ctx === 'extended') c.maxMessageLength = 65535
    return { seed: s.name, bytes: b, ctx: c }
  })
}

// ---- the corpus ----

export interface CorpusEntry {
  file: string
  /** the `#` lines (why the input is here) */
  comments: string[]
  ctx: CtxJson
  bytes: Uint8Array
  /** `# expect:` pinned outcomes, when the file has them */
  expect?: Outcome[]
}

/**
 * A corpus file: `#` comment lines, `# ctx: <json>` (default: 4-octet AS, no ADD-PATH, 4096),
 * optional `# expect: <outcome>; <outcome>`, then the input as hex (whitespace ignored).
 */
export function parseCorpusFile(file: string, text: string): CorpusEntry {
  const comments: string[] = []
  let ctx: CtxJson = { as4: true, addPathRx: [], maxMessageLength: 4096 }
  let expect: Outcome[] | undefined
  const hex: string[] = []
  text.split('\n').forEach((line, i) => {
    const l = line.trim()
    if (!l) return
    if (l.startsWith('#')) {
      const c = l.replace(/^#\s?/, '')
      if (c.startsWith('ctx:')) ctx = JSON.parse(c.slice(4)) as CtxJson
      else if (c.startsWith('expect:')) expect = c.slice(7).split(';').map((x) => x.trim()).filter(Boolean)
      else comments.push(c)
      return
    }
    if (!/^[0-9a-fA-F\s]+$/.test(l)) throw new Error(`${file}:${i + 1}: not hex: ${JSON.stringify(l.slice(0, 40))}`)
    hex.push(l)
  })
  const joined = hex.join('').replace(/\s+/g, '')
  if (joined.length % 2) throw new Error(`${file}: odd number of hex digits`)
  return { file, comments, ctx, bytes: fromHex(joined), ...(expect ? { expect } : {}) }
}

export function renderCorpusFile(e: Omit<CorpusEntry, 'file'>): string {
  const L = [...e.comments.map((c) => `# ${c}`), `# ctx: ${JSON.stringify(e.ctx)}`]
  if (e.expect) L.push(`# expect: ${e.expect.join('; ')}`)
  const h = toHex(e.bytes)
  for (let i = 0; i < h.length; i += 64) L.push(h.slice(i, i + 64))
  return L.join('\n') + '\n'
}

export function readCorpus(dir = CORPUS_DIR): CorpusEntry[] {
  let files: string[] = []
  try { files = readdirSync(dir).filter((f) => f.endsWith('.hex')).sort() } catch { /* no corpus: the test says so */ }
  return files.map((f) => parseCorpusFile(f, readFileSync(join(dir, f), 'utf8')))
}
