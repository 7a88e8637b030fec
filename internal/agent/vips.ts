// PURE: which VIPs this node serves, and their validation / canonical form.
import { PorterError } from '../errors/index.ts'
import { canonicalIp, isIP } from '../ip/index.ts'
import type { Config } from '../config/index.ts'

import type { Family } from '../ip/index.ts'
export type { Family }
/** A VIP in canonical form (no prefix length; IPv6 lower case and compressed). */
export interface Vip { address: string; family: Family }
/** What setDesired accepts: "192.0.2.10", "192.0.2.10/32", "2001:db8::10/128", or a Vip. */
export type VipInput = string | { address: string; family?: Family }

/** Parse one VIP; returns an error message instead of throwing. */
export function parseVip(input: VipInput): Vip | string {
  const text = typeof input === 'string' ? input : input?.address
  if (typeof text !== 'string') return `${JSON.stringify(input)} is not a VIP (an IPv4 /32 or IPv6 /128 address)`
  const [addr, len, extra] = text.trim().split('/')
  const fam = addr === undefined ? 0 : isIP(addr)
  if (extra !== undefined || fam === 0 || addr!.includes('%')) return `"${text}" is not a VIP (an IPv4 /32 or IPv6 /128 address)`
  if (len !== undefined && len !== (fam === 4 ? '32' : '128')) return `"${text}" is not a host address: use /${fam === 4 ? 32 : 128} or no prefix length`
  const family = fam as Family
  if (typeof input !== 'string' && input.family !== undefined && input.family !== family) return `"${text}" is not an IPv${input.family} address`
  const address = canonicalIp(addr!)!
  if (family === 4 && (address.startsWith('0.') || address === '255.255.255.255' || /^(22[4-9]|23\d|24\d|25[0-5])\./.test(address))) {
    return `"${text}" cannot be a VIP (unspecified, multicast or broadcast address)`
  }
  if (family === 6 && (address === '::' || address.startsWith('ff') || address.startsWith('::ffff:'))) {
    return `"${text}" cannot be a VIP (unspecified, multicast or IPv4-mapped address)`
  }
  return { address, family }
}

/**
 * Validate and canonicalise a desired VIP list (duplicates collapse). Throws one PorterError
 * (PORTER_ERR_CONFIG_INVALID) listing every invalid entry; nothing is applied then.
 */
export function normalizeVips(inputs: readonly VipInput[]): Vip[] {
  const errors: string[] = []
  const seen = new Map<string, Vip>()
  inputs.forEach((v, i) => {
    const r = parseVip(v)
    if (typeof r === 'string') errors.push(`vips[${i}]: ${r}`)
    else if (!seen.has(r.address)) seen.set(r.address, r)
  })
  if (errors.length) throw new PorterError('PORTER_ERR_CONFIG_INVALID', `Cannot program the VIPs: ${errors.join('; ')}`)
  return [...seen.values()]
}

/**
 * The VIPs of the config's `vips` section this host serves without Kubernetes: those with a
 * next hop equal to one of `agent.nodeAddresses`. Health gating is applied later, by calling
 * the agent's setDesired with a filtered list.
 */
export function vipsForNode(config: Pick<Config, 'vips' | 'agent'>): Vip[] {
  const mine = new Set(config.agent.nodeAddresses.map((a) => canonicalIp(a) ?? a))
  const out: VipInput[] = []
  for (const v of config.vips) {
    if (!v.nextHops.some((nh) => mine.has(canonicalIp(nh.address) ?? nh.address))) continue
    for (const a of v.address) out.push(a)
  }
  return normalizeVips(out)
}
