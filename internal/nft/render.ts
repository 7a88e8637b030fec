// PURE renderer: NftTransaction -> libnftables JSON ({"nftables": [...]}), for `nft -j -f FILE`.
// nft 1.0.x spells a conntrack address key "ip daddr" (no separate "family" member), which is
// also what it prints when listing.
import { TABLE, TABLE_FAMILY, setOf, setType, type Family, type NftOp, type NftTransaction, type RuleSpec, type ChainRef } from './model.ts'

type Json = Record<string, unknown>

const proto = (f: Family): string => (f === 4 ? 'ip' : 'ip6')

function daddrMatch(rule: { family: Family; match: RuleSpec['match'] }, right: unknown): Json {
  const left = rule.match === 'daddr'
    ? { payload: { protocol: proto(rule.family), field: 'daddr' } }
    : { ct: { key: `${proto(rule.family)} daddr`, dir: 'original' } }
  return { match: { op: '==', left, right } }
}

function acceptRule(target: ChainRef, family: Family, elems: readonly string[], handle?: number): Json {
  const r: Json = {
    family: target.family, table: target.table, chain: target.chain,
    expr: [daddrMatch({ family, match: 'ct-original-daddr' }, { set: [...elems] }), { accept: null }],
    comment: `porter:accept:ipv${family}`,
  }
  if (handle !== undefined) r.handle = handle
  return r
}

const base = { family: TABLE_FAMILY, table: TABLE }

export function renderOp(o: NftOp): Json {
  switch (o.op) {
    case 'add-table': return { add: { table: { family: TABLE_FAMILY, name: TABLE } } }
    case 'delete-table': return { delete: { table: { family: TABLE_FAMILY, name: TABLE } } }
    case 'add-set': return { add: { set: { ...base, name: o.set, type: setType(o.set) } } }
    case 'add-elements': return { add: { element: { ...base, name: o.set, elem: o.elems } } }
    case 'delete-elements': return { delete: { element: { ...base, name: o.set, elem: o.elems } } }
    case 'add-chain': return { add: { chain: { ...base, name: o.chain.name, type: 'filter', hook: o.chain.hook, prio: o.chain.prio, policy: o.chain.policy } } }
    case 'flush-chain': return { flush: { chain: { ...base, name: o.chain } } }
    case 'delete-chain': return { delete: { chain: { ...base, name: o.chain } } }
    case 'add-rule': return {
      add: { rule: { ...base, chain: o.rule.chain, expr: [daddrMatch(o.rule, `@${setOf(o.rule.family)}`), { accept: null }], comment: o.rule.comment } },
    }
    case 'put-accept': return o.handle === undefined
      ? { insert: { rule: acceptRule(o.target, o.family, o.elems) } }
      : { replace: { rule: acceptRule(o.target, o.family, o.elems, o.handle) } }
    case 'delete-rule': return { delete: { rule: { family: o.target.family, table: o.target.table, chain: o.target.chain, handle: o.handle } } }
  }
}

export function renderTransaction(tx: NftTransaction): { nftables: Json[] } {
  return { nftables: tx.ops.map(renderOp) }
}

/** The transaction as nft script text (for logs and readable test failures). */
export function describeTransaction(tx: NftTransaction): string[] {
  return tx.ops.map((o) => {
    switch (o.op) {
      case 'add-elements': case 'delete-elements':
        return `${o.op === 'add-elements' ? 'add' : 'delete'} element ${TABLE_FAMILY} ${TABLE} ${o.set} { ${o.elems.length > 4 ? `${o.elems.slice(0, 4).join(', ')}, ... (${o.elems.length})` : o.elems.join(', ')} }`
      case 'put-accept':
        return `${o.handle === undefined ? 'insert' : `replace (handle ${o.handle})`} rule ${o.target.family} ${o.target.table} ${o.target.chain} ct original ${proto(o.family)} daddr { ${o.elems.length} VIPs } accept`
      case 'delete-rule': return `delete rule ${o.target.family} ${o.target.table} ${o.target.chain} handle ${o.handle}`
      case 'add-chain': return `add chain ${TABLE_FAMILY} ${TABLE} ${o.chain.name} { type filter hook ${o.chain.hook} priority ${o.chain.prio}; policy ${o.chain.policy}; }`
      case 'add-rule': return `add rule ${TABLE_FAMILY} ${TABLE} ${o.rule.chain} ${o.rule.match === 'daddr' ? '' : 'ct original '}${proto(o.rule.family)} daddr @${setOf(o.rule.family)} accept comment "${o.rule.comment}"`
      case 'add-set': return `add set ${TABLE_FAMILY} ${TABLE} ${o.set} { type ${setType(o.set)}; }`
      case 'add-table': return `add table ${TABLE_FAMILY} ${TABLE}`
      case 'delete-table': return `delete table ${TABLE_FAMILY} ${TABLE}`
      case 'flush-chain': return `flush chain ${TABLE_FAMILY} ${TABLE} ${o.chain}`
      case 'delete-chain': return `delete chain ${TABLE_FAMILY} ${TABLE} ${o.chain}`
    }
  })
}
