// The one schema of porter.yaml. Every field is documented in README.md ("Configuration").
// Pure: no I/O. Values are checked here; cross-field rules live in load.ts (crossCheck).
//
// valibot, not zod: a valibot schema is a plain object of functions, built in microseconds,
// where zod's schema classes cost `porter validate` ~26 ms of its start-up (zod/mini ~10 ms;
// measured cold, with code caches: test/bench/README.md) against a target of 1.2 x `node -e 0`.
// A message no field words itself reads as it did with zod (defaultMessage).
import * as v from 'valibot'
// the one file, not the RIB's index: its other modules are not needed to check a config
import { parseCommunity } from '../bgp/rib/community.ts'
import { canonicalIp, isIP, isIpv4, parsePrefixOrReason } from '../ip/index.ts'

/** a value as the messages show it: JSON, but .inf and .nan as Infinity and NaN (JSON says null) */
const quote = (x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : JSON.stringify(x))

/** time a graceful shutdown keeps, within shutdownTimeout, to send the withdrawals and close after its wait */
export const GRACEFUL_SHUTDOWN_MARGIN_MS = 2000

/** issue path items for a check that reports below the value it checks (rawCheck): only the keys are read */
const at = (...keys: (string | number)[]): [v.IssuePathItem, ...v.IssuePathItem[]] =>
  keys.map((key) => ({ type: 'object', origin: 'value', input: undefined, key, value: undefined })) as unknown as [v.IssuePathItem, ...v.IssuePathItem[]]

/** canonical text (RFC 5952 for IPv6), a zone id ("%eth0") kept */
const canonical = (s: string): string => {
  const i = s.indexOf('%')
  const a = i < 0 ? s : s.slice(0, i)
  return (canonicalIp(a) ?? a) + (i < 0 ? '' : s.slice(i))
}

/** what a value is, as the messages name it ("array", "null", "Infinity") */
function typeName(x: unknown): string {
  if (x === null) return 'null'
  if (Array.isArray(x)) return 'array'
  if (typeof x === 'number') return Number.isNaN(x) ? 'NaN' : Number.isFinite(x) ? 'number' : String(x)
  return typeof x
}
const notA = (expected: string) => (iss: { input: unknown }) => `Invalid input: expected ${expected}, received ${typeName(iss.input)}`

/** a finite number: YAML's .inf and .nan are not one (valibot's number() takes Infinity) */
const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x)
const number = (message: (iss: { input: unknown }) => string = notA('number')) => v.custom<number>(isNumber, message)
/** an integer: a type, not a check, so a fraction is not also reported out of range */
const integer = (message: (iss: { input: unknown }) => string = notA('int')) => v.custom<number>(Number.isInteger, message)

const isMapping = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x)
/** a schema that takes nothing: the message says what was expected */
const refuse = (message: (iss: { input: unknown }) => string) => v.custom<never>(() => false, message)
const UNKNOWN_FIELD = 'unknown field'

/**
 * A YAML mapping with these fields and no other, every unknown field reported (valibot's
 * strictObject reports the first only, passes "toString" and the like, and takes an array as an
 * object). The unknown fields are read from the input, which lazy() sees; none costs nothing.
 */
const strict = <E extends v.ObjectEntries>(entries: E) => {
  const schema = v.pipe(v.custom<Record<string, unknown>>((x) => !Array.isArray(x), notA('object')), v.object(entries))
  return v.lazy((input) => {
    if (!isMapping(input)) return schema
    const unknown = Object.keys(input).filter((k) => !Object.hasOwn(entries, k))
    if (unknown.length === 0) return schema
    return v.pipe(schema, v.rawCheck(({ addIssue }) => {
      for (const k of unknown) addIssue({ expected: 'never', received: quote(k), path: at(k), message: UNKNOWN_FIELD })
    }))
  })
}

const ipText = v.pipe(v.string(), v.check((s) => isIP(s) !== 0, (iss) => `${quote(iss.input)} is not an IP address`))
/** an IP address, in canonical text once parsed ("2001:DB8:0::2" -> "2001:db8::2") */
export const ipAddress = v.pipe(ipText, v.transform(canonical))
export const ipv4Address = v.pipe(v.string(), v.check((s) => isIP(s) === 4, (iss) => `${quote(iss.input)} is not an IPv4 address`))

/**
 * "203.0.113.10", "203.0.113.10/32" or "2001:db8::10/128": a host address (VIP). A VIP's
 * `address` list holds, once parsed, the canonical addresses alone ("2001:DB8::10/128" ->
 * "2001:db8::10"); a canonical dotted quad stays the very string read (no copy: a config may
 * hold 100k of them).
 */
const isVipAddress = (s: string): boolean => {
  if (isIpv4(s)) return true // the common case, without a split
  const [addr, len, extra] = s.split('/')
  if (extra !== undefined || addr === undefined) return false
  const fam = isIP(addr)
  if (fam === 0) return false
  if (len === undefined) return true
  return len === (fam === 4 ? '32' : '128')
}
const notVip = (x: unknown) => `${quote(x)} is not a host address (an IPv4 /32 or IPv6 /128)`
export const vipAddress = v.pipe(v.string(), v.check(isVipAddress, (iss) => notVip(iss.input)))
/**
 * A list of VIP addresses: one check for the whole list, not a schema run per item (on a 100k
 * list a run per item was most of the validation); each bad item still has its own path.
 */
const vipAddressList = v.pipe(
  // not v.array(v.string()): that allocates a result per item, half of what a 100k-VIP reload allocated
  v.custom<unknown[]>(Array.isArray, notA('array')),
  v.minLength(1),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const list = dataset.value
    let quads = true
    for (let i = 0; i < list.length; i++) {
      const s = list[i]
      if (typeof s === 'string' && isIpv4(s)) continue
      quads = false
      if (typeof s !== 'string') addIssue({ input: s, path: at(i), message: notA('string')({ input: s }) })
      else if (!isVipAddress(s)) addIssue({ input: s, path: at(i), message: notVip(s) })
    }
    if (quads) dottedQuadLists.add(list)
  }),
)
/** lists vipAddressList found to be dotted quads only, canonical as they are: canonicalList keeps them without a second look */
const dottedQuadLists = new WeakSet<unknown[]>()

/** a valid VIP address -> the canonical address alone (the string itself when it is a canonical dotted quad) */
const vipHost = (s: string): string => {
  const slash = s.indexOf('/')
  const host = slash < 0 ? s : s.slice(0, slash)
  return isIpv4(host) ? host : canonicalIp(host) ?? host
}

/** an integer in [min, max] */
const int = (min: number, max: number) => v.pipe(number(), integer(), v.minValue(min), v.maxValue(max))

const notAsn = (x: unknown) => `${quote(x)} is not an AS number`
const asn = v.pipe(
  number((iss) => notAsn(iss.input)),
  integer((iss) => notAsn(iss.input)),
  v.custom<number>((n) => (n as number) >= 1 && (n as number) <= 4294967295, (iss) => `${notAsn(iss.input)} (1-4294967295)`),
)

const port = int(1, 65535)

const holdTime = v.pipe(number(), integer(), v.check((n) => n === 0 || (n >= 3 && n <= 65535), (iss) => `${quote(iss.input)} is not a hold time (0, or 3-65535 seconds)`))

/**
 * Durations: a number of seconds or a string "500ms", "2s", "5m". Parsed to milliseconds. A
 * default is given as the file would say it ("2s"): valibot parses defaults too.
 */
export const duration = v.pipe(
  v.union([v.pipe(number(), v.minValue(0)), v.string()]),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const x = dataset.value
    if (typeof x === 'number') return Math.round(x * 1000)
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(x.trim())
    if (!m) {
      addIssue({ message: `${quote(x)} is not a duration (use e.g. "500ms", "2s", "5m")` })
      return NEVER
    }
    const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h']
    return Math.round(Number(m[1]) * mult)
  }),
)

const community = v.pipe(
  v.string(),
  v.check(
    (s) => {
      try { parseCommunity(s); return true } catch { return false }
    },
    (iss) => `${quote(iss.input)} is not a community (use "ASN:VALUE" with 16-bit parts, or a well-known name such as "no-export")`,
  ),
)
const largeCommunity = v.pipe(
  v.string(),
  v.check(
    (s) => {
      const m = /^(\d+):(\d+):(\d+)$/.exec(s)
      return !!m && [m[1], m[2], m[3]].every((x) => Number(x) <= 4294967295)
    },
    (iss) => `${quote(iss.input)} is not a large community (use "GLOBAL:LOCAL1:LOCAL2" with 32-bit parts)`,
  ),
)

export const exportAttrs = strict({
  communities: v.optional(v.array(community), []),
  largeCommunities: v.optional(v.array(largeCommunity), []),
  med: v.optional(int(0, 4294967295)),
  localPref: v.optional(int(0, 4294967295)),
  asPathPrepend: v.optional(int(0, 16)),
})

const family = v.picklist(['ipv4-unicast', 'ipv6-unicast'])

/** BFD timers as the config gives them: milliseconds (10-60000) and a detect multiplier */
const bfdTimers = {
  /** milliseconds: our desired min TX interval */
  minTx: v.optional(int(10, 60000), 100),
  /** milliseconds: our required min RX interval */
  minRx: v.optional(int(10, 60000), 100),
  /** detect multiplier */
  multiplier: v.optional(int(1, 255), 3),
}

/**
 * BFD authentication (RFC 5880 6.7.4), the same on the other side (the router; for node liveness
 * the controller and the agents): every packet signed with SHA1 and a sequence number; the key
 * (1-20 bytes) from a file, never inline, never logged (read by secret.ts)
 */
const bfdAuth = strict({
  type: v.optional(v.picklist(['keyed-sha1', 'meticulous-keyed-sha1']), 'meticulous-keyed-sha1'),
  keyId: v.optional(int(0, 255), 1),
  keyFile: v.pipe(v.string(), v.minLength(1)),
})

/** node liveness: the UDP port the agents receive BFD on (RFC 5881's 3784; another where a controller shares the node) */
const livenessPort = v.optional(port, 3784)

export const peer = strict({
  name: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]{1,64}$/, (iss) => `${quote(iss.input)} is not a peer name (letters, digits, "_", ".", "-"; at most 64)`))),
  address: ipAddress,
  peerAs: asn,
  port: v.optional(port, 179),
  passive: v.optional(v.boolean(), false),
  holdTime: v.optional(holdTime),
  connectRetry: v.optional(int(1, 3600)),
  families: v.optional(v.pipe(v.array(family), v.minLength(1))),
  addPath: v.optional(v.boolean(), true),
  maxPrefixes: v.optional(v.pipe(number(), integer(), v.minValue(1))),
  /** "as-given": the VIP's next hops (third party); "self": our own session address */
  nextHop: v.optional(v.picklist(['as-given', 'self']), 'as-given'),
  /** file holding the TCP MD5 key; never inline in the config so it never lands in logs or status */
  passwordFile: v.optional(v.pipe(v.string(), v.minLength(1))),
  localAddress: v.optional(ipAddress),
  /** eBGP only: TTL of our packets, for a router more than one hop away (default 1, as BIRD and FRR) */
  ebgpMultihop: v.optional(int(1, 255)),
  /** GTSM (RFC 5082): send TTL 255 and drop the peer's packets below 254 */
  ttlSecurity: v.optional(v.boolean(), false),
  /** BFD (RFC 5880/5881 single hop) with the router: BFD down closes the BGP session at once */
  bfd: v.optional(strict({ enabled: v.optional(v.boolean(), true), ...bfdTimers, auth: v.optional(bfdAuth) })),
  export: v.optional(exportAttrs, {}),
})

const checkTimers = {
  interval: v.optional(duration, '2s'),
  timeout: v.optional(duration, '1s'),
  rise: v.optional(int(1, 100), 2),
  fall: v.optional(int(1, 100), 3),
}

const httpCheck = strict({
  type: v.picklist(['http', 'https']),
  port: v.optional(port),
  path: v.optional(v.pipe(v.string(), v.startsWith('/')), '/'),
  expectStatus: v.optional(int(100, 599), 200),
  host: v.optional(v.string()),
  insecure: v.optional(v.boolean(), false),
  ...checkTimers,
})
/** the health checks by `type` */
const CHECKS = {
  tcp: strict({ type: v.literal('tcp'), port, ...checkTimers }),
  http: httpCheck,
  https: httpCheck,
  exec: strict({ type: v.literal('exec'), command: v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1)), ...checkTimers }),
  /** node liveness: one BFD session per next-hop address (its agent's agent.liveness); healthy while Up */
  bfd: strict({ type: v.literal('bfd'), ...bfdTimers, port: livenessPort, auth: v.optional(bfdAuth) }),
}
type CheckSchema = (typeof CHECKS)[keyof typeof CHECKS]
/** an unknown or missing `type`: that field alone is reported */
const unknownCheck = v.object({ type: refuse(() => `Invalid discriminator value. Expected ${Object.keys(CHECKS).map((k) => `'${k}'`).join(' | ')}`) })
const notMapping = refuse(notA('object'))
/** one of CHECKS, picked by `type` (a variant whose every option reports all its unknown fields) */
export const healthCheck = v.lazy((x): CheckSchema => {
  if (!isMapping(x)) return notMapping as unknown as CheckSchema
  const type = x.type
  return typeof type === 'string' && Object.hasOwn(CHECKS, type) ? CHECKS[type as keyof typeof CHECKS] : (unknownCheck as unknown as CheckSchema)
})

type Check = v.InferOutput<typeof healthCheck>

const nextHopObject = strict({ address: ipText, check: v.optional(healthCheck) })
const notNextHop = refuse((iss) => `${quote(iss.input)} is not a next hop (an IP address, or { address, check })`)
/** an address, or { address, check }; canonical addresses once parsed */
export const nextHop = v.pipe(
  v.lazy((x) => (typeof x === 'string' ? ipText : isMapping(x) ? nextHopObject : (notNextHop as unknown as typeof ipText))),
  v.transform((x): { address: string; check?: Check | undefined } => (typeof x === 'string' ? { address: canonical(x), check: undefined } : { ...x, address: canonical(x.address) })),
)

/** valid VIP addresses, canonical: the list itself when every one already is (a list of dotted quads), else a copy */
function canonicalList(list: string[]): string[] {
  if (dottedQuadLists.has(list)) return list
  for (let i = 0; i < list.length; i++) {
    const s = list[i] as string
    const h = vipHost(s)
    if (h === s) continue
    const out = list.slice(0, i)
    out.push(h)
    for (let j = i + 1; j < list.length; j++) out.push(vipHost(list[j] as string))
    return out
  }
  return list
}

const notVipValue = refuse((iss) => notVip(iss.input))
/** one address or a list in the file; always a list once parsed */
const vipAddresses = v.pipe(
  v.lazy((x) => (typeof x === 'string' ? vipAddress : Array.isArray(x) ? vipAddressList : (notVipValue as unknown as typeof vipAddress))),
  v.transform((a) => (typeof a === 'string' ? [vipHost(a)] : canonicalList(a as string[]))),
)

export const vip = strict({
  name: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]{1,64}$/))),
  address: vipAddresses,
  nextHops: v.optional(v.array(nextHop), []),
  check: v.optional(healthCheck),
  export: v.optional(exportAttrs, {}),
})

export const bgp = v.pipe(
  strict({
    localAs: asn,
    routerId: ipv4Address,
    listenAddress: v.optional(ipAddress, '0.0.0.0'),
    listenPort: v.optional(int(0, 65535), 179),
    holdTime: v.optional(holdTime, 90),
    connectRetry: v.optional(int(1, 3600), 120),
    gracefulRestart: v.optional(strict({ enabled: v.optional(v.boolean(), true), restartTime: v.optional(int(1, 4095), 120) }), {}),
    /**
     * RFC 8326 on stop (SIGTERM/SIGINT): re-announce every route with GRACEFUL_SHUTDOWN (and
     * LOCAL_PREF 0 to iBGP peers), wait `wait`, withdraw everything, then Cease. Absent: a stop
     * closes the sessions (silently with graceful restart, so routers keep the routes for restartTime)
     */
    gracefulShutdown: v.optional(strict({ enabled: v.optional(v.boolean(), true), wait: v.optional(duration, '5s') })),
    peers: v.optional(v.array(peer), []),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const b = dataset.value
    b.peers.forEach((p, i) => {
      // RFC 4271 5.1.5: LOCAL_PREF goes to internal peers only; Porter would drop it silently
      if (p.export.localPref !== undefined && p.peerAs !== b.localAs) {
        addIssue({ path: at('peers', i, 'export', 'localPref'), message: `LOCAL_PREF is sent to iBGP peers only, and this peer is eBGP (peerAs ${p.peerAs}, localAs ${b.localAs}): remove it, or use med or asPathPrepend` })
      }
      if (p.ebgpMultihop !== undefined && p.peerAs === b.localAs) {
        addIssue({ path: at('peers', i, 'ebgpMultihop'), message: `ebgpMultihop is for eBGP peers, and this peer is iBGP (peerAs ${p.peerAs} = localAs): iBGP packets already go out with the system's TTL (64); remove it` })
      }
      if (p.bfd?.enabled && p.ebgpMultihop !== undefined && p.ebgpMultihop > 1) {
        addIssue({ path: at('peers', i, 'bfd'), message: `BFD here is single hop (RFC 5881: TTL 255, the router on a shared link), and ebgpMultihop ${p.ebgpMultihop} says the router is further away: remove one of them` })
      }
      if (p.ebgpMultihop !== undefined && p.ttlSecurity) {
        addIssue({ path: at('peers', i, 'ttlSecurity'), message: 'ttlSecurity (GTSM) sends TTL 255 and accepts only 254 or more, so the router must be at most one hop away: it excludes ebgpMultihop; remove one of them' })
      }
    })
  }),
)

const name = v.pipe(v.string(), v.minLength(1))

export const kubernetes = strict({
  enabled: v.optional(v.boolean(), false),
  kubeconfig: v.optional(v.string()),
  inCluster: v.optional(v.boolean(), false),
  nodeName: v.optional(v.string()),
  /** Porter's spec.loadBalancerClass (default porter.kubesphere.io/bgp); Services without a class opt in with the annotation lb.kubesphere.io/v1alpha1 */
  loadBalancerClass: v.optional(name),
  /**
   * controller: a cordoned node (spec.unschedulable, the first step of `kubectl drain`) keeps its
   * next hops for `wait` with GRACEFUL_SHUTDOWN (RFC 8326), then they are withdrawn (never a
   * VIP's last). Absent: cordoned nodes stay next hops like any other
   */
  drainCordoned: v.optional(strict({ enabled: v.optional(v.boolean(), true), wait: v.optional(duration, '10s') })),
  /**
   * controller: a node whose endpoints of a Local Service are all serving-terminating (a
   * rollout's leaving pods) while other nodes have ready ones keeps its next hop for that VIP
   * with GRACEFUL_SHUTDOWN while they serve, at most `wait`, then it is withdrawn. Absent: withdrawn at once
   */
  drainTerminating: v.optional(strict({ enabled: v.optional(v.boolean(), true), wait: v.optional(duration, '30s') })),
  /**
   * agent: per-node speaker from Kubernetes: peer with the BgpPeers annotated
   * porter.kubesphere.io/speaker: node whose spec.nodeSelector selects this node (AS from the
   * BgpConf "default"; router ID: the node's IPv4 InternalIP). Needs RBAC
   * build/kubernetes/per-node/agent-bgp-rbac.yaml
   */
  bgpPeers: v.optional(v.boolean(), false),
  /** controller: one replica (the Lease holder) allocates and writes; every replica announces */
  leaderElection: v.optional(
    v.pipe(
      strict({
        enabled: v.optional(v.boolean(), true),
        /** default: $POD_NAMESPACE, else porter-system */
        namespace: v.optional(name),
        name: v.optional(name, 'porter-controller'),
        /** default: $POD_NAME, else the hostname */
        identity: v.optional(name),
        leaseDuration: v.optional(duration, '15s'),
        renewDeadline: v.optional(duration, '10s'),
        retryPeriod: v.optional(duration, '2s'),
      }),
      v.check((l) => l.renewDeadline < l.leaseDuration && l.retryPeriod < l.renewDeadline, 'needs retryPeriod < renewDeadline < leaseDuration'),
    ),
    {},
  ),
  /** controller: a BFD session with every node that is a Service's next hop (its agent's agent.liveness); only live nodes are announced */
  nodeLiveness: v.optional(strict({ ...bfdTimers, port: livenessPort, auth: v.optional(bfdAuth) })),
})

/** an address (a session we start) or a CIDR (sessions we accept from inside it), canonical once parsed */
const livenessPeer = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const s = dataset.value
    if (!s.includes('/')) {
      if (isIP(s) !== 0) return canonical(s)
      addIssue({ message: `${quote(s)} is not an IP address or a CIDR` })
      return NEVER
    }
    const r = parsePrefixOrReason(s)
    if (typeof r !== 'string') return r.text
    addIssue({ message: `${quote(s)} is not an IP address or a CIDR: ${r}` })
    return NEVER
  }),
)

export const agent = strict({
  interface: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.@-]{1,15}$/, (iss) => `${quote(iss.input)} is not an interface name`)), 'lo'),
  firewall: v.optional(v.picklist(['auto', 'nftables', 'iptables', 'none']), 'auto'),
  /** address: VIPs as /32 and /128 addresses on the interface; local-route: as `local` routes (protocol 0x50) */
  mode: v.optional(v.picklist(['address', 'local-route']), 'address'),
  /** an existing nft chain ("family table chain") that drops forwarded traffic: Porter inserts one accept rule there */
  nftAcceptChain: v.optional(v.string()),
  reconcileInterval: v.optional(duration, '30s'),
  /** the addresses by which this host is a next hop: VIPs whose next hops include one of them are programmed here */
  nodeAddresses: v.optional(v.array(ipAddress), []),
  /** node liveness: a BFD session with each controller address (the controller's `check: { type: bfd }`) */
  liveness: v.optional(strict({
    peers: v.pipe(
      v.array(livenessPeer),
      v.minLength(1),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return
        const list = dataset.value
        list.forEach((a, i) => { if (list.indexOf(a) !== i) addIssue({ path: at(i), message: `${quote(a)} is listed twice (one BFD session per controller address)` }) })
      }),
    ),
    ...bfdTimers,
    port: livenessPort,
    auth: v.optional(bfdAuth),
  })),
})

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

export const hostPort = v.pipe(
  v.string((iss) => `${quote(iss.input)} is not an address and port (use a quoted string such as "127.0.0.1:9477" or "[::1]:9477")`),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const r = parseHostPort(dataset.value)
    if ('error' in r) addIssue({ message: r.error })
  }),
)

export const admin = strict({
  /** default: /run/porter/porter.sock (controller), /run/porter-agent/porter.sock (agent) */
  socket: v.optional(name),
  /** "IP:PORT" of the Prometheus listener (/metrics, /healthz, /readyz); none: off. Any IP is accepted: bind it to loopback */
  metricsAddress: v.optional(hostPort),
})

const SECTIONS = {
  log: v.optional(strict({ level: v.optional(v.picklist(['trace', 'debug', 'info', 'warn', 'error', 'fatal']), 'info') }), {}),
  bgp: v.optional(bgp),
  vips: v.optional(v.array(vip), []),
  kubernetes: v.optional(kubernetes, {}),
  agent: v.optional(agent, {}),
  admin: v.optional(admin, {}),
  shutdownTimeout: v.optional(duration, '10s'),
}

const sections = strict(SECTIONS)

const config = v.pipe(
  sections,
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const c = dataset.value
    const gs = c.bgp?.gracefulShutdown
    // the stop must fit in shutdownTimeout: the wait, then a moment to send the withdrawals
    if (gs?.enabled && gs.wait + GRACEFUL_SHUTDOWN_MARGIN_MS > c.shutdownTimeout) {
      addIssue({ path: at('bgp', 'gracefulShutdown', 'wait'), message: `a graceful shutdown waits ${gs.wait} ms and then withdraws the routes, all within shutdownTimeout (${c.shutdownTimeout} ms): make wait at least ${GRACEFUL_SHUTDOWN_MARGIN_MS} ms shorter than shutdownTimeout, or raise shutdownTimeout` })
    }
  }),
)

export type Config = v.InferOutput<typeof config>
export type PeerConfig = v.InferOutput<typeof peer>
export type VipConfig = v.InferOutput<typeof vip>
export type HealthCheckConfig = Check
export type BfdAuthConfig = v.InferOutput<typeof bfdAuth>
export type ExportAttrsConfig = v.InferOutput<typeof exportAttrs>

/** One problem of a config: where (keys from the top), and what; unknown keys are listed at their object. */
export interface SchemaIssue {
  code: 'unrecognized_keys' | 'invalid'
  path: PropertyKey[]
  message: string
  /** code unrecognized_keys: the keys not known here */
  keys?: string[]
}

export type SchemaResult = { success: true; data: Config; error?: undefined } | { success: false; data?: undefined; error: { issues: SchemaIssue[] } }

/** '("a" | ("b" | "c"))' -> ['"a"', '"b"', '"c"'] */
const expectedValues = (expected: string | null): string[] => expected?.match(/"(?:[^"\\]|\\.)*"/g) ?? []

/** The message of an issue no field words itself (a type, a range, a length, a choice) */
function defaultMessage(iss: v.BaseIssue<unknown>): string {
  const req = iss.requirement as unknown
  switch (iss.type) {
    case 'min_value': return `Too small: expected number to be >=${String(req)}`
    case 'max_value': return `Too big: expected number to be <=${String(req)}`
    case 'min_length': return `Too small: expected ${typeName(iss.input)} to have >=${String(req)} ${Array.isArray(iss.input) ? 'items' : 'characters'}`
    case 'integer': return `Invalid input: expected int, received number`
    case 'regex': return `Invalid string: must match pattern ${String(req)}`
    case 'starts_with': return `Invalid string: must start with ${quote(req)}`
    case 'picklist':
    case 'literal': {
      const values = expectedValues(iss.expected)
      return values.length === 1 ? `Invalid input: expected ${values[0]}` : `Invalid option: expected one of ${values.join('|')}`
    }
    case 'union': return 'Invalid input'
  }
  return `Invalid input: expected ${(iss.expected ?? 'value').toLowerCase()}, received ${typeName(iss.input)}`
}

const PARSE_CONFIG = { message: defaultMessage }

/** valibot's issues -> SchemaIssue: keys for the path, an unknown key at its object */
function toIssue(iss: v.BaseIssue<unknown>): SchemaIssue {
  const path: PropertyKey[] = iss.path?.map((p) => p.key as PropertyKey) ?? []
  // a key the object does not know (strict()), or one it needs and the value lacks
  if (iss.type === 'raw_check' && iss.expected === 'never') {
    const key = String(path.pop())
    return { code: 'unrecognized_keys', path, keys: [key], message: `${UNKNOWN_FIELD} ${quote(key)}` }
  }
  if (iss.type === 'object' && path.length > 0 && iss.input === undefined) return { code: 'invalid', path, message: 'is required' }
  return { code: 'invalid', path, message: iss.message }
}

/** The config schema: `safeParse` for every problem at once, `parse` to throw them; `sections`, the top-level keys. */
export const configSchema = {
  sections: Object.keys(SECTIONS) as readonly string[],
  safeParse(input: unknown): SchemaResult {
    const r = v.safeParse(config, input, PARSE_CONFIG)
    return r.success ? { success: true, data: r.output } : { success: false, error: { issues: r.issues.map(toIssue) } }
  },
  parse(input: unknown): Config {
    const r = configSchema.safeParse(input)
    if (r.success) return r.data
    throw new Error(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'))
  },
}
