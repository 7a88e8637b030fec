// PURE nftables transaction model. Porter's layout is static: one table `inet porter`, two base
// chains (input, forward) whose rules never change, and the VIPs in two sets (vips4, vips6).
// Only set elements change at run time. Optionally, one accept rule per address family is
// inserted into a chain of the host's own firewall (rules in one table cannot reference another
// table's sets, so that rule carries its VIPs inline); it is found again by its comment.

export const TABLE = 'porter'
export const TABLE_FAMILY = 'inet'

import type { Family } from '../ip/index.ts'
export type { Family }
export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev'
export type SetName = 'vips4' | 'vips6'

export const setOf = (f: Family): SetName => (f === 4 ? 'vips4' : 'vips6')
export const setType = (s: SetName): string => (s === 'vips4' ? 'ipv4_addr' : 'ipv6_addr')

/** A chain of the host's firewall, written "family table chain" in the config. */
export interface ChainRef { family: NftFamily; table: string; chain: string }

export interface BaseChainSpec { name: 'input' | 'forward'; hook: 'input' | 'forward'; prio: number; policy: 'accept' }

/** How a rule matches the destination: the packet's (input) or the connection's original one (forward, also after DNAT and for replies). */
export type DaddrMatch = 'daddr' | 'ct-original-daddr'

export interface RuleSpec { chain: 'input' | 'forward'; family: Family; match: DaddrMatch; comment: string }

export const BASE_CHAINS: readonly BaseChainSpec[] = [
  { name: 'input', hook: 'input', prio: 0, policy: 'accept' },
  { name: 'forward', hook: 'forward', prio: 0, policy: 'accept' },
]

/** Rules of each base chain, in order; the comment identifies the rule. */
export const RULES: readonly RuleSpec[] = [
  { chain: 'input', family: 4, match: 'daddr', comment: 'porter:input:ipv4' },
  { chain: 'input', family: 6, match: 'daddr', comment: 'porter:input:ipv6' },
  { chain: 'forward', family: 4, match: 'ct-original-daddr', comment: 'porter:forward:ipv4' },
  { chain: 'forward', family: 6, match: 'ct-original-daddr', comment: 'porter:forward:ipv6' },
]

export const acceptComment = (f: Family): string => `porter:accept:ipv${f}`
export const ACCEPT_COMMENTS: readonly string[] = [acceptComment(4), acceptComment(6)]

/** Address families a chain of this nft family sees. */
export function familiesOfChain(f: NftFamily): Family[] {
  if (f === 'ip') return [4]
  if (f === 'ip6') return [6]
  if (f === 'inet' || f === 'bridge' || f === 'netdev') return [4, 6]
  return []
}

export type NftOp =
  | { op: 'add-table' }
  | { op: 'delete-table' }
  | { op: 'add-set'; set: SetName }
  | { op: 'add-elements'; set: SetName; elems: string[] }
  | { op: 'delete-elements'; set: SetName; elems: string[] }
  | { op: 'add-chain'; chain: BaseChainSpec }
  | { op: 'flush-chain'; chain: string }
  | { op: 'delete-chain'; chain: string }
  | { op: 'add-rule'; rule: RuleSpec }
  /** the accept rule in the host's chain: insert (no handle) or replace (handle) */
  | { op: 'put-accept'; target: ChainRef; family: Family; elems: string[]; handle?: number }
  | { op: 'delete-rule'; target: ChainRef; handle: number }

/** One atomic `nft -j -f` transaction. */
export interface NftTransaction { ops: NftOp[] }

// ---------------------------------------------------------------- observed state

export interface ObservedChain { type?: string; hook?: string; prio?: number; policy?: string; rules: { handle: number; comment?: string }[] }
export interface ObservedSet { type: string; elems: string[] }
/** Porter's table as listed by `nft -j list table inet porter`; undefined when the table does not exist. */
export interface ObservedTable { sets: Map<string, ObservedSet>; chains: Map<string, ObservedChain> }
/** A rule of Porter's in the host's chain (found by comment). */
export interface ObservedAccept { handle: number; comment: string; family: Family | undefined; elems: string[] }
/** The host's chain named by nftAcceptChain: undefined rules when the chain does not exist. */
export interface ObservedAcceptChain { target: ChainRef; rules: ObservedAccept[] | undefined }

export interface NftObserved { table: ObservedTable | undefined; accept?: ObservedAcceptChain }

/** "inet filter forward" -> ChainRef, or an error message. */
export function parseChainRef(s: string): ChainRef | string {
  const parts = s.trim().split(/\s+/)
  if (parts.length !== 3) return `"${s}" is not a chain (write "FAMILY TABLE CHAIN", e.g. "inet filter forward")`
  const [family, table, chain] = parts as [string, string, string]
  if (!['ip', 'ip6', 'inet'].includes(family)) return `"${s}": family "${family}" is not one of ip, ip6, inet`
  const ident = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/
  if (!ident.test(table) || !ident.test(chain)) return `"${s}": table and chain must be nft identifiers`
  return { family: family as NftFamily, table, chain }
}

export const chainRefString = (c: ChainRef): string => `${c.family} ${c.table} ${c.chain}`
