// PURE iptables planner: desired VIPs + observed filter table -> an iptables-restore --noflush
// script per family (undefined when nothing differs). A chain whose content differs is
// redeclared (":CHAIN - [0:0]" flushes it under --noflush) and refilled in the same script, so
// every change to a family is one atomic iptables-restore run.
import {
  PORTER_CHAINS, PARENT, ruleFor, jumpRule, vipOfRule,
  type Family, type IptObserved, type ObservedFilter, type PorterChain,
} from './model.ts'

export type IptScripts = Partial<Record<Family, string>>

function chainMatches(chain: PorterChain, lines: readonly string[], want: ReadonlySet<string>): boolean {
  if (lines.length !== want.size) return false
  const seen = new Set<string>()
  for (const l of lines) {
    const ip = vipOfRule(chain, l)
    if (ip === undefined || !want.has(ip) || seen.has(ip)) return false
    seen.add(ip)
  }
  return true
}

/** The restore script for one family, or undefined when the table already matches. */
export function planFamily(family: Family, vips: readonly string[], o: ObservedFilter): string | undefined {
  const want = new Set(vips)
  const decl: string[] = []
  const rules: string[] = []
  for (const chain of PORTER_CHAINS) {
    const have = o.chains[chain]
    if (have === undefined || !chainMatches(chain, have, want)) {
      decl.push(`:${chain} - [0:0]`)
      for (const ip of want) rules.push(ruleFor(chain, ip, family))
    }
    const jumps = o.jumps[chain]
    if (jumps.length === 0) rules.push(jumpRule(chain).replace(`-A ${PARENT[chain]} `, `-I ${PARENT[chain]} 1 `))
    for (const extra of jumps.slice(1)) rules.push(extra.replace(/^-A /, '-D '))
  }
  if (decl.length === 0 && rules.length === 0) return undefined
  return ['*filter', ...decl, ...rules, 'COMMIT', ''].join('\n')
}

export function planIptables(vips: Record<Family, readonly string[]>, o: IptObserved): IptScripts {
  const out: IptScripts = {}
  for (const f of [4, 6] as Family[]) {
    const s = planFamily(f, vips[f], o[f])
    if (s !== undefined) out[f] = s
  }
  return out
}

/** Remove Porter's jumps and chains, nothing else. */
export function planIptablesCleanup(o: IptObserved): IptScripts {
  const out: IptScripts = {}
  for (const f of [4, 6] as Family[]) {
    const lines: string[] = []
    for (const chain of PORTER_CHAINS) for (const j of o[f].jumps[chain]) lines.push(j.replace(/^-A /, '-D '))
    for (const chain of PORTER_CHAINS) if (o[f].chains[chain] !== undefined) lines.push(`-F ${chain}`, `-X ${chain}`)
    if (lines.length) out[f] = ['*filter', ...lines, 'COMMIT', ''].join('\n')
  }
  return out
}
