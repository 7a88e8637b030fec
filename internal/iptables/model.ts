// PURE iptables model: Porter's chains PORTER-INPUT / PORTER-FORWARD in the filter table, each
// jumped to exactly once from INPUT / FORWARD. Changes are iptables-restore scripts run with
// --noflush, so other chains and rules are never flushed. Rules are written exactly as
// iptables-save prints them, both for iptables-nft and iptables-legacy.
import { canonicalIp } from '../ip/index.ts'

import type { Family } from '../ip/index.ts'
export type { Family }
export type Flavour = 'nft' | 'legacy'

export const INPUT_CHAIN = 'PORTER-INPUT'
export const FORWARD_CHAIN = 'PORTER-FORWARD'
export const JUMP_COMMENT = 'porter'
export const PORTER_CHAINS = [INPUT_CHAIN, FORWARD_CHAIN] as const
export type PorterChain = typeof PORTER_CHAINS[number]
export const PARENT: Record<PorterChain, 'INPUT' | 'FORWARD'> = { [INPUT_CHAIN]: 'INPUT', [FORWARD_CHAIN]: 'FORWARD' }

/** The rule accepting one VIP in one of Porter's chains (iptables-save form). */
export function ruleFor(chain: PorterChain, ip: string, family: Family): string {
  return chain === INPUT_CHAIN
    ? `-A ${INPUT_CHAIN} -d ${ip}/${family === 4 ? 32 : 128} -j ACCEPT`
    : `-A ${FORWARD_CHAIN} -m conntrack --ctorigdst ${ip} -j ACCEPT`
}

export const jumpRule = (chain: PorterChain): string => `-A ${PARENT[chain]} -m comment --comment ${JUMP_COMMENT} -j ${chain}`

const INPUT_RE = /^-A PORTER-INPUT -d ([0-9a-fA-F:.]+)\/(32|128) -j ACCEPT$/
const FORWARD_RE = /^-A PORTER-FORWARD -m conntrack --ctorigdst ([0-9a-fA-F:.]+)(?:\/(?:32|128))? -j ACCEPT$/

/** The VIP of one of Porter's rule lines, or undefined if the line is not one Porter writes. */
export function vipOfRule(chain: PorterChain, line: string): string | undefined {
  const m = (chain === INPUT_CHAIN ? INPUT_RE : FORWARD_RE).exec(line)
  return m ? canonicalIp(m[1]!) : undefined
}

/** The filter table of one family as iptables-save shows it (only what Porter needs). */
export interface ObservedFilter {
  /** rule lines of Porter's chains; absent key = the chain does not exist */
  chains: Partial<Record<PorterChain, string[]>>
  /** rules in INPUT / FORWARD that jump to Porter's chains (iptables-save lines) */
  jumps: Record<PorterChain, string[]>
  /** policy and number of rules of INPUT and FORWARD (to detect a host firewall) */
  builtins: Record<'INPUT' | 'FORWARD', { policy: string; rules: number }>
}

export type IptObserved = Record<Family, ObservedFilter>

export const emptyFilter = (): ObservedFilter => ({
  chains: {},
  jumps: { [INPUT_CHAIN]: [], [FORWARD_CHAIN]: [] },
  builtins: { INPUT: { policy: 'ACCEPT', rules: 0 }, FORWARD: { policy: 'ACCEPT', rules: 0 } },
})

/** The `*filter` section of iptables-save output -> ObservedFilter. A missing section is an empty table. */
export function parseSave(text: string): ObservedFilter {
  const out = emptyFilter()
  let inFilter = false
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line.startsWith('*')) { inFilter = line === '*filter'; continue }
    if (!inFilter) continue
    if (line === 'COMMIT') { inFilter = false; continue }
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/)
      if (name === INPUT_CHAIN || name === FORWARD_CHAIN) out.chains[name] ??= []
      if (name === 'INPUT' || name === 'FORWARD') out.builtins[name].policy = policy ?? 'ACCEPT'
      continue
    }
    if (!line.startsWith('-A ')) continue
    const chain = line.slice(3, line.indexOf(' ', 3) < 0 ? undefined : line.indexOf(' ', 3))
    if (chain === INPUT_CHAIN || chain === FORWARD_CHAIN) {
      (out.chains[chain] ??= []).push(line)
    } else if (chain === 'INPUT' || chain === 'FORWARD') {
      out.builtins[chain].rules++
      for (const pc of PORTER_CHAINS) {
        if (PARENT[pc] === chain && new RegExp(`(^| )-[jg] ${pc}( |$)`).test(line)) out.jumps[pc].push(line)
      }
    }
  }
  return out
}

/** Does this filter table drop or filter traffic (a policy other than ACCEPT, or rules, in INPUT or FORWARD)? */
export function filterIsActive(f: ObservedFilter): boolean {
  return (['INPUT', 'FORWARD'] as const).some((c) => f.builtins[c].policy !== 'ACCEPT' || f.builtins[c].rules > f.jumps[c === 'INPUT' ? INPUT_CHAIN : FORWARD_CHAIN].length)
}
