// Pure tests of the nftables model: renderer (golden JSON, accepted by nft 1.0.6), parser of
// `nft -j list` output (captured from nft 1.0.6), and the planner as a step table.
import t from 'tap'
import { renderTransaction, describeTransaction } from './render.ts'
import { parseTable, parseAcceptRules } from './parse.ts'
import { planNft, planNftCleanup } from './plan.ts'
import { parseChainRef, type NftObserved, type ObservedTable, type ChainRef } from './model.ts'

const filterFwd: ChainRef = { family: 'inet', table: 'filter', chain: 'forward' }

t.test('renderer: a full table transaction (golden JSON)', async (t) => {
  const { tx } = planNft({ v4: ['192.0.2.10'], v6: ['2001:db8::10'] }, { table: undefined })
  t.same(renderTransaction(tx), {
    nftables: [
      { add: { table: { family: 'inet', name: 'porter' } } },
      { add: { set: { family: 'inet', table: 'porter', name: 'vips4', type: 'ipv4_addr' } } },
      { add: { element: { family: 'inet', table: 'porter', name: 'vips4', elem: ['192.0.2.10'] } } },
      { add: { set: { family: 'inet', table: 'porter', name: 'vips6', type: 'ipv6_addr' } } },
      { add: { element: { family: 'inet', table: 'porter', name: 'vips6', elem: ['2001:db8::10'] } } },
      { add: { chain: { family: 'inet', table: 'porter', name: 'input', type: 'filter', hook: 'input', prio: 0, policy: 'accept' } } },
      { add: { rule: { family: 'inet', table: 'porter', chain: 'input', comment: 'porter:input:ipv4', expr: [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: '@vips4' } }, { accept: null }] } } },
      { add: { rule: { family: 'inet', table: 'porter', chain: 'input', comment: 'porter:input:ipv6', expr: [{ match: { op: '==', left: { payload: { protocol: 'ip6', field: 'daddr' } }, right: '@vips6' } }, { accept: null }] } } },
      { add: { chain: { family: 'inet', table: 'porter', name: 'forward', type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } } },
      { add: { rule: { family: 'inet', table: 'porter', chain: 'forward', comment: 'porter:forward:ipv4', expr: [{ match: { op: '==', left: { ct: { key: 'ip daddr', dir: 'original' } }, right: '@vips4' } }, { accept: null }] } } },
      { add: { rule: { family: 'inet', table: 'porter', chain: 'forward', comment: 'porter:forward:ipv6', expr: [{ match: { op: '==', left: { ct: { key: 'ip6 daddr', dir: 'original' } }, right: '@vips6' } }, { accept: null }] } } },
    ],
  })
  t.same(describeTransaction(tx).slice(0, 3), ['add table inet porter', 'add set inet porter vips4 { type ipv4_addr; }', 'add element inet porter vips4 { 192.0.2.10 }'])
})

t.test('renderer: accept rule in the host chain (insert, replace, delete)', async (t) => {
  const ops = renderTransaction({
    ops: [
      { op: 'put-accept', target: filterFwd, family: 4, elems: ['192.0.2.1', '192.0.2.2'] },
      { op: 'put-accept', target: filterFwd, family: 6, elems: ['2001:db8::1'], handle: 9 },
      { op: 'delete-rule', target: filterFwd, handle: 12 },
    ],
  }).nftables
  t.same(ops[0], { insert: { rule: { family: 'inet', table: 'filter', chain: 'forward', comment: 'porter:accept:ipv4', expr: [{ match: { op: '==', left: { ct: { key: 'ip daddr', dir: 'original' } }, right: { set: ['192.0.2.1', '192.0.2.2'] } } }, { accept: null }] } } })
  t.same((ops[1] as { replace: { rule: { handle: number; comment: string } } }).replace.rule.handle, 9)
  t.same(ops[2], { delete: { rule: { family: 'inet', table: 'filter', chain: 'forward', handle: 12 } } })
})

// `nft -j list table inet porter` from nft 1.0.6 (kernel 6.18), elements of vips4 shortened
const LISTING = JSON.stringify({ nftables: [
  { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
  { table: { family: 'inet', name: 'porter', handle: 3 } },
  { set: { family: 'inet', name: 'vips4', table: 'porter', type: 'ipv4_addr', handle: 1, elem: ['192.0.2.10', '198.51.100.7'] } },
  { set: { family: 'inet', name: 'vips6', table: 'porter', type: 'ipv6_addr', handle: 2, elem: ['2001:db8::1', '2001:db8::2'] } },
  { chain: { family: 'inet', table: 'porter', name: 'input', handle: 3, type: 'filter', hook: 'input', prio: 0, policy: 'accept' } },
  { chain: { family: 'inet', table: 'porter', name: 'forward', handle: 4, type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } },
  { rule: { family: 'inet', table: 'porter', chain: 'input', handle: 5, comment: 'porter:input:ipv4', expr: [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: '@vips4' } }, { accept: null }] } },
  { rule: { family: 'inet', table: 'porter', chain: 'input', handle: 6, comment: 'porter:input:ipv6', expr: [] } },
  { rule: { family: 'inet', table: 'porter', chain: 'forward', handle: 7, comment: 'porter:forward:ipv4', expr: [{ match: { op: '==', left: { ct: { key: 'ip daddr', dir: 'original' } }, right: '@vips4' } }, { accept: null }] } },
  { rule: { family: 'inet', table: 'porter', chain: 'forward', handle: 8, comment: 'porter:forward:ipv6', expr: [] } },
] })

t.test('parser: nft -j list table', async (t) => {
  const tbl = parseTable(LISTING)
  t.same([...tbl.sets.keys()], ['vips4', 'vips6'])
  t.same(tbl.sets.get('vips6'), { type: 'ipv6_addr', elems: ['2001:db8::1', '2001:db8::2'] })
  t.same(tbl.chains.get('input'), { type: 'filter', hook: 'input', prio: 0, policy: 'accept', rules: [{ handle: 5, comment: 'porter:input:ipv4' }, { handle: 6, comment: 'porter:input:ipv6' }] })
  t.throws(() => parseTable('{"x":1}'), /no "nftables" array/)
})

t.test('parser: accept rules in the host chain, set and single-value forms', async (t) => {
  const listing = JSON.stringify({ nftables: [
    { chain: { family: 'inet', table: 'filter', name: 'forward', handle: 1, type: 'filter', hook: 'forward', prio: 0, policy: 'drop' } },
    { rule: { family: 'inet', table: 'filter', chain: 'forward', handle: 3, comment: 'porter:accept:ipv6', expr: [{ match: { op: '==', left: { ct: { key: 'ip6 daddr', dir: 'original' } }, right: { set: ['2001:DB8::1', '2001:db8::2'] } } }, { accept: null }] } },
    { rule: { family: 'inet', table: 'filter', chain: 'forward', handle: 4, comment: 'porter:accept:ipv4', expr: [{ match: { op: '==', left: { ct: { key: 'ip daddr', dir: 'original' } }, right: '192.0.2.7' } }, { accept: null }] } },
    { rule: { family: 'inet', table: 'filter', chain: 'forward', handle: 5, comment: 'ssh', expr: [] } },
  ] })
  t.same(parseAcceptRules(listing, filterFwd), [
    { handle: 3, comment: 'porter:accept:ipv6', family: 6, elems: ['2001:db8::1', '2001:db8::2'] },
    { handle: 4, comment: 'porter:accept:ipv4', family: 4, elems: ['192.0.2.7'] },
  ], 'only Porter\'s rules, elements canonical')
})

t.test('chain references', async (t) => {
  t.same(parseChainRef('inet filter forward'), filterFwd)
  t.match(parseChainRef('filter forward'), /is not a chain/)
  t.match(parseChainRef('bridge filter forward'), /family "bridge"/)
})

/** What the kernel would hold after a transaction, as a pure model (to chain steps). */
function applyTx(obs: NftObserved, tx: ReturnType<typeof planNft>['tx']): NftObserved {
  let table: ObservedTable | undefined = obs.table && { sets: new Map([...obs.table.sets].map(([k, v]) => [k, { ...v, elems: [...v.elems] }])), chains: new Map([...obs.table.chains].map(([k, v]) => [k, { ...v, rules: [...v.rules] }])) }
  let handle = 100
  let accept = obs.accept ? { ...obs.accept, rules: obs.accept.rules ? [...obs.accept.rules] : undefined } : undefined
  for (const o of tx.ops) {
    switch (o.op) {
      case 'add-table': table ??= { sets: new Map(), chains: new Map() }; break
      case 'delete-table': table = undefined; break
      case 'add-set': if (!table!.sets.has(o.set)) table!.sets.set(o.set, { type: o.set === 'vips4' ? 'ipv4_addr' : 'ipv6_addr', elems: [] }); break
      case 'add-elements': { const s = table!.sets.get(o.set)!; for (const e of o.elems) if (!s.elems.includes(e)) s.elems.push(e); break }
      case 'delete-elements': { const s = table!.sets.get(o.set)!; s.elems = s.elems.filter((e) => !o.elems.includes(e)); break }
      case 'add-chain': if (!table!.chains.has(o.chain.name)) table!.chains.set(o.chain.name, { type: 'filter', hook: o.chain.hook, prio: o.chain.prio, policy: o.chain.policy, rules: [] }); break
      case 'flush-chain': table!.chains.get(o.chain)!.rules = []; break
      case 'delete-chain': table!.chains.delete(o.chain); break
      case 'add-rule': table!.chains.get(o.rule.chain)!.rules.push({ handle: handle++, comment: o.rule.comment }); break
      case 'put-accept': {
        const rules = accept!.rules!
        const r = { handle: o.handle ?? handle++, comment: `porter:accept:ipv${o.family}`, family: o.family, elems: [...o.elems] }
        if (o.handle === undefined) rules.unshift(r)
        else rules.splice(rules.findIndex((x) => x.handle === o.handle), 1, r)
        break
      }
      case 'delete-rule': accept!.rules = accept!.rules!.filter((r) => r.handle !== o.handle); break
    }
  }
  return accept ? { table, accept } : { table }
}

t.test('planner step table', async (t) => {
  let obs: NftObserved = { table: undefined, accept: { target: filterFwd, rules: [] } }
  const steps: { name: string; desired: { v4: string[]; v6: string[] }; tamper?: (o: NftObserved) => NftObserved; ops: string[] }[] = [
    { name: 'from nothing: the whole table and the accept rule', desired: { v4: ['192.0.2.1'], v6: [] }, ops: ['add-table', 'add-set', 'add-elements', 'add-set', 'add-chain', 'add-rule', 'add-rule', 'add-chain', 'add-rule', 'add-rule', 'put-accept'] },
    { name: 'again: nothing', desired: { v4: ['192.0.2.1'], v6: [] }, ops: [] },
    { name: 'one more VIP of each family', desired: { v4: ['192.0.2.1', '192.0.2.2'], v6: ['2001:db8::1'] }, ops: ['add-elements', 'add-elements', 'put-accept', 'put-accept'] },
    { name: 'remove one: only its element goes, the rule is replaced', desired: { v4: ['192.0.2.2'], v6: ['2001:db8::1'] }, ops: ['delete-elements', 'put-accept'] },
    { name: 'someone flushed vips4', desired: { v4: ['192.0.2.2'], v6: ['2001:db8::1'] }, tamper: (o) => { o.table!.sets.get('vips4')!.elems = []; return o }, ops: ['add-elements'] },
    { name: 'someone deleted a rule of the input chain', desired: { v4: ['192.0.2.2'], v6: ['2001:db8::1'] }, tamper: (o) => { o.table!.chains.get('input')!.rules.pop(); return o }, ops: ['flush-chain', 'add-rule', 'add-rule'] },
    { name: 'someone duplicated our accept rule', desired: { v4: ['192.0.2.2'], v6: ['2001:db8::1'] }, tamper: (o) => { o.accept!.rules!.push({ ...o.accept!.rules![0]!, handle: 77 }); return o }, ops: ['delete-rule'] },
    { name: 'a set of the wrong type: rebuild the table in the same transaction', desired: { v4: ['192.0.2.2'], v6: [] }, tamper: (o) => { o.table!.sets.set('vips6', { type: 'ipv4_addr', elems: [] }); return o }, ops: ['delete-table', 'add-table', 'add-set', 'add-elements', 'add-set', 'add-chain', 'add-rule', 'add-rule', 'add-chain', 'add-rule', 'add-rule', 'delete-rule'] },
    { name: 'no VIPs: sets emptied, chains stay, accept rules go', desired: { v4: [], v6: [] }, ops: ['delete-elements', 'delete-rule'] },
  ]
  for (const s of steps) {
    if (s.tamper) obs = s.tamper(obs)
    const { tx, problems } = planNft({ ...s.desired, accept: filterFwd }, obs)
    t.same(problems, [], `${s.name}: no problems`)
    t.same(tx.ops.map((o) => o.op), s.ops, s.name)
    obs = applyTx(obs, tx)
    t.same(planNft({ ...s.desired, accept: filterFwd }, obs).tx.ops, [], `${s.name}: converged`)
    t.same([...obs.table!.sets.get('vips4')!.elems].sort(), [...s.desired.v4].sort(), `${s.name}: vips4`)
  }
})

t.test('planner: the accept chain does not exist', async (t) => {
  const r = planNft({ v4: ['192.0.2.1'], v6: [], accept: filterFwd }, { table: undefined, accept: { target: filterFwd, rules: undefined } })
  t.match(r.problems, [/"inet filter forward" \(agent.nftAcceptChain\) does not exist/])
})

t.test('planner: an ip-family host chain only gets the IPv4 rule', async (t) => {
  const target: ChainRef = { family: 'ip', table: 'filter', chain: 'FORWARD' }
  const r = planNft({ v4: ['192.0.2.1'], v6: ['2001:db8::1'], accept: target }, { table: undefined, accept: { target, rules: [] } })
  t.same(r.tx.ops.filter((o) => o.op === 'put-accept').map((o) => o.op === 'put-accept' && o.family), [4])
})

t.test('cleanup: the table and our rules in the host chain, nothing else', async (t) => {
  const obs: NftObserved = { table: parseTable(LISTING), accept: { target: filterFwd, rules: [{ handle: 3, comment: 'porter:accept:ipv4', family: 4, elems: ['192.0.2.1'] }] } }
  t.same(planNftCleanup(obs).ops, [{ op: 'delete-table' }, { op: 'delete-rule', target: filterFwd, handle: 3 }])
  t.same(planNftCleanup({ table: undefined }).ops, [])
})
