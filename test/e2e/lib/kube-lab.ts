// The controller lab: a real kube-apiserver (host loopback) reachable from Porter's namespace,
// Porter's CRDs and RBAC applied, a BIRD 2 router in its own namespace, and helpers to create
// the cluster objects a real cluster's other controllers would (Nodes, EndpointSlices).
import { copyFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startKubeApiServer, forwardIntoNetns, type KubeApiServer } from '../../lib/kube-apiserver.ts'
import { createLab, waitFor, type Lab, type TeardownHost } from './netns.ts'
import { Bird } from './bird.ts'
import { PorterProc } from './porter.ts'
import { ROOT } from '../../lib/cli.ts'
import { builtPorter } from '../../lib/dist.ts'

export const ROUTER_AS = 65001
export const PORTER_AS = 65002
export const USER = 'porter-controller'
/** a static-token user for agents; no rights unless a test binds the agent's roles to it */
export const AGENT_USER = 'porter-agent'
/** node name -> InternalIP (on the router's link, so BIRD installs them as next hops) */
export const NODES: Record<string, string> = { 'node-a': '192.0.2.11', 'node-b': '192.0.2.12', 'node-c': '192.0.2.13' }

export interface KubeLab {
  lab: Lab
  api: KubeApiServer
  /** the built dist/porter (a private copy: another test may rebuild dist/ meanwhile) */
  binary: string
  r: string
  bird: Bird
  /** Porter namespaces, one per replica: p1 192.0.2.2, p2 192.0.2.3, ... */
  porterNs: string[]
  kubeconfigs: string[]
  /** the same, for AGENT_USER */
  agentKubeconfigs: string[]
  kubectl(args: string[], input?: string): Promise<string>
  apply(yaml: string): Promise<string>
}


/** IPv6 InternalIPs of the nodes in a dual-stack lab (on the router's link too) */
export const NODES6: Record<string, string> = { 'node-a': '2001:db8::11', 'node-b': '2001:db8::12', 'node-c': '2001:db8::13' }

export async function kubeLab(t: TeardownHost, replicas = 1, opts: { apiserverArgs?: string[]; password?: string; dualStack?: boolean; birdImport?: string } = {}): Promise<KubeLab> {
  const api = await startKubeApiServer(t, {
    users: [{ name: USER }, { name: AGENT_USER }],
    ...(opts.apiserverArgs ? { extraArgs: opts.apiserverArgs } : {}),
    ...(opts.dualStack ? { serviceClusterIpRange: '198.19.0.0/16,2001:db8:96::/112' } : {}),
  })
  const lab = createLab(t)
  const r = await lab.ns('r')
  const porterNs: string[] = []
  const kubeconfigs: string[] = []
  const agentKubeconfigs: string[] = []
  const addrs = ['192.0.2.2', '192.0.2.3', '192.0.2.4']
  for (let i = 0; i < replicas; i++) porterNs.push(await lab.ns(`p${i + 1}`))
  // one L2 segment: the router and every replica
  await lab.bridge('sw', [{ ns: r, ifname: 'eth0' }, ...porterNs.map((ns) => ({ ns, ifname: 'eth0' }))])
  await lab.addr(r, 'eth0', '192.0.2.1/24')
  if (opts.dualStack) await lab.addr(r, 'eth0', '2001:db8::1/64')
  for (let i = 0; i < replicas; i++) {
    await lab.addr(porterNs[i]!, 'eth0', `${addrs[i]}/24`)
    if (opts.dualStack) await lab.addr(porterNs[i]!, 'eth0', `2001:db8::${i + 2}/64`)
    const fwd = await forwardIntoNetns(api, porterNs[i]!)
    kubeconfigs.push(fwd.kubeconfig(USER))
    agentKubeconfigs.push(fwd.kubeconfig(AGENT_USER))
  }
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: porterNs.map((_, i) => ({ address: addrs[i]!, as: PORTER_AS, passive: true, name: `porter${i + 1}`, holdTime: 9, ...(opts.password ? { password: opts.password } : {}), ...(opts.birdImport ? { importFilter: opts.birdImport } : {}), ...(opts.dualStack ? { families: ['ipv4', 'ipv6'] as ('ipv4' | 'ipv6')[] } : {}) })) })
  await bird.start()
  const kubectl = async (args: string[], input?: string) => (await api.kubectl(args, input !== undefined ? { input } : {})).stdout
  const apply = (yaml: string) => kubectl(['apply', '-f', '-'], yaml)
  await kubectl(['apply', '-f', join(ROOT, 'build', 'kubernetes', 'crds.yaml')])
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/eips.network.kubesphere.io', 'crd/bgpconfs.network.kubesphere.io', 'crd/bgppeers.network.kubesphere.io'])
  await kubectl(['apply', '-f', join(ROOT, 'build', 'kubernetes', 'rbac.yaml')])
  // the static-token user stands in for the ServiceAccount: same roles, nothing else
  await kubectl(['create', 'clusterrolebinding', 'porter-controller-user', '--clusterrole=porter-controller', `--user=${USER}`])
  await kubectl(['create', 'rolebinding', 'porter-controller-user', '-n', 'porter-system', '--role=porter-controller', `--user=${USER}`])
  for (const [name, ip] of Object.entries(NODES)) await createNode(kubectl, apply, name, opts.dualStack ? [ip, NODES6[name]!] : [ip])
  return { lab, api, binary: builtPorter(lab.dir), r, bird, porterNs, kubeconfigs, agentKubeconfigs, kubectl, apply }
}

/**
 * A node as a namespace `n<i+1>` on the router's segment (kubeLab's bridge), with its InternalIP
 * NODES[name] and a default route through the router (replies to clients behind it).
 */
export async function nodeNs(kl: KubeLab, i: number, name: string): Promise<string> {
  const { lab } = kl
  const sw = lab.namespaces.find((n) => n.endsWith('-sw'))!
  const ns = await lab.ns(`n${i + 1}`)
  await lab.veth({ ns: sw, ifname: `n${i + 1}` }, { ns, ifname: 'eth0' })
  await lab.exec(sw, ['ip', 'link', 'set', `n${i + 1}`, 'master', 'br0'])
  await lab.addr(ns, 'eth0', `${NODES[name]}/24`)
  await lab.exec(ns, ['ip', 'route', 'add', 'default', 'via', '192.0.2.1'])
  return ns
}

export async function createNode(kubectl: KubeLab['kubectl'], apply: KubeLab['apply'], name: string, ips: string[], labels: Record<string, string> = {}): Promise<void> {
  await apply(JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } }))
  await setNodeStatus(kubectl, name, ips, true)
}

export async function setNodeStatus(kubectl: KubeLab['kubectl'], name: string, ip: string | string[], ready: boolean): Promise<void> {
  const ips = Array.isArray(ip) ? ip : [ip]
  const status = { addresses: [...ips.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: name }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'Test', message: 'set by the test', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }] }
  await kubectl(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })])
}

export function serviceYaml(name: string, o: { policy?: 'Local' | 'Cluster'; annotations?: Record<string, string>; ports?: number[]; namespace?: string } = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: o.namespace ?? 'default', annotations: o.annotations ?? { 'lb.kubesphere.io/v1alpha1': 'openelb' } },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: o.policy ?? 'Local', selector: { app: name }, ports: (o.ports ?? [80]).map((p) => ({ name: `p${p}`, port: p, targetPort: 8080, protocol: 'TCP' })) },
  })
}

export function sliceYaml(svc: string, endpoints: { node: string; ready: boolean; serving?: boolean; terminating?: boolean }[], name = `${svc}-1`, namespace = 'default'): string {
  return JSON.stringify({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace, labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4',
    endpoints: endpoints.map((e, i) => ({ addresses: [`198.51.100.${i + 10}`], nodeName: e.node, conditions: { ready: e.ready, ...(e.serving !== undefined ? { serving: e.serving } : {}), ...(e.terminating !== undefined ? { terminating: e.terminating } : {}) } })),
    ports: [{ name: 'p80', port: 8080, protocol: 'TCP' }],
  })
}

export function bgpObjects(o: { listenPort?: number } = {}): string {
  return list([
    { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpConf', metadata: { name: 'default' }, spec: { as: PORTER_AS, routerId: '192.0.2.2', listenPort: o.listenPort ?? 0 } },
    { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpPeer', metadata: { name: 'leaf1' }, spec: { conf: { peerAs: ROUTER_AS, neighborAddress: '192.0.2.1' }, timers: { config: { holdTime: 9 } }, afiSafis: [{ config: { family: { afi: 'AFI_IP', safi: 'SAFI_UNICAST' }, enabled: true }, addPaths: { config: { sendMax: 10 } } }] } },
  ])
}

/** Several objects as one kubectl-applicable List. */
export function list(items: object[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items })
}

export function eipYaml(name: string, address: string, extra: Record<string, unknown> = {}, annotations: Record<string, string> = { 'eip.openelb.kubesphere.io/is-default-eip': 'true' }): string {
  return JSON.stringify({ apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'Eip', metadata: { name, annotations }, spec: { address, ...extra } })
}

/** `extra`: more lines of the kubernetes section, e.g. 'drainCordoned: { wait: 2s }' */
export function controllerYaml(kubeconfig: string, identity: string, extra: string[] = []): string {
  return [
    'kubernetes:',
    '  enabled: true',
    ...extra.map((l) => `  ${l}`),
    `  kubeconfig: ${kubeconfig}`,
    `  leaderElection: { namespace: porter-system, identity: ${identity}, leaseDuration: 3s, renewDeadline: 2s, retryPeriod: 500ms }`,
    '',
  ].join('\n')
}

export async function startController(kl: KubeLab, i: number, t: TeardownHost, extra: string[] = []): Promise<PorterProc> {
  const p = new PorterProc(kl.lab, kl.porterNs[i]!, controllerYaml(kl.kubeconfigs[i]!, `replica-${i + 1}`, extra), 'controller', kl.binary)
  t.teardown(async () => { await p.stop(); keepLog(p); p.cleanup() })
  await p.start()
  return p
}

/** Porter's log survives the test as $TMPDIR/porter-e2e-<identity>.log (for failures). */
export function keepLog(p: PorterProc): void {
  try { copyFileSync(p.logFile, join(tmpdir(), `porter-e2e-${p.ns.split('-').pop()}.log`)) } catch {}
}

/** status.loadBalancer.ingress IPs of a Service ('' when none). */
export async function ingressOf(kl: KubeLab, name: string, namespace = 'default'): Promise<string> {
  return (await kl.kubectl(['get', 'svc', name, '-n', namespace, '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}'])).trim()
}

export async function waitIngress(kl: KubeLab, name: string, namespace = 'default'): Promise<string> {
  return waitFor(async () => (await ingressOf(kl, name, namespace)) || undefined, { timeoutMs: 20_000, intervalMs: 100, what: `ingress IP of ${namespace}/${name}` })
}

export function readJson<T>(file: string): T { return JSON.parse(readFileSync(file, 'utf8')) as T }
