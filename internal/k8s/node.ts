// PURE: the name of the node this agent runs on, as EndpointSlices spell it (endpoints[].nodeName).
import type { Config } from '../config/index.ts'

/** `kubernetes.nodeName`, else $NODE_NAME (the Downward API's spec.nodeName), else the hostname. */
export function resolveNodeName(cfg: Pick<Config['kubernetes'], 'nodeName'>, env: Readonly<Record<string, string | undefined>>, hostname: string): string {
  const pick = [cfg.nodeName, env.NODE_NAME, hostname].find((x) => typeof x === 'string' && x.trim() !== '')
  return (pick ?? hostname).trim()
}
