// One parse+validate step: YAML text -> frozen Config, or every error at once with
// "file:line:col: path: message". Pure except for `loadConfigFile`, which reads the file.
//
// Two parsers, one result. Positions cost: `yaml`'s parseDocument keeps a node with a range for
// every scalar, and on a 100k-VIP config that took ~2 s and ~200 MiB. So a config is first read
// by js-yaml (YAML 1.2 core schema, the schema `yaml` uses: same nulls, booleans, numbers), which
// keeps no positions, and validated; only when that parser refuses the text or the config is
// invalid does the full path parse again with `yaml` and positions, and report from there.
// Where the address-run cut was used (a long list, see cutAddressRuns), an invalid config is
// placed without that second parse: a run's items from the offsets the cut kept, the rest in
// `yaml`'s parse of the small cut text (cutLocator).
import { isAscii } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import { basename } from 'node:path'
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node as YamlNode } from 'yaml'
import { load as loadFast, CORE_SCHEMA } from 'js-yaml'
import { errnoOf } from '../base/index.ts'
import { PorterError } from '../errors/index.ts'
import { isIP } from '../ip/index.ts'
import { configSchema, type Config, type HealthCheckConfig } from './schema.ts'

export interface ConfigIssue {
  /** dotted path with [i] for sequences, e.g. "bgp.peers[1].address" */
  path: string
  message: string
  line?: number
  col?: number
}

export class ConfigError extends PorterError {
  readonly file: string
  readonly issues: ConfigIssue[]
  constructor(file: string, issues: ConfigIssue[]) {
    super('PORTER_ERR_CONFIG_INVALID', formatIssues(file, issues))
    this.name = 'ConfigError'
    this.file = file
    this.issues = issues
  }
}

export function formatIssue(file: string, i: ConfigIssue): string {
  const where = i.line !== undefined ? `${file}:${i.line}:${i.col ?? 1}` : file
  return i.path ? `${where}: ${i.path}: ${i.message}` : `${where}: ${i.message}`
}

export function formatIssues(file: string, issues: ConfigIssue[]): string {
  return issues.map((i) => formatIssue(file, i)).join('\n')
}

export function pathString(path: readonly PropertyKey[]): string {
  let s = ''
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`
    else s += s === '' ? String(p) : `.${String(p)}`
  }
  return s
}

/** Find the YAML node for a path; falls back to the nearest existing ancestor. */
function locate(doc: ReturnType<typeof parseDocument>, path: readonly PropertyKey[], lc: LineCounter, keyOnly = false) {
  const off = locateOffset(doc, path, keyOnly)
  return off === undefined ? undefined : placeAt(lc, off)
}

/** The 1-based line and column of a text offset, as issues carry them. */
function placeAt(lc: LineCounter, off: number): { line: number; col: number } {
  const p = lc.linePos(off)
  return { line: p.line, col: p.col }
}

/**
 * The offset in the text of the YAML node for a path (its key's with `keyOnly`), else of the
 * nearest existing ancestor. `stop(seq)`: a sequence the path must not go into (NO_PLACE).
 */
function locateOffset(doc: ReturnType<typeof parseDocument>, path: readonly PropertyKey[], keyOnly = false, stop?: (seq: YamlNode) => boolean): number | undefined {
  let node: unknown = doc.contents
  const posOf = (n: unknown) => (n as YamlNode | null)?.range?.[0]
  let best = posOf(node)
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg))
      if (!pair) break
      const keyPos = posOf(pair.key)
      node = pair.value
      best = (keyOnly ? keyPos : posOf(node) ?? keyPos) ?? best
    } else if (isSeq(node) && typeof seg === 'number') {
      if (stop?.(node)) throw NO_PLACE
      node = node.items[seg]
      best = posOf(node) ?? best
    } else break
  }
  return best
}

/**
 * Parse and validate config text. Throws ConfigError listing every problem; returns a deeply
 * frozen Config. `latin1`: the file's bytes when `text` was made from them one byte per character
 * (an ASCII file): the address runs' strings are then copied from them, not from a copy of the text.
 * `previous`: the config in force (a reload): an address written as in it is its string, not a new
 * one (see Reuse).
 */
export function parseConfig(text: string, file = 'porter.yaml', latin1?: Buffer, previous?: Config): Config {
  const cut: CutInfo = { places: new Map(), edits: [], reuse: previous === undefined ? undefined : new Reuse(previous) }
  const raw = parseFast(text, latin1, cut)
  if (raw !== undefined) {
    const res = configSchema.safeParse(raw)
    if (res.success && crossCheck(res.data, raw).length === 0) return deepFreeze(flatAddresses(res.data))
    // placed without a second parse of the whole text with positions (100k VIPs: 1.3 s and
    // 178 MiB peak): an item of an address run from the offsets the cut kept, anything else in
    // `yaml`'s parse of the text without its runs (cutLocator)
    const issues = collectIssues(raw, res, cutLocator(text, raw, cut))
    if (issues !== undefined) throw new ConfigError(file, sortIssues(issues))
  }
  return parseWithPositions(text, file)
}

/**
 * What cutAddressRuns did, for placing issues: where each run's lines are in the text (by the
 * run's list), and the text it read instead (`text`, set when parseFast used it) with the
 * replacements made (ascending): [origAt, origLen) of the text became [cutAt, cutLen) of the cut.
 */
interface CutInfo {
  places: Map<readonly string[], RunPlace>
  edits: { origAt: number; origLen: number; cutAt: number; cutLen: number }[]
  text?: string
  reuse?: Reuse
}

/**
 * The VIP addresses of the config in force, in order, for the address runs of a reload: the run's
 * next item is the next of these when the text has it there, written the same, and a new string
 * otherwise. A reload that changes a few VIPs of a 100k list then makes a few strings, not 100k
 * that all outlive the young generation (half a reload's read was collecting them). Items are
 * taken in step: a replaced address costs one string, an inserted or removed one the rest of
 * its list.
 */
class Reuse {
  /** the config in force's VIP addresses, its lists one after the other */
  readonly all: readonly string[]
  /** the next of them to offer */
  at = 0
  constructor(previous: Config) {
    const vips = previous.vips
    this.all = vips.length === 1 ? vips[0]!.address : vips.flatMap((v) => v.address)
  }
}

/**
 * Where a run's lines are in the text, for placing an issue in one of its items; the items'
 * offsets are found when an issue first needs them (runItemStarts), not while reading.
 */
interface RunPlace {
  start: number
  end: number
  indent: number
  starts?: Int32Array
}

/** The text offsets of a run's item tokens (the lines cutAddressRuns read). */
function runItemStarts(text: string, r: RunPlace): Int32Array {
  if (r.starts !== undefined) return r.starts
  const starts: number[] = []
  for (let pos = r.start; pos < r.end; ) {
    let from = pos + r.indent + 2
    while (text.charCodeAt(from) === 32) from++
    starts.push(from)
    const eol = text.indexOf('\n', pos)
    pos = eol < 0 ? r.end : eol + 1
  }
  r.starts = Int32Array.from(starts)
  return r.starts
}

type Locate = (path: readonly PropertyKey[], keyOnly?: boolean) => { line: number; col: number } | undefined

/**
 * Places in `text` without parsing it with positions. `vips[i].address[j]` of a list that is one
 * address run: from the item offsets the cut kept (not with an alias in the file: `yaml` places
 * an item read through an alias at the alias). Any other path: in `yaml`'s parse of the cut text
 * (the runs replaced by one line each, small), mapped back to the text; a path into a list with
 * a run has no place there. No place: undefined, and collectIssues leaves the file to the full path.
 */
function cutLocator(text: string, raw: Record<string, unknown>, cut: CutInfo): Locate {
  let lc: LineCounter | undefined
  let doc: ReturnType<typeof parseDocument> | undefined
  const aliases = text.includes('*')
  const hasRun = (seq: YamlNode) => isSeq(seq) && seq.items.some((x) => isScalar(x) && typeof x.value === 'string' && x.value.startsWith(RUN_TAG))
  const inRun = (path: readonly PropertyKey[]): number | undefined => {
    if (aliases || path.length !== 4 || path[0] !== 'vips' || path[2] !== 'address' || typeof path[1] !== 'number' || typeof path[3] !== 'number') return undefined
    const list = (raw.vips as { address?: unknown }[] | undefined)?.[path[1]]?.address
    const run = Array.isArray(list) ? cut.places.get(list) : undefined
    return run === undefined ? undefined : runItemStarts(text, run)[path[3]]
  }
  const inCut = (path: readonly PropertyKey[], keyOnly?: boolean): number | undefined => {
    if (cut.text === undefined) return undefined
    doc ??= parseDocument(cut.text, { prettyErrors: false, uniqueKeys: true })
    if (doc.errors.length) return undefined
    const at = locateOffset(doc, path, keyOnly, hasRun)
    return at === undefined ? undefined : uncut(cut, at)
  }
  return (path, keyOnly) => {
    const off = (keyOnly ? undefined : inRun(path)) ?? inCut(path, keyOnly)
    if (off === undefined) return undefined
    lc ??= lineCounterOf(text)
    return placeAt(lc, off)
  }
}

/** An offset in the cut text as an offset in the text (inside a run's line: from that run's start). */
function uncut(cut: CutInfo, at: number): number {
  let shift = 0
  for (const e of cut.edits) {
    if (at < e.cutAt) break
    if (at < e.cutAt + e.cutLen) return e.origAt + Math.min(at - e.cutAt, e.origLen)
    shift = e.origAt + e.origLen - (e.cutAt + e.cutLen)
  }
  return at + shift
}

/** `yaml`'s LineCounter of `text`, as its parser would fill it (the full path places with one). */
function lineCounterOf(text: string): LineCounter {
  const lc = new LineCounter()
  lc.addNewLine(0)
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lc.addNewLine(i + 1)
  return lc
}

/**
 * Every issue of an invalid config (schema, then the checks across fields), placed by `locate`.
 * Undefined when `must` and some issue has no place: the caller then asks the full path.
 */
function collectIssues(raw: unknown, res: ReturnType<typeof configSchema.safeParse>, locate: Locate, must = true): ConfigIssue[] | undefined {
  const issues: ConfigIssue[] = []
  const place = (path: readonly PropertyKey[], keyOnly?: boolean) => {
    const pos = locate(path, keyOnly)
    if (pos === undefined && must) throw NO_PLACE
    return pos
  }
  try {
    if (!res.success) {
      for (const iss of res.error.issues) {
        const path = iss.path
        let message = iss.message
        if (iss.code === 'unrecognized_keys') {
          for (const k of iss.keys ?? []) issues.push({ path: pathString([...path, k]), message: `unknown field ${JSON.stringify(k)}`, ...place([...path, k], true) })
          continue
        }
        if (valueAt(raw, path) === undefined) message = 'is required'
        issues.push({ path: pathString(path), message, ...place(path) })
      }
      return issues
    }
    for (const c of crossCheck(res.data, raw)) issues.push({ path: c.path, message: c.message, ...place(c.at) })
    return issues
  } catch (e) {
    if (e === NO_PLACE) return undefined
    throw e
  }
}

const NO_PLACE = Symbol('no place')

/**
 * The config as plain data, without positions, or undefined to leave it to the full path: when
 * js-yaml refuses the text (syntax, unknown tags, several documents, an empty file) or the top
 * level is not a mapping. `__proto__` keys go to the full path too: `yaml` makes them own
 * properties (and the schema reports them), a plain object assignment would not.
 */
export function parseFast(text: string, latin1?: Buffer, info?: CutInfo): Record<string, unknown> | undefined {
  if (text.includes('__proto__')) return undefined
  const cut = cutAddressRuns(text, latin1, info)
  if (cut !== undefined) {
    const v = loadPlain(cut.text)
    if (v !== undefined && spliceRuns(v, cut.runs)) {
      if (info !== undefined) info.text = cut.text
      return v
    }
  }
  return loadPlain(text)
}

function loadPlain(text: string): Record<string, unknown> | undefined {
  let v: unknown
  try {
    v = loadFast(text, { schema: CORE_SCHEMA, json: false })
  } catch {
    return undefined
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
}

/** fewer lines than this are left to js-yaml */
const RUN_MIN = 64
const RUN_TAG = '__porter_address_run_'
/**
 * A token taken as an address: only hex digits, '.', ':' and '/'; a ':' or two '.'; not ending in
 * ':' (see cutAddressRuns).
 */
const TOKEN = String.raw`(?=[0-9A-Fa-f./]*:|[0-9A-Fa-f:/]*\.[0-9A-Fa-f:/]*\.)[0-9A-Fa-f.:/]*[0-9A-Fa-f./]`
/**
 * The start of a run: RUN_MIN lines "<indent>- <token>", spaces around the token and nothing
 * else, the same indentation (the first line's, \1), lines split at '\n' only (the /m flag would
 * split at '\r' too); runEnd takes the rest. Regular expressions, not a loop over the text's
 * characters: V8 compiles them to machine code, and the daemon runs without the optimizing
 * compiler (cmd/porter/heap.ts). It stops before the last line's break, so that what follows can
 * start there.
 */
const RUN_START = new RegExp(String.raw`(?:^|\n)( *)- +${TOKEN} *(?:\n\1- +${TOKEN} *){${RUN_MIN - 1}}(?=\n|$)`, 'g')
/** a run's lines with a token not written "- <token>" exactly */
const LOOSE = /- {2}| \n| $/
let warm = false
/**
 * V8 runs a regular expression in its interpreter the first time and compiles it to machine code
 * for the next (an empty subject does not count): two runs on a character make the first read of
 * a large config the compiled one. On first use, not at load: `porter validate` of a small config
 * does not need them.
 */
function warmUp(): void {
  if (warm) return
  warm = true
  for (let i = 0; i < 2; i++) {
    RUN_START.test('-')
    LOOSE.test('-')
  }
}

/**
 * Where a run that goes on at `from` (a line's end) ends: the end of its last line. Up to 1024
 * lines a match: with an unbounded repetition a match keeps a backtrack entry per line, and V8
 * ran the first match over a 100k-line run ~10 x slower (39 against 3.3 ms), whatever the warm-up.
 */
function runEnd(text: string, indent: number, from: number): number {
  // a new object a run, not a cache of our own: V8 keeps the compiled expression by its source
  const more = new RegExp(String.raw`(?:\n {${indent}}- +${TOKEN} *){1,1024}(?=\n|$)`, 'y')
  let end = from
  for (;;) {
    more.lastIndex = end
    if (!more.test(text)) return end
    end = more.lastIndex
  }
}

/**
 * Address runs. A long block sequence of addresses, one a line ("      - 198.18.0.1"), is most
 * of a large config and most of js-yaml's time. Each run of at least RUN_MIN such lines (same
 * indentation, nothing else on the line) is cut out of the text and replaced by one item, a
 * sentinel; spliceRuns puts the addresses back as strings after js-yaml has read the rest.
 *
 * Why that is the same document: a token is taken only when YAML would read it as that same
 * string: it holds only hex digits, '.', ':' and '/', has a ':' or two '.' (never a YAML number,
 * unlike "1.5" or "1e5") and does not end in ':' ("- 2001:db8::" is a mapping in YAML). A line
 * that only looks like a sequence item (inside a block scalar, or continuing a multi-line plain
 * scalar) leaves its sentinel inside a string, not alone as an item: spliceRuns then fails and
 * the text is read whole.
 */
export function cutAddressRuns(text: string, latin1?: Buffer, info?: CutInfo): { text: string; runs: string[][] } | undefined {
  if (text.length < RUN_MIN * 8 || text.includes(RUN_TAG)) return undefined
  const runs: string[][] = []
  const parts: string[] = []
  let kept = 0 // text before `kept` is in parts
  let bytes = latin1 !== undefined && latin1.length === text.length ? latin1 : undefined
  let cutLength = 0 // of parts
  const reuse = info?.reuse
  warmUp()
  RUN_START.lastIndex = 0
  for (let m = RUN_START.exec(text); m !== null; m = RUN_START.exec(text)) {
    // the match: the line break before the run (none at the text's start) on; the run is its
    // lines with their line breaks
    const runStart = text.charCodeAt(m.index) === 10 ? m.index + 1 : m.index
    const indent = m[1]!.length
    const last = runEnd(text, indent, RUN_START.lastIndex)
    RUN_START.lastIndex = last
    const end = last < text.length ? last + 1 : last
    const loose = LOOSE.test(text.slice(runStart, end)) // a token with more than one space before it or any after
    // each address as a string of its own (not a slice of the text, which would keep the whole
    // text alive, nothing to flatten later), copied from the text's bytes; on a reload the
    // running config's string when the text has it there (Reuse). A lean loop: the daemon runs it
    // without the optimizing compiler (cmd/porter/heap.ts)
    bytes ??= Buffer.from(text, 'latin1')
    const run: string[] = []
    const prev = reuse?.all
    let at = reuse?.at ?? 0
    for (let pos = runStart, eol = 0; pos < end; pos = eol + 1) {
      eol = text.indexOf('\n', pos)
      if (eol < 0) eol = end
      let from = pos + indent + 2
      let to = eol
      if (loose) {
        while (text.charCodeAt(from) === 32) from++
        while (text.charCodeAt(to - 1) === 32) to--
      }
      const p = prev === undefined ? undefined : prev[at++]
      run.push(p !== undefined && p.length === to - from && text.startsWith(p, from) ? p : bytes.toString('latin1', from, to))
    }
    if (reuse !== undefined) reuse.at = at
    const line = `${' '.repeat(indent)}- ${RUN_TAG}${runs.length}\n`
    if (info !== undefined) {
      info.places.set(run, { start: runStart, end, indent })
      cutLength += runStart - kept
      info.edits.push({ origAt: runStart, origLen: end - runStart, cutAt: cutLength, cutLen: line.length })
      cutLength += line.length
    }
    parts.push(text.slice(kept, runStart), line)
    runs.push(run)
    flatLists.add(run)
    kept = end
  }
  if (runs.length === 0) return undefined
  parts.push(text.slice(kept))
  return { text: parts.join(''), runs }
}

/**
 * Address lists made by cutAddressRuns (its strings are flat): flatAddresses leaves them as they
 * are. The schema keeps a list that is already canonical (IPv4) as the same array.
 */
const flatLists = new WeakSet<string[]>()

/**
 * Put each run back where its sentinel is an item of a list (the list is replaced by a new one,
 * every reference to it too: YAML aliases). False when a sentinel is not found so exactly once,
 * e.g. inside a string: the text must then be read whole.
 */
function spliceRuns(root: object, runs: readonly string[][]): boolean {
  let found = 0
  const done = new Map<object, unknown>()
  const runOf = (x: unknown): string[] | undefined => {
    if (typeof x !== 'string' || !x.startsWith(RUN_TAG)) return undefined
    const k = x.slice(RUN_TAG.length)
    return /^\d+$/.test(k) ? runs[Number(k)] : undefined
  }
  const visit = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v
    if (done.has(v)) return done.get(v)
    if (Array.isArray(v)) {
      if (!v.some((x) => runOf(x) !== undefined)) {
        done.set(v, v)
        for (let i = 0; i < v.length; i++) v[i] = visit(v[i])
        return v
      }
      // a list that is one run (the usual long `address:` list) is that run's array, not a copy
      const whole = v.length === 1 ? runOf(v[0]) : undefined
      if (whole !== undefined) {
        found++
        done.set(v, whole)
        return whole
      }
      const out: unknown[] = []
      done.set(v, out)
      for (const x of v) {
        const items = runOf(x)
        if (items === undefined) out.push(visit(x))
        else {
          found++
          for (const a of items) out.push(a)
        }
      }
      return out
    }
    done.set(v, v)
    const o = v as Record<string, unknown>
    for (const k of Object.keys(o)) o[k] = visit(o[k])
    return o
  }
  visit(root)
  return found === runs.length
}

/** The full path: `yaml` with positions; every issue with its file:line:col. */
function parseWithPositions(text: string, file: string): Config {
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true })
  const issues: ConfigIssue[] = []
  for (const e of doc.errors) issues.push({ path: '', message: `invalid YAML: ${e.message.split('\n')[0]}`, ...placeAt(lc, e.pos[0]) })
  if (issues.length) throw new ConfigError(file, issues)
  const raw = doc.toJS() ?? {}
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '', message: 'the config must be a YAML mapping', line: 1, col: 1 }])
  }
  const res = configSchema.safeParse(raw)
  const found = collectIssues(raw, res, (path, keyOnly) => locate(doc, path, lc, keyOnly), false)!
  if (found.length) throw new ConfigError(file, sortIssues(found))
  return deepFreeze(flatAddresses(res.data!))
}

/**
 * VIP addresses as strings of their own. As parsed, an address is a V8 sliced string of the
 * config text when read as written (13 characters or more: it keeps the whole text alive, 27
 * bytes a route at 100k) or a cons string when the schema made it canonical (IPv6: 32 bytes
 * more than a flat one); the config and every peer's RIB keep them. JSON.parse makes each
 * anew and flat (about 20 ms per 100k IPv6 addresses).
 */
function flatAddresses(cfg: Config): Config {
  for (const v of cfg.vips) {
    if (flatLists.has(v.address)) continue
    ;(v as { address: string[] }).address = JSON.parse(JSON.stringify(v.address)) as string[]
  }
  return cfg
}

function valueAt(o: unknown, path: readonly PropertyKey[]): unknown {
  let v = o
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<PropertyKey, unknown>)[k]
  }
  return v
}

function sortIssues(issues: ConfigIssue[]) {
  return issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0))
}

/** `raw`: the file as read, for the place of an address (a list item or the lone `address`) */
function crossCheck(cfg: Config, raw: unknown): (ConfigIssue & { at: PropertyKey[] })[] {
  const out: (ConfigIssue & { at: PropertyKey[] })[] = []
  const add = (at: PropertyKey[], message: string) => out.push({ at, path: pathString(at), message })
  const seen = new Map<string, number>()
  cfg.bgp?.peers.forEach((p, i) => {
    const key = `${p.address}`
    if (seen.has(key)) add(['bgp', 'peers', i, 'address'], `${JSON.stringify(p.address)} is already configured as peers[${seen.get(key)}]`)
    else seen.set(key, i)
  })
  // first place of each address, packed as i * 2^26 + j + 1 (vips[i].address[j]; j = -1: a single
  // address); formatted only for a duplicate: a 100k-address list must not cost 100k path strings
  const vipSeen = new Map<string, number>()
  const PLACE = 2 ** 26
  const placeOf = (x: number): PropertyKey[] => {
    const i = Math.floor(x / PLACE)
    const j = (x % PLACE) - 1
    return j < 0 ? ['vips', i, 'address'] : ['vips', i, 'address', j]
  }
  const rawVips = (raw as { vips?: { address?: unknown }[] }).vips
  // as written in the file (the config holds canonical addresses)
  const spelt = (x: number): string => {
    const a = rawVips?.[Math.floor(x / PLACE)]?.address
    const j = (x % PLACE) - 1
    return String(Array.isArray(a) ? a[j] : a)
  }
  // the map of every address is made only when some address is there twice
  const dup = hasDuplicate(cfg.vips)
  const bfdSeen = new Map<string, { at: PropertyKey[]; c: Extract<HealthCheckConfig, { type: 'bfd' }> }>()
  cfg.vips.forEach((v, i) => {
    const list = Array.isArray(rawVips?.[i]?.address)
    const addrs = v.address
    const fams = familiesOf(addrs)
    for (let j = 0; dup && j < addrs.length; j++) {
      // canonical host addresses (the schema's rule): one address, however spelt
      // ("2001:db8::10", "2001:DB8:0::10/128"), in one place only
      const key = addrs[j]!
      const here = i * PLACE + (list ? j : -1) + 1
      const first = vipSeen.get(key)
      if (first !== undefined) add(placeOf(here), `${JSON.stringify(spelt(here))} is the same VIP address as ${pathString(placeOf(first))} (${JSON.stringify(spelt(first))}): a VIP address may be configured once only (merge the two entries, or remove one)`)
      else vipSeen.set(key, here)
    }
    v.nextHops.forEach((nh, k) => {
      if (!fams.has(isIP(nh.address))) add(['vips', i, 'nextHops', k], `${JSON.stringify(nh.address)} is not of the VIP's address family (IPv4 VIPs need IPv4 next hops, IPv6 VIPs IPv6 ones)`)
    })
    const checks = [v.check, ...v.nextHops.map((n) => n.check)]
    v.nextHops.forEach((nh, k) => {
      // one BFD session per next-hop address: every VIP using it must ask for the same timers
      const c = nh.check ?? v.check
      if (c?.type !== 'bfd') return
      const at: PropertyKey[] = nh.check ? ['vips', i, 'nextHops', k, 'check'] : ['vips', i, 'check']
      const first = bfdSeen.get(nh.address)
      if (!first) bfdSeen.set(nh.address, { at, c })
      else if (first.c.minTx !== c.minTx || first.c.minRx !== c.minRx || first.c.multiplier !== c.multiplier || first.c.port !== c.port || !isDeepStrictEqual(first.c.auth, c.auth)) {
        const a = first.c.auth
        add(at, `next hop ${JSON.stringify(nh.address)} has one BFD session for all its VIPs, and ${pathString(first.at)} asks for other settings (minTx ${first.c.minTx}, minRx ${first.c.minRx}, multiplier ${first.c.multiplier}, port ${first.c.port}, ${a ? `auth ${a.type} key ID ${a.keyId} from ${JSON.stringify(a.keyFile)}` : 'no auth'}): give both the same`)
      }
    })
    checks.forEach((c, k) => {
      if (c && c.type !== 'bfd' && c.timeout > c.interval) {
        const at: PropertyKey[] = k === 0 ? ['vips', i, 'check', 'timeout'] : ['vips', i, 'nextHops', k - 1, 'check', 'timeout']
        add(at, `timeout (${c.timeout} ms) must not exceed interval (${c.interval} ms)`)
      }
    })
  })
  if (cfg.vips.some((v) => v.nextHops.length > 0) && !cfg.bgp && cfg.agent.nodeAddresses.length === 0) {
    // VIPs without a speaker and without an agent role do nothing; say so rather than start idle
    add(['vips'], 'VIPs are configured but neither "bgp" (controller) nor "agent.nodeAddresses" (agent) uses them')
  }
  return out
}

/**
 * Whether some VIP address is configured twice (canonical addresses: one text per address). One
 * Set of them all: its hashing and lookups are V8's own code, as fast in the daemon, which runs
 * without the optimizing compiler (cmd/porter/heap.ts), as anywhere; a sort of the addresses as
 * numbers parsed char by char was 3 x slower there.
 */
function hasDuplicate(vips: Config['vips']): boolean {
  return new Set(vips.length === 1 ? vips[0]!.address : vips.flatMap((v) => v.address)).size !== vipAddressCount(vips)
}

/** How many VIP addresses the config announces (every `vips` entry's `address` list). */
export function vipAddressCount(vips: Config['vips']): number {
  let n = 0
  for (const v of vips) n += v.address.length
  return n
}

/** The address families of canonical addresses (an IPv6 one has a ':', an IPv4 one none). */
function familiesOf(addrs: readonly string[]): Set<number> {
  let v4 = false
  let v6 = false
  for (let j = 0; j < addrs.length && !(v4 && v6); j++) {
    if (addrs[j]!.includes(':')) v6 = true
    else v4 = true
  }
  const fams = new Set<number>()
  if (v4) fams.add(4)
  if (v6) fams.add(6)
  return fams
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o)
    if (Array.isArray(o)) {
      // no copy of the list (Object.values) and no call per string: address lists are long
      // (an index loop: for...of over a frozen array allocated an iterator result per item)
      for (let i = 0; i < o.length; i++) {
        const v: unknown = o[i]
        if (v !== null && typeof v === 'object') deepFreeze(v)
      }
    } else for (const v of Object.values(o)) deepFreeze(v)
  }
  return o
}

/** Read and parse a config file. Read errors are PORTER_ERR_CONFIG_READ; content errors ConfigError. */
export function loadConfigFile(path: string, previous?: Config): Config {
  let text: string
  let ascii: Buffer | undefined
  try {
    const bytes = readFileSync(path)
    // an ASCII file (the usual case) as a one-byte string by copy: UTF-8 decoding took 20-40 ms
    // of a 100k-VIP reload; the same text either way. Its bytes go on to the address runs.
    if (isAscii(bytes)) ascii = bytes
    text = bytes.toString(ascii ? 'latin1' : 'utf8')
  } catch (e) {
    throw new PorterError('PORTER_ERR_CONFIG_READ', `Cannot read config ${JSON.stringify(path)}: ${errnoOf(e) ?? (e as Error).message}`, { cause: e })
  }
  return parseConfig(text, basename(path), ascii, previous)
}
