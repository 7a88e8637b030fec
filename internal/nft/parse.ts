// PURE parser of `nft -j list ...` output into the observed-state model.
import { canonicalIp } from '../ip/index.ts'
import { TABLE, TABLE_FAMILY, ACCEPT_COMMENTS, type ChainRef, type Family, type ObservedAccept, type ObservedTable, type ObservedChain } from './model.ts'

type Json = Record<string, unknown>

function items(text: string): Json[] {
  const doc = JSON.parse(text) as { nftables?: unknown }
  if (!doc || !Array.isArray(doc.nftables)) throw new TypeError('nft JSON output has no "nftables" array')
  return doc.nftables as Json[]
}

/** An element of a listed set: "192.0.2.1", or {"elem": {"val": "192.0.2.1", ...}} when it has counters etc. */
function elemText(e: unknown): string {
  if (typeof e === 'string') return canonicalIp(e) ?? e
  if (e && typeof e === 'object' && 'elem' in e) {
    const v = (e as { elem: { val?: unknown } }).elem.val
    if (typeof v === 'string') return canonicalIp(v) ?? v
  }
  return JSON.stringify(e)
}

/** `nft -j list table inet porter` -> the table's sets and chains. */
export function parseTable(text: string): ObservedTable {
  const t: ObservedTable = { sets: new Map(), chains: new Map() }
  for (const it of items(text)) {
    if (it.set) {
      const s = it.set as Json
      if (s.family !== TABLE_FAMILY || s.table !== TABLE) continue
      t.sets.set(String(s.name), { type: String(s.type), elems: Array.isArray(s.elem) ? s.elem.map(elemText) : [] })
    } else if (it.chain) {
      const c = it.chain as Json
      if (c.family !== TABLE_FAMILY || c.table !== TABLE) continue
      const oc: ObservedChain = { rules: [] }
      if (typeof c.type === 'string') oc.type = c.type
      if (typeof c.hook === 'string') oc.hook = c.hook
      if (typeof c.prio === 'number') oc.prio = c.prio
      if (typeof c.policy === 'string') oc.policy = c.policy
      const prev = t.chains.get(String(c.name))
      if (prev) oc.rules = prev.rules
      t.chains.set(String(c.name), oc)
    } else if (it.rule) {
      const r = it.rule as Json
      if (r.family !== TABLE_FAMILY || r.table !== TABLE) continue
      const name = String(r.chain)
      let c = t.chains.get(name)
      if (!c) { c = { rules: [] }; t.chains.set(name, c) }
      const rule: { handle: number; comment?: string } = { handle: Number(r.handle) }
      if (typeof r.comment === 'string') rule.comment = r.comment
      c.rules.push(rule)
    }
  }
  return t
}

function acceptFamily(expr: unknown): { family: Family | undefined; elems: string[] } {
  const out: { family: Family | undefined; elems: string[] } = { family: undefined, elems: [] }
  if (!Array.isArray(expr)) return out
  for (const e of expr as Json[]) {
    const m = e.match as Json | undefined
    if (!m) continue
    const left = m.left as Json | undefined
    const ct = left?.ct as Json | undefined
    const pl = left?.payload as Json | undefined
    const key = typeof ct?.key === 'string' ? ct.key : pl ? `${String(pl.protocol)} ${String(pl.field)}` : ''
    if (key === 'ip daddr') out.family = 4
    else if (key === 'ip6 daddr') out.family = 6
    else continue
    const right = m.right as unknown
    if (typeof right === 'string') out.elems = [elemText(right)]
    else if (right && typeof right === 'object' && Array.isArray((right as Json).set)) out.elems = ((right as Json).set as unknown[]).map(elemText)
  }
  return out
}

/** `nft -j list chain F T C` -> Porter's accept rules in it (by comment). */
export function parseAcceptRules(text: string, target: ChainRef): ObservedAccept[] {
  const out: ObservedAccept[] = []
  for (const it of items(text)) {
    const r = it.rule as Json | undefined
    if (!r || r.family !== target.family || r.table !== target.table || r.chain !== target.chain) continue
    if (typeof r.comment !== 'string' || !ACCEPT_COMMENTS.includes(r.comment)) continue
    const { family, elems } = acceptFamily(r.expr)
    out.push({ handle: Number(r.handle), comment: r.comment, family, elems })
  }
  return out
}
