// PURE nftables planner: desired VIPs + observed table -> one transaction (empty when nothing
// differs). The chains are static; a chain whose rules were changed by hand is flushed and
// refilled, a structurally wrong table (a set of the wrong type, a chain on the wrong hook, a
// chain or set Porter does not know) is deleted and recreated in the same transaction.
import {
  BASE_CHAINS, RULES, setOf, setType, acceptComment, familiesOfChain, chainRefString,
  type ChainRef, type Family, type NftObserved, type NftOp, type NftTransaction, type SetName, type ObservedTable,
} from './model.ts'

export interface NftDesired {
  /** canonical IPv4 VIPs */
  v4: readonly string[]
  /** canonical IPv6 VIPs */
  v6: readonly string[]
  /** the host's chain that gets Porter's accept rules (nftAcceptChain) */
  accept?: ChainRef
}

export interface NftPlan {
  tx: NftTransaction
  /** reasons the desired state cannot be reached (e.g. the accept chain does not exist) */
  problems: string[]
}

const SETS: readonly SetName[] = ['vips4', 'vips6']

function fullTable(d: NftDesired): NftOp[] {
  const ops: NftOp[] = [{ op: 'add-table' }]
  for (const s of SETS) {
    ops.push({ op: 'add-set', set: s })
    const elems = s === 'vips4' ? d.v4 : d.v6
    if (elems.length) ops.push({ op: 'add-elements', set: s, elems: [...elems] })
  }
  for (const c of BASE_CHAINS) {
    ops.push({ op: 'add-chain', chain: c })
    for (const r of RULES) if (r.chain === c.name) ops.push({ op: 'add-rule', rule: r })
  }
  return ops
}

function structurallyWrong(t: ObservedTable): boolean {
  for (const [name, s] of t.sets) {
    if (!SETS.includes(name as SetName) || s.type !== setType(name as SetName)) return true
  }
  for (const [name, c] of t.chains) {
    const spec = BASE_CHAINS.find((b) => b.name === name)
    if (!spec) return true
    if (c.type !== 'filter' || c.hook !== spec.hook || c.prio !== spec.prio || c.policy !== spec.policy) return true
  }
  return false
}

function diffSet(set: SetName, want: readonly string[], have: readonly string[]): NftOp[] {
  const haveSet = new Set(have)
  const wantSet = new Set(want)
  const add = want.filter((e) => !haveSet.has(e))
  const del = have.filter((e) => !wantSet.has(e))
  const ops: NftOp[] = []
  if (del.length) ops.push({ op: 'delete-elements', set, elems: del })
  if (add.length) ops.push({ op: 'add-elements', set, elems: add })
  return ops
}

const sameMembers = (a: readonly string[], b: readonly string[]): boolean => {
  if (a.length !== b.length) return false
  const s = new Set(a)
  return b.every((x) => s.has(x))
}

function planAccept(d: NftDesired, o: NftObserved, problems: string[]): NftOp[] {
  const target = d.accept
  const ops: NftOp[] = []
  if (!target) return ops
  const obs = o.accept && chainRefString(o.accept.target) === chainRefString(target) ? o.accept.rules : undefined
  if (obs === undefined) {
    problems.push(`The nftables chain "${chainRefString(target)}" (agent.nftAcceptChain) does not exist: create it or remove the setting`)
    return ops
  }
  const fams = familiesOfChain(target.family)
  for (const f of [4, 6] as Family[]) {
    const want = fams.includes(f) ? (f === 4 ? d.v4 : d.v6) : []
    const mine = obs.filter((r) => r.comment === acceptComment(f))
    if (want.length === 0) {
      for (const r of mine) ops.push({ op: 'delete-rule', target, handle: r.handle })
      continue
    }
    const [first, ...extra] = mine
    if (!first) ops.push({ op: 'put-accept', target, family: f, elems: [...want] })
    else if (first.family !== f || !sameMembers(first.elems, want)) ops.push({ op: 'put-accept', target, family: f, elems: [...want], handle: first.handle })
    for (const r of extra) ops.push({ op: 'delete-rule', target, handle: r.handle })
  }
  return ops
}

export function planNft(d: NftDesired, o: NftObserved): NftPlan {
  const problems: string[] = []
  const ops: NftOp[] = []
  const t = o.table
  if (!t) ops.push(...fullTable(d))
  else if (structurallyWrong(t)) ops.push({ op: 'delete-table' }, ...fullTable(d))
  else {
    for (const s of SETS) {
      const want = s === 'vips4' ? d.v4 : d.v6
      const have = t.sets.get(s)
      if (!have) {
        ops.push({ op: 'add-set', set: s })
        if (want.length) ops.push({ op: 'add-elements', set: s, elems: [...want] })
      } else ops.push(...diffSet(s, want, have.elems))
    }
    for (const c of BASE_CHAINS) {
      const want = RULES.filter((r) => r.chain === c.name)
      const have = t.chains.get(c.name)
      if (!have) {
        ops.push({ op: 'add-chain', chain: c })
        for (const r of want) ops.push({ op: 'add-rule', rule: r })
      } else if (have.rules.length !== want.length || have.rules.some((r, i) => r.comment !== want[i]!.comment)) {
        ops.push({ op: 'flush-chain', chain: c.name })
        for (const r of want) ops.push({ op: 'add-rule', rule: r })
      }
    }
  }
  ops.push(...planAccept(d, o, problems))
  return { tx: { ops }, problems }
}

/** Everything Porter created: its table and its accept rules in the host's chain. */
export function planNftCleanup(o: NftObserved): NftTransaction {
  const ops: NftOp[] = []
  if (o.table) ops.push({ op: 'delete-table' })
  for (const r of o.accept?.rules ?? []) ops.push({ op: 'delete-rule', target: o.accept!.target, handle: r.handle })
  return { ops }
}

export { setOf }
