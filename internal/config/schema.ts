// The one schema of porter.yaml. Every field is documented in README.md ("Configuration").
// Pure: no I/O. Values are checked here; cross-field rules live in validate.ts.
import * as z from 'zod'
// the one file, not the RIB's index: its other modules are not needed to check a config
import { parseCommunity } from '../bgp/rib/community.ts'
import { canonicalIp, isIP, parseIpv4, parsePrefixOrReason } from '../ip/index.ts'

// no generated (new Function) parsers: a config is parsed once, and compiling them cost more than
// they saved (first parse of a small config ~3 ms slower with them; no gain at 100k VIPs)
z.config({ jitless: true })

const quote = (v: unknown) => JSON.stringify(v)

/** time a graceful shutdown keeps, within shutdownTimeout, to send the withdrawals and close after its wait */
export const GRACEFUL_SHUTDOWN_MARGIN_MS = 2000

// The sections are z.lazy(): each is built on its first use, not when this module loads. Building
// the whole schema was a large part of `porter validate`'s start-up, and a config uses only a few
// sections (a section left out takes its default without being built). Same answers, same errors.

/**
 * `section.optional()` that leaves the lazy section unbuilt while its field is absent. An optional
 * field asks its schema whether it is a default (zod's `optin`) as soon as the enclosing object is
 * first parsed, and a z.lazy() builds its schema to answer; a section here (an object, a union) is
 * never a default, so the lazy is given that answer up front.
 */
function optionalSection<T extends z.ZodType>(section: z.ZodLazy<T>): z.ZodOptional<z.ZodLazy<T>> {
  section._zod.optin = undefined
  return section.optional()
}

/** canonical text (RFC 5952 for IPv6), a zone id ("%eth0") kept */
const canonical = (s: string): string => {
  const i = s.indexOf('%')
  const a = i < 0 ? s : s.slice(0, i)
  return (canonicalIp(a) ?? a) + (i < 0 ? '' : s.slice(i))
}

const ipText = z.string().refine((s) => isIP(s) !== 0, {
  error: (iss) => `${quote(iss.input)} is not an IP address`,
})
/** an IP address, in canonical text once parsed ("2001:DB8:0::2" -> "2001:db8::2") */
export const ipAddress = ipText.transform(canonical)
export const ipv4Address = z.string().refine((s) => isIP(s) === 4, {
  error: (iss) => `${quote(iss.input)} is not an IPv4 address`,
})

/**
 * "203.0.113.10", "203.0.113.10/32" or "2001:db8::10/128": a host address (VIP). A VIP's
 * `address` list holds, once parsed, the canonical addresses alone ("2001:DB8::10/128" ->
 * "2001:db8::10"); a canonical dotted quad stays the very string read (no copy: a config may
 * hold 100k of them).
 */
const isVipAddress = (s: string): boolean => {
  if (parseIpv4(s) >= 0) return true // the common case, without a split
  const [addr, len, extra] = s.split('/')
  if (extra !== undefined || addr === undefined) return false
  const fam = isIP(addr)
  if (fam === 0) return false
  if (len === undefined) return true
  return len === (fam === 4 ? '32' : '128')
}
const notVip = (v: unknown) => `${quote(v)} is not a host address (an IPv4 /32 or IPv6 /128)`
export const vipAddress = z.string().refine(isVipAddress, { error: (iss) => notVip(iss.input) })
/**
 * A list of VIP addresses: one check for the whole list, not a schema run per item (on a 100k
 * list zod's per-item work was most of the validation); each bad item still has its own path.
 */
const vipAddressList = z.array(z.string()).min(1).superRefine((list, ctx) => {
  for (let i = 0; i < list.length; i++) {
    const s = list[i] as string
    if (!isVipAddress(s)) ctx.addIssue({ code: 'custom', path: [i], input: s, message: notVip(s) })
  }
})

/** a valid VIP address -> the canonical address alone (the string itself when it is a canonical dotted quad) */
const vipHost = (s: string): string => {
  const slash = s.indexOf('/')
  const host = slash < 0 ? s : s.slice(0, slash)
  return parseIpv4(host) >= 0 ? host : canonicalIp(host) ?? host
}

const asn = z
  .number({ error: (iss) => `${quote(iss.input)} is not an AS number` })
  .int({ error: (iss) => `${quote(iss.input)} is not an AS number` })
  .min(1, { error: (iss) => `${quote(iss.input)} is not an AS number (1-4294967295)` })
  .max(4294967295, { error: (iss) => `${quote(iss.input)} is not an AS number (1-4294967295)` })

const port = z.number().int().min(1).max(65535)

/** Durations: a number of seconds or a string "500ms", "2s", "5m". Parsed to milliseconds. */
export const duration = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return Math.round(v * 1000)
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim())
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `${quote(v)} is not a duration (use e.g. "500ms", "2s", "5m")` })
    return z.NEVER
  }
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h']
  return Math.round(Number(m[1]) * mult)
})

const community = z.string().refine(
  (s) => {
    try { parseCommunity(s); return true } catch { return false }
  },
  { error: (iss) => `${quote(iss.input)} is not a community (use "ASN:VALUE" with 16-bit parts, or a well-known name such as "no-export")` },
)
const largeCommunity = z.string().refine(
  (s) => {
    const m = /^(\d+):(\d+):(\d+)$/.exec(s)
    return !!m && [m[1], m[2], m[3]].every((x) => Number(x) <= 4294967295)
  },
  { error: (iss) => `${quote(iss.input)} is not a large community (use "GLOBAL:LOCAL1:LOCAL2" with 32-bit parts)` },
)

export const exportAttrs = z.lazy(() => z
  .object({
    communities: z.array(community).default([]),
    largeCommunities: z.array(largeCommunity).default([]),
    med: z.number().int().min(0).max(4294967295).optional(),
    localPref: z.number().int().min(0).max(4294967295).optional(),
    asPathPrepend: z.number().int().min(0).max(16).optional(),
  })
  .strict())

const family = z.enum(['ipv4-unicast', 'ipv6-unicast'])

export const peer = z.lazy(() => z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: (iss) => `${quote(iss.input)} is not a peer name (letters, digits, "_", ".", "-"; at most 64)` }).optional(),
    address: ipAddress,
    peerAs: asn,
    port: port.default(179),
    passive: z.boolean().default(false),
    holdTime: z.number().int().refine((v) => v === 0 || (v >= 3 && v <= 65535), { error: (iss) => `${quote(iss.input)} is not a hold time (0, or 3-65535 seconds)` }).optional(),
    connectRetry: z.number().int().min(1).max(3600).optional(),
    families: z.array(family).min(1).optional(),
    addPath: z.boolean().default(true),
    maxPrefixes: z.number().int().min(1).optional(),
    /** "as-given": the VIP's next hops (third party); "self": our own session address */
    nextHop: z.enum(['as-given', 'self']).default('as-given'),
    /** file holding the TCP MD5 key; never inline in the config so it never lands in logs or status */
    passwordFile: z.string().min(1).optional(),
    localAddress: ipAddress.optional(),
    /** eBGP only: TTL of our packets, for a router more than one hop away (default 1, as BIRD and FRR) */
    ebgpMultihop: z.number().int().min(1).max(255).optional(),
    /** GTSM (RFC 5082): send TTL 255 and drop the peer's packets below 254 */
    ttlSecurity: z.boolean().default(false),
    /** BFD (RFC 5880/5881 single hop) with the router: BFD down closes the BGP session at once */
    bfd: z.object({ enabled: z.boolean().default(true), ...bfdTimers(), auth: bfdAuth.optional() }).strict().optional(),
    export: exportAttrs.default({ communities: [], largeCommunities: [] }),
  })
  .strict())

/** BFD timers as the config gives them: milliseconds (10-60000) and a detect multiplier */
const bfdTimers = () => ({
  /** milliseconds: our desired min TX interval */
  minTx: z.number().int().min(10).max(60000).default(100),
  /** milliseconds: our required min RX interval */
  minRx: z.number().int().min(10).max(60000).default(100),
  /** detect multiplier */
  multiplier: z.number().int().min(1).max(255).default(3),
})

/**
 * BFD authentication (RFC 5880 6.7.4), the same on the other side (the router; for node liveness
 * the controller and the agents): every packet signed with SHA1 and a sequence number; the key
 * (1-20 bytes) from a file, never inline, never logged (read by secret.ts)
 */
const bfdAuth = z.object({
  type: z.enum(['keyed-sha1', 'meticulous-keyed-sha1']).default('meticulous-keyed-sha1'),
  keyId: z.number().int().min(0).max(255).default(1),
  keyFile: z.string().min(1),
}).strict()

/** node liveness: the UDP port the agents receive BFD on (RFC 5881's 3784; another where a controller shares the node) */
const livenessPort = () => port.default(3784)

export const healthCheck = z.lazy(() => z.discriminatedUnion('type', [
  z.object({
    type: z.literal('tcp'),
    port: port,
    interval: duration.default(2000),
    timeout: duration.default(1000),
    rise: z.number().int().min(1).max(100).default(2),
    fall: z.number().int().min(1).max(100).default(3),
  }).strict(),
  z.object({
    type: z.enum(['http', 'https']),
    port: port.optional(),
    path: z.string().startsWith('/').default('/'),
    expectStatus: z.number().int().min(100).max(599).default(200),
    host: z.string().optional(),
    insecure: z.boolean().default(false),
    interval: duration.default(2000),
    timeout: duration.default(1000),
    rise: z.number().int().min(1).max(100).default(2),
    fall: z.number().int().min(1).max(100).default(3),
  }).strict(),
  z.object({
    type: z.literal('exec'),
    command: z.array(z.string().min(1)).min(1),
    interval: duration.default(2000),
    timeout: duration.default(1000),
    rise: z.number().int().min(1).max(100).default(2),
    fall: z.number().int().min(1).max(100).default(3),
  }).strict(),
  /** node liveness: one BFD session per next-hop address (its agent's agent.liveness); healthy while Up */
  z.object({ type: z.literal('bfd'), ...bfdTimers(), port: livenessPort(), auth: bfdAuth.optional() }).strict(),
]))

// the transform sits outside the union: inside it, zod reports a bad string as "Invalid input"
export const nextHop = z.lazy(() => z
  .union([ipText, z.object({ address: ipText, check: optionalSection(healthCheck) }).strict()], {
    error: (iss) => `${quote(iss.input)} is not a next hop (an IP address, or { address, check })`,
  })
  .transform((v) => (typeof v === 'string' ? { address: canonical(v), check: undefined as z.output<typeof healthCheck> | undefined } : { ...v, address: canonical(v.address) })))

export const vip = z.lazy(() => z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
    /** one address or a list in the file; always a list once parsed */
    address: z.union([vipAddress, vipAddressList]).transform((a) => (typeof a === 'string' ? [a] : a).map(vipHost)),
    nextHops: z.array(nextHop).default([]),
    check: optionalSection(healthCheck),
    export: exportAttrs.default({ communities: [], largeCommunities: [] }),
  })
  .strict())

export const bgp = z.lazy(() => z
  .object({
    localAs: asn,
    routerId: ipv4Address,
    listenAddress: ipAddress.default('0.0.0.0'),
    listenPort: z.number().int().min(0).max(65535).default(179),
    holdTime: z.number().int().refine((v) => v === 0 || (v >= 3 && v <= 65535), { error: (iss) => `${quote(iss.input)} is not a hold time (0, or 3-65535 seconds)` }).default(90),
    connectRetry: z.number().int().min(1).max(3600).default(120),
    gracefulRestart: z.object({ enabled: z.boolean().default(true), restartTime: z.number().int().min(1).max(4095).default(120) }).strict().default({ enabled: true, restartTime: 120 }),
    /**
     * RFC 8326 on stop (SIGTERM/SIGINT): re-announce every route with GRACEFUL_SHUTDOWN (and
     * LOCAL_PREF 0 to iBGP peers), wait `wait`, withdraw everything, then Cease. Absent: a stop
     * closes the sessions (silently with graceful restart, so routers keep the routes for restartTime)
     */
    gracefulShutdown: z.object({ enabled: z.boolean().default(true), wait: duration.default(5000) }).strict().optional(),
    peers: z.array(peer).default([]),
  })
  .strict()
  .superRefine((b, ctx) => {
    b.peers.forEach((p, i) => {
      // RFC 4271 5.1.5: LOCAL_PREF goes to internal peers only; Porter would drop it silently
      if (p.export.localPref !== undefined && p.peerAs !== b.localAs) {
        ctx.addIssue({ code: 'custom', path: ['peers', i, 'export', 'localPref'], message: `LOCAL_PREF is sent to iBGP peers only, and this peer is eBGP (peerAs ${p.peerAs}, localAs ${b.localAs}): remove it, or use med or asPathPrepend` })
      }
      if (p.ebgpMultihop !== undefined && p.peerAs === b.localAs) {
        ctx.addIssue({ code: 'custom', path: ['peers', i, 'ebgpMultihop'], message: `ebgpMultihop is for eBGP peers, and this peer is iBGP (peerAs ${p.peerAs} = localAs): iBGP packets already go out with the system's TTL (64); remove it` })
      }
      if (p.bfd?.enabled && p.ebgpMultihop !== undefined && p.ebgpMultihop > 1) {
        ctx.addIssue({ code: 'custom', path: ['peers', i, 'bfd'], message: `BFD here is single hop (RFC 5881: TTL 255, the router on a shared link), and ebgpMultihop ${p.ebgpMultihop} says the router is further away: remove one of them` })
      }
      if (p.ebgpMultihop !== undefined && p.ttlSecurity) {
        ctx.addIssue({ code: 'custom', path: ['peers', i, 'ttlSecurity'], message: 'ttlSecurity (GTSM) sends TTL 255 and accepts only 254 or more, so the router must be at most one hop away: it excludes ebgpMultihop; remove one of them' })
      }
    })
  }))

export const kubernetes = z.lazy(() => z
  .object({
    enabled: z.boolean().default(false),
    kubeconfig: z.string().optional(),
    inCluster: z.boolean().default(false),
    nodeName: z.string().optional(),
    /** Porter's spec.loadBalancerClass (default porter.kubesphere.io/bgp); Services without a class opt in with the annotation lb.kubesphere.io/v1alpha1 */
    loadBalancerClass: z.string().min(1).optional(),
    /**
     * controller: a cordoned node (spec.unschedulable, the first step of `kubectl drain`) keeps its
     * next hops for `wait` with GRACEFUL_SHUTDOWN (RFC 8326), then they are withdrawn (never a
     * VIP's last). Absent: cordoned nodes stay next hops like any other
     */
    drainCordoned: z.object({ enabled: z.boolean().default(true), wait: duration.default(10_000) }).strict().optional(),
    /**
     * controller: a node whose endpoints of a Local Service are all serving-terminating (a
     * rollout's leaving pods) while other nodes have ready ones keeps its next hop for that VIP
     * with GRACEFUL_SHUTDOWN while they serve, at most `wait`, then it is withdrawn. Absent: withdrawn at once
     */
    drainTerminating: z.object({ enabled: z.boolean().default(true), wait: duration.default(30_000) }).strict().optional(),
    /**
     * agent: per-node speaker from Kubernetes: peer with the BgpPeers annotated
     * porter.kubesphere.io/speaker: node whose spec.nodeSelector selects this node (AS from the
     * BgpConf "default"; router ID: the node's IPv4 InternalIP). Needs RBAC
     * build/kubernetes/per-node/agent-bgp-rbac.yaml
     */
    bgpPeers: z.boolean().default(false),
    /** controller: one replica (the Lease holder) allocates and writes; every replica announces */
    leaderElection: z
      .object({
        enabled: z.boolean().default(true),
        /** default: $POD_NAMESPACE, else porter-system */
        namespace: z.string().min(1).optional(),
        name: z.string().min(1).default('porter-controller'),
        /** default: $POD_NAME, else the hostname */
        identity: z.string().min(1).optional(),
        leaseDuration: duration.default(15_000),
        renewDeadline: duration.default(10_000),
        retryPeriod: duration.default(2_000),
      })
      .strict()
      .refine((l) => l.renewDeadline < l.leaseDuration && l.retryPeriod < l.renewDeadline, { error: 'needs retryPeriod < renewDeadline < leaseDuration' })
      .default({ enabled: true, name: 'porter-controller', leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 }),
    /** controller: a BFD session with every node that is a Service's next hop (its agent's agent.liveness); only live nodes are announced */
    nodeLiveness: z.object({ ...bfdTimers(), port: livenessPort(), auth: bfdAuth.optional() }).strict().optional(),
  })
  .strict())

/** an address (a session we start) or a CIDR (sessions we accept from inside it), canonical once parsed */
const livenessPeer = z.string().transform((s, ctx) => {
  if (!s.includes('/')) {
    if (isIP(s) !== 0) return canonical(s)
    ctx.addIssue({ code: 'custom', message: `${quote(s)} is not an IP address or a CIDR` })
    return z.NEVER
  }
  const r = parsePrefixOrReason(s)
  if (typeof r !== 'string') return r.text
  ctx.addIssue({ code: 'custom', message: `${quote(s)} is not an IP address or a CIDR: ${r}` })
  return z.NEVER
})

export const agent = z.lazy(() => z
  .object({
    interface: z.string().regex(/^[A-Za-z0-9_.@-]{1,15}$/, { error: (iss) => `${quote(iss.input)} is not an interface name` }).default('lo'),
    firewall: z.enum(['auto', 'nftables', 'iptables', 'none']).default('auto'),
    /** address: VIPs as /32 and /128 addresses on the interface; local-route: as `local` routes (protocol 0x50) */
    mode: z.enum(['address', 'local-route']).default('address'),
    /** an existing nft chain ("family table chain") that drops forwarded traffic: Porter inserts one accept rule there */
    nftAcceptChain: z.string().optional(),
    reconcileInterval: duration.default(30_000),
    /** the addresses by which this host is a next hop: VIPs whose next hops include one of them are programmed here */
    nodeAddresses: z.array(ipAddress).default([]),
    /** node liveness: a BFD session with each controller address (the controller's `check: { type: bfd }`) */
    liveness: z.object({
      peers: z.array(livenessPeer).min(1).superRefine((list, ctx) => {
        list.forEach((a, i) => { if (list.indexOf(a) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `${quote(a)} is listed twice (one BFD session per controller address)` }) })
      }),
      ...bfdTimers(),
      port: livenessPort(),
      auth: bfdAuth.optional(),
    }).strict().optional(),
  })
  .strict())

/**
 * "127.0.0.1:9477" or "[::1]:9477": a literal IP (IPv6 in brackets) and a port 1-65535.
 * Pure; the metrics listener binds exactly this. Returns the reason when `s` is not one.
 */
export function parseHostPort(s: string): { host: string; port: number } | { error: string } {
  const example = 'use e.g. "127.0.0.1:9477" or "[::1]:9477"'
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(s) ?? /^([^:[\]]*):([^:]*)$/.exec(s)
  if (!m) {
    if (isIP(s) === 6 && !s.startsWith('[')) return { error: `${quote(s)} has no port: put the IPv6 address in brackets and add ":PORT" (${example})` }
    if (!s.includes(':') || /^\[[^\]]*\]$/.test(s)) return { error: `${quote(s)} has no port (${example})` }
    return { error: `${quote(s)} is not IP:PORT (${example}; an IPv6 address goes in brackets)` }
  }
  const [, host, portText] = m as unknown as [string, string, string]
  const bracketed = s.startsWith('[')
  const fam = isIP(host)
  if (fam === 0) return { error: `${quote(s)}: ${quote(host)} is not an IP address (a literal IP is needed, no host names; ${example})` }
  if (fam === 4 && bracketed) return { error: `${quote(s)}: brackets are for IPv6 addresses only (${example})` }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return { error: `${quote(s)}: ${quote(portText)} is not a port (1-65535)` }
  return { host, port: Number(portText) }
}

export const hostPort = z
  .string({ error: (iss) => `${quote(iss.input)} is not an address and port (use a quoted string such as "127.0.0.1:9477" or "[::1]:9477")` })
  .superRefine((s, ctx) => {
    const r = parseHostPort(s)
    if ('error' in r) ctx.addIssue({ code: 'custom', message: r.error })
  })

export const admin = z.lazy(() => z
  .object({
    /** default: /run/porter/porter.sock (controller), /run/porter-agent/porter.sock (agent) */
    socket: z.string().min(1).optional(),
    /** "IP:PORT" of the Prometheus listener (/metrics, /healthz, /readyz); none: off. Any IP is accepted: bind it to loopback */
    metricsAddress: hostPort.optional(),
  })
  .strict())

export const configSchema = z
  .object({
    log: z.object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') }).strict().default({ level: 'info' }),
    bgp: optionalSection(bgp),
    vips: z.array(vip).default([]),
    kubernetes: kubernetes.default({ enabled: false, inCluster: false, bgpPeers: false, leaderElection: { enabled: true, name: 'porter-controller', leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 } }),
    agent: agent.default({ interface: 'lo', firewall: 'auto', mode: 'address', reconcileInterval: 30_000, nodeAddresses: [] }),
    admin: admin.default({}),
    shutdownTimeout: duration.default(10_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    const gs = c.bgp?.gracefulShutdown
    // the stop must fit in shutdownTimeout: the wait, then a moment to send the withdrawals
    if (gs?.enabled && gs.wait + GRACEFUL_SHUTDOWN_MARGIN_MS > c.shutdownTimeout) {
      ctx.addIssue({ code: 'custom', path: ['bgp', 'gracefulShutdown', 'wait'], message: `a graceful shutdown waits ${gs.wait} ms and then withdraws the routes, all within shutdownTimeout (${c.shutdownTimeout} ms): make wait at least ${GRACEFUL_SHUTDOWN_MARGIN_MS} ms shorter than shutdownTimeout, or raise shutdownTimeout` })
    }
  })

export type ConfigInput = z.input<typeof configSchema>
export type Config = z.output<typeof configSchema>
export type PeerConfig = z.output<typeof peer>
export type VipConfig = z.output<typeof vip>
export type HealthCheckConfig = z.output<typeof healthCheck>
export type BfdAuthConfig = z.output<typeof bfdAuth>
export type ExportAttrsConfig = z.output<typeof exportAttrs>
