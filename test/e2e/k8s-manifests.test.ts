// build/kubernetes/ against a real kube-apiserver (test/lib/kube-apiserver.ts, the controller
// lab of test/e2e/lib/kube-lab.ts):
//   - every file applies from scratch (server-side apply, `kubectl apply -k`), passes a server
//     dry run, re-applies without a difference; the workloads are what the README promises
//     (2 replicas, leader election, host network, only NET_BIND_SERVICE / NET_ADMIN+NET_RAW,
//     probes on the metrics listener of the ConfigMap's config, the image we build);
//   - RBAC, enough and no more: the built dist/porter runs as each ServiceAccount (a token from
//     the TokenRequest API) through a Service's life; the API server's audit log shows every
//     request of each account allowed and every granted rule used; `kubectl auth can-i --as`
//     shows what each account must not do;
//   - every CRD field internal/k8s/crd.ts reads is declared in the served CRD schema (recorded
//     while the converters read a complete object), and such an object survives the server.
// test/e2e/controller-k8s.test.ts checks OpenELB's samples against the CRDs and the roles bound
// to a static-token user; this file checks the ServiceAccounts themselves.
import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseYaml, parseAllDocuments } from 'yaml'
import { startKubeApiServer, forwardIntoNetns, type KubeApiServer } from '../lib/kube-apiserver.ts'
import { ROOT } from '../lib/cli.ts'
import { run, waitFor } from './lib/netns.ts'
import { PorterProc } from './lib/porter.ts'
import { kubeLab, bgpObjects, eipYaml, serviceYaml, sliceYaml, waitIngress, controllerYaml, keepLog, list, USER, ROUTER_AS } from './lib/kube-lab.ts'
import { parseConfig } from '../../internal/config/index.ts'
import { toEipInfo, toBgpConfInfo, toBgpPeerInfo } from '../../internal/k8s/crd.ts'

const DIR = join(ROOT, 'build', 'kubernetes')
/** apply order (kustomization.yaml lists the same) */
const FILES = ['crds.yaml', 'rbac.yaml', 'controller.yaml', 'agent.yaml']
const NS = 'porter-system'
const SA = (name: string) => `system:serviceaccount:${NS}:${name}`

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown }
const objectsOf = (file: string): Obj[] => parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJSON() as Obj).filter((o) => o)
const idOf = (o: Obj) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`
/** an empty API server for the manifests and the CRD schema (the RBAC test runs the controller lab) */
let shared: Promise<KubeApiServer> | undefined
const emptyServer = () => (shared ??= startKubeApiServer(t))

t.test('every manifest applies from scratch with server-side apply, passes a server dry run and re-applies unchanged', async (t) => {
  t.same(readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort(), [...FILES].sort(), 'the files under test are all the manifests')
  const kust = parseYaml(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] }
  t.same(kust.resources, FILES, 'kustomization.yaml lists them in apply order')
  const api = await emptyServer()
  const rendered = (await api.kubectl(['kustomize', DIR])).stdout
  const fromFiles = FILES.flatMap(objectsOf).map(idOf).sort()
  t.ok(fromFiles.length >= 15, `${fromFiles.length} objects`)
  t.same(parseAllDocuments(rendered).map((d) => idOf(d.toJSON() as Obj)).sort(), fromFiles, 'kubectl kustomize renders exactly the objects of the files')

  // the documented one-liner, on an empty cluster
  const applied = await api.kubectl(['apply', '--server-side', '-k', DIR])
  t.equal(applied.stdout.trim().split('\n').filter((l) => / serverside-applied$/.test(l)).length, fromFiles.length, 'kubectl apply --server-side -k: every object applied')
  for (const f of FILES) {
    const n = objectsOf(f).length
    const dry = await api.kubectl(['apply', '--server-side', '--dry-run=server', '-f', join(DIR, f)])
    t.equal(dry.stdout.trim().split('\n').filter((l) => /serverside-applied \(server dry run\)$/.test(l)).length, n, `${f}: ${n} objects pass a server-side dry run`)
    await api.kubectl(['apply', '--server-side', '-f', join(DIR, f)])
    const diff = await api.kubectl(['diff', '--server-side', '-f', join(DIR, f)], { allowFail: true })
    t.equal(diff.code, 0, `${f}: re-applied, no difference left ${diff.stdout.slice(0, 500)}${diff.stderr.slice(0, 300)}`)
  }
  // a manifest the server refuses: proves the dry run validates
  const bad = objectsOf('controller.yaml').find((o) => o.kind === 'Deployment')!
  ;(bad.spec as { replicas: unknown }).replicas = 'two'
  const refused = await api.kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: JSON.stringify(bad), allowFail: true })
  t.not(refused.code, 0, 'a Deployment with replicas "two" is refused by the dry run')

  const get = async <T>(args: string[]) => JSON.parse((await api.kubectl(['get', ...args, '-o', 'json'])).stdout) as T
  type Container = { image: string; args: string[]; env?: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[]; securityContext: { runAsUser?: number; allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { add?: string[]; drop: string[] } }; livenessProbe: Probe; readinessProbe: Probe; resources: { requests?: { cpu?: string; memory?: string }; limits?: { memory?: string } }; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }
  type Probe = { httpGet?: { host?: string; port: number; path: string } }
  type PodSpec = { serviceAccountName: string; hostNetwork?: boolean; containers: Container[]; volumes: { name: string; configMap?: { name: string } }[]; affinity?: { podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { topologyKey: string }[] } } }
  const image = (await run(process.execPath, [join(ROOT, 'build', 'image', 'build.mjs'), '--print-ref'])).stdout.trim()

  /** the config the pod mounts at /etc/porter (its ConfigMap's porter.yaml), parsed by Porter's own parser */
  const configOf = async (spec: PodSpec) => {
    const c = spec.containers[0]!
    const mount = c.volumeMounts.find((m) => m.mountPath === '/etc/porter')!
    const cm = spec.volumes.find((v) => v.name === mount.name)!.configMap!.name
    t.same(c.args.slice(-2), ['--config', '/etc/porter/porter.yaml'], 'runs with the mounted config')
    const data = await get<{ data: Record<string, string> }>(['configmap', cm, '-n', NS])
    return parseConfig(data.data['porter.yaml']!, `${cm}/porter.yaml`)
  }
  const checkProbes = (c: Container, port: number) => {
    t.same(c.livenessProbe.httpGet, { host: '127.0.0.1', port, path: '/healthz', scheme: 'HTTP' }, 'liveness: /healthz of the metrics listener')
    t.same(c.readinessProbe.httpGet, { host: '127.0.0.1', port, path: '/readyz', scheme: 'HTTP' }, 'readiness: /readyz of the metrics listener')
  }

  const deploy = await get<{ spec: { replicas: number; template: { spec: PodSpec } } }>(['deployment', 'porter-controller', '-n', NS])
  const dc = deploy.spec.template.spec.containers[0]!
  t.equal(deploy.spec.replicas, 2, 'controller: 2 replicas')
  t.equal(deploy.spec.template.spec.serviceAccountName, 'porter-controller')
  t.equal(deploy.spec.template.spec.hostNetwork, true, 'controller: host network (routers peer with the nodes)')
  t.same(deploy.spec.template.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.map((a) => a.topologyKey), ['kubernetes.io/hostname'], 'replicas on different nodes')
  t.equal(dc.args[0], 'controller')
  t.equal(dc.image, image, `controller image is the one build/image builds (${image})`)
  t.same(dc.securityContext.capabilities, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, 'controller: only NET_BIND_SERVICE')
  t.same([dc.securityContext.allowPrivilegeEscalation, dc.securityContext.readOnlyRootFilesystem], [false, true])
  t.ok(dc.env?.some((e) => e.name === 'POD_NAME' && e.valueFrom?.fieldRef?.fieldPath === 'metadata.name'), 'POD_NAME: the Lease identity')
  t.ok(dc.resources.requests?.memory && dc.resources.requests.cpu && dc.resources.limits?.memory, 'controller: requests and a memory limit')
  const cc = await configOf(deploy.spec.template.spec)
  t.same([cc.kubernetes.enabled, cc.kubernetes.inCluster, cc.kubernetes.leaderElection.enabled], [true, true, true], 'controller config: Kubernetes in cluster, leader election')
  const cport = Number(/:(\d+)$/.exec(cc.admin.metricsAddress ?? '')?.[1])
  t.match(cc.admin.metricsAddress, /^127\.0\.0\.1:\d+$/, 'metrics listener on loopback only')
  checkProbes(dc, cport)

  const ds = await get<{ spec: { template: { spec: PodSpec & { tolerations?: unknown[] } } } }>(['daemonset', 'porter-agent', '-n', NS])
  const ac = ds.spec.template.spec.containers[0]!
  t.equal(ds.spec.template.spec.serviceAccountName, 'porter-agent')
  t.equal(ds.spec.template.spec.hostNetwork, true, 'agent: host network')
  t.equal(ac.args[0], 'agent')
  t.equal(ac.image, image, 'agent image is the same')
  t.same(ac.securityContext.capabilities, { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] }, 'agent: only NET_ADMIN and NET_RAW')
  t.same([ac.securityContext.allowPrivilegeEscalation, ac.securityContext.readOnlyRootFilesystem], [false, true])
  t.ok(ac.env?.some((e) => e.name === 'NODE_NAME' && e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName'), 'NODE_NAME from the downward API')
  t.ok(ac.resources.requests?.memory && ac.resources.requests.cpu && ac.resources.limits?.memory, 'agent: requests and a memory limit')
  const agc = await configOf(ds.spec.template.spec)
  t.same([agc.kubernetes.enabled, agc.kubernetes.inCluster], [true, true], 'agent config: Kubernetes in cluster')
  const aport = Number(/:(\d+)$/.exec(agc.admin.metricsAddress ?? '')?.[1])
  t.match(agc.admin.metricsAddress, /^127\.0\.0\.1:\d+$/, 'metrics listener on loopback only')
  t.not(aport, cport, 'controller and agent on one node: different metrics ports')
  checkProbes(ac, aport)
  const podNs = await get<{ metadata: { labels: Record<string, string> } }>(['namespace', NS])
  t.equal(podNs.metadata.labels['pod-security.kubernetes.io/enforce'], 'privileged', 'the namespace admits host-network pods')
})

// ---- RBAC -----------------------------------------------------------------------------------

interface Rule { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }
interface AuditEvent { stage: string; verb: string; user: { username: string }; objectRef?: { apiGroup?: string; resource?: string; subresource?: string; namespace?: string; name?: string }; responseStatus?: { code?: number } }

/** "verb group/resource[/sub]" of every rule granted to ServiceAccount `sa` by rbac.yaml, with the namespace of a Role ('' for a ClusterRole). */
function granted(sa: string): { key: string; ns: string }[] {
  const objs = objectsOf('rbac.yaml')
  const out: { key: string; ns: string }[] = []
  for (const b of objs.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
    const subjects = b.subjects as { kind: string; name: string; namespace: string }[]
    if (!subjects.some((s) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === NS)) continue
    const ref = b.roleRef as { kind: string; name: string }
    const role = objs.find((o) => o.kind === ref.kind && o.metadata.name === ref.name && (ref.kind === 'ClusterRole' || o.metadata.namespace === b.metadata.namespace))!
    for (const r of role.rules as Rule[]) {
      for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.push({ key: `${v} ${g || 'core'}/${res}`, ns: b.kind === 'RoleBinding' ? b.metadata.namespace! : '' })
    }
  }
  return out
}

const requestKey = (e: AuditEvent) => `${e.verb} ${e.objectRef?.apiGroup || 'core'}/${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`

t.test('RBAC: each ServiceAccount, running dist/porter, was allowed every request it made and used every rule it has', async (t) => {
  const auditDir = mkdtempSync(join(tmpdir(), 'porter-audit-'))
  t.teardown(() => rmSync(auditDir, { recursive: true, force: true }))
  const policy = join(auditDir, 'policy.yaml')
  const log = join(auditDir, 'audit.log')
  writeFileSync(policy, JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'], rules: [{ level: 'Metadata', users: [SA('porter-controller'), SA('porter-agent')] }, { level: 'None' }] }))
  const kl = await kubeLab(t, 1, { apiserverArgs: [`--audit-policy-file=${policy}`, `--audit-log-path=${log}`] })
  // rbac.yaml (applied by the lab) created the ServiceAccounts; tokens from the TokenRequest API
  const token = async (sa: string) => (await kl.kubectl(['create', 'token', sa, '-n', NS, '--duration=1h'])).trim()
  const kubeconfigFor = (template: string, tok: string, name: string) => {
    const kc = JSON.parse(readFileSync(template, 'utf8')) as { users: { user: { token: string } }[] }
    kc.users[0]!.user.token = tok
    const p = join(kl.lab.dir, `kubeconfig-${name}.json`)
    writeFileSync(p, JSON.stringify(kc), { mode: 0o600 })
    return p
  }

  // everything the controller touches: a BgpConf, a BgpPeer (with a key Secret in porter-system), an Eip, a Service with endpoints
  await kl.apply(bgpObjects())
  await kl.kubectl(['create', 'secret', 'generic', 'leaf9-md5', '-n', NS, '--from-literal=password=pt-rbac-key'])
  await kl.apply(list([{ apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpPeer', metadata: { name: 'leaf9' }, spec: { conf: { peerAs: ROUTER_AS, neighborAddress: '192.0.2.9', authPasswordSecretRef: { name: 'leaf9-md5', namespace: NS } } } }]))
  await kl.apply(eipYaml('pool', '203.0.113.10-203.0.113.20'))
  await kl.apply(sliceYaml('web', [{ node: 'node-a', ready: true }]))
  const controller = new PorterProc(kl.lab, kl.porterNs[0]!, controllerYaml(kubeconfigFor(kl.kubeconfigs[0]!, await token('porter-controller'), 'controller'), 'replica-1'), 'controller', kl.binary)
  t.teardown(async () => { await controller.stop(); keepLog(controller); controller.cleanup() })
  await controller.start()
  await kl.bird.waitEstablished(['porter1'])

  const agentNs = await kl.lab.ns('agent')
  const fwd = await forwardIntoNetns(kl.api, agentNs)
  const agent = new PorterProc(kl.lab, agentNs, [
    'agent: { interface: lo, firewall: nftables }',
    `kubernetes: { enabled: true, kubeconfig: ${kubeconfigFor(fwd.kubeconfig(USER), await token('porter-agent'), 'agent')}, nodeName: node-a }`,
    '',
  ].join('\n'), 'agent', kl.binary)
  t.teardown(async () => { await agent.stop(); agent.cleanup() })
  await agent.start()
  // the built executable takes the code cache of every bundle it loads, the Kubernetes one too:
  // V8 rejects a cache made under other flags, and the daemons set theirs (cmd/porter/heap.ts)
  for (const p of [controller, agent]) {
    const started = await waitFor(() => p.logs().find((l) => l.msg === `${p.mode} started`), { timeoutMs: 20_000, what: `the ${p.mode}'s "started" line` })
    t.same(started.codeCaches, { 'porter-main.cjs': 'used', 'porter-daemon.cjs': 'used', 'porter-kube.cjs': 'used' }, `${p.mode}: V8 used each bundle's code cache`)
    t.equal(started.tier, 'full', `${p.mode} with Kubernetes: V8's optimizing compiler on (cmd/porter/heap.ts)`)
  }

  await kl.apply(serviceYaml('web'))
  const ip = await waitIngress(kl, 'web')
  t.match(ip, /^203\.0\.113\./, 'the controller (as its ServiceAccount) allocated an IP')
  await waitFor(async () => ((await agent.status()) as unknown as { agent: { vips: string[] } }).agent.vips.includes(ip) || undefined, { timeoutMs: 20_000, what: `the agent (as its ServiceAccount) programming ${ip}` })
  t.pass(`the agent (as its ServiceAccount) programs ${ip} on its node`)
  const statuses = await waitFor(async () => {
    const eip = JSON.parse(await kl.kubectl(['get', 'eip', 'pool', '-o', 'json'])) as { status?: Record<string, unknown> }
    const peer = JSON.parse(await kl.kubectl(['get', 'bgppeer', 'leaf9', '-o', 'json'])) as { status?: Record<string, unknown> }
    const conf = JSON.parse(await kl.kubectl(['get', 'bgpconf', 'default', '-o', 'json'])) as { status?: Record<string, unknown> }
    return eip.status?.usage === 1 && peer.status?.sessionState && conf.status?.conditions ? { eip: eip.status, peer: peer.status } : undefined
  }, { timeoutMs: 20_000, what: 'CR statuses written' })
  // a field the controller writes but the schema lacks would be pruned silently
  for (const k of ['ready', 'conditions', 'occupied', 'usage', 'poolSize', 'used', 'firstIP', 'lastIP', 'v4']) t.ok(k in statuses.eip, `Eip status.${k} is kept by the schema`)
  for (const k of ['sessionState', 'prefixesSent', 'conditions']) t.ok(k in statuses.peer, `BgpPeer status.${k} is kept by the schema`)
  t.notMatch(String(statuses.peer.lastError ?? ''), /forbidden|403/i, 'the key Secret was readable')
  await waitFor(async () => (await kl.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=web,reason=IPAllocated', '-o', 'name'])).trim() || undefined, { what: 'IPAllocated event' })
  // the finalizer comes off again; the Lease is released on a graceful stop
  await kl.kubectl(['delete', 'svc', 'web', '--wait=true', '--timeout=20s'])
  t.equal(await controller.stop(), 0, 'the controller stops cleanly')
  await agent.stop()

  const events = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent).filter((e) => e.stage !== 'RequestReceived')
  for (const sa of ['porter-controller', 'porter-agent']) {
    const mine = events.filter((e) => e.user.username === SA(sa) && e.objectRef?.resource)
    t.ok(mine.length > 0, `${sa}: ${mine.length} requests in the audit log`)
    const denied = mine.filter((e) => e.responseStatus?.code === 403)
    t.same(denied.map((e) => `${requestKey(e)} ${e.objectRef?.namespace ?? ''}/${e.objectRef?.name ?? ''}`), [], `${sa}: no request was forbidden`)
    const used = new Set(mine.map(requestKey))
    const rules = granted(sa)
    t.ok(rules.length > 0, `${sa}: rbac.yaml grants it rules`)
    for (const r of rules) {
      t.ok(used.has(r.key), `${sa}: the rule "${r.key}"${r.ns ? ` in ${r.ns}` : ''} is used`)
      if (r.ns) t.same([...new Set(mine.filter((e) => requestKey(e) === r.key).map((e) => e.objectRef?.namespace))], [r.ns], `${sa}: "${r.key}" only in ${r.ns}`)
    }
    // every request kind it made, asked again through impersonation: the can-i view agrees
    for (const key of used) {
      const [verb, gr] = key.split(' ') as [string, string]
      const [group, resource, sub] = gr.split('/') as [string, string, string?]
      const ns = mine.find((e) => requestKey(e) === key)?.objectRef?.namespace
      t.equal(await canI(kl.api, sa, verb, `${resource}${group === 'core' ? '' : `.${group}`}`, ns, sub), 'yes', `${sa} can ${key}${ns ? ` in ${ns}` : ''}`)
    }
  }

  // and nothing more: [verb, resource, namespace, subresource]
  type Can = [string, string, string?, string?]
  const controllerDenied: Can[] = [
    ['get', 'secrets', 'default'], ['list', 'secrets', NS], ['watch', 'secrets', NS], ['get', 'secrets', 'kube-system'], ['create', 'secrets', NS],
    ['delete', 'services', 'default'], ['create', 'services', 'default'], ['update', 'services', 'default'], ['update', 'services', 'default', 'status'],
    ['patch', 'nodes'], ['delete', 'nodes'], ['create', 'endpointslices.discovery.k8s.io', 'default'], ['delete', 'endpointslices.discovery.k8s.io', 'default'],
    ['patch', 'eips.network.kubesphere.io'], ['create', 'eips.network.kubesphere.io'], ['delete', 'bgppeers.network.kubesphere.io'], ['update', 'bgpconfs.network.kubesphere.io'],
    ['update', 'leases.coordination.k8s.io', 'default'], ['create', 'leases.coordination.k8s.io', 'kube-system'], ['delete', 'leases.coordination.k8s.io', NS],
    ['get', 'configmaps', NS], ['create', 'pods', 'default'], ['delete', 'events', 'default'], ['patch', 'namespaces'],
    ['escalate', 'clusterroles.rbac.authorization.k8s.io'], ['create', 'rolebindings.rbac.authorization.k8s.io', NS], ['create', 'serviceaccounts/token', NS],
  ]
  const agentDenied: Can[] = [
    ['get', 'secrets', NS], ['get', 'secrets', 'default'], ['patch', 'services', 'default'], ['patch', 'services', 'default', 'status'], ['update', 'services', 'default'],
    ['create', 'services', 'default'], ['delete', 'services', 'default'], ['create', 'endpointslices.discovery.k8s.io', 'default'], ['patch', 'endpointslices.discovery.k8s.io', 'default'],
    ['create', 'events', 'default'], ['list', 'nodes'], ['patch', 'nodes'], ['create', 'leases.coordination.k8s.io', NS], ['update', 'leases.coordination.k8s.io', NS],
    ['list', 'eips.network.kubesphere.io'], ['patch', 'eips.network.kubesphere.io', undefined, 'status'], ['get', 'configmaps', NS], ['create', 'pods', 'default'],
  ]
  for (const [sa, list] of [['porter-controller', controllerDenied], ['porter-agent', agentDenied]] as const) {
    for (const [verb, res, ns, sub] of list) t.equal(await canI(kl.api, sa, verb, res, ns, sub), 'no', `${sa} may not ${verb} ${res}${sub ? `/${sub}` : ''}${ns ? ` in ${ns}` : ''}`)
  }
})

/** `kubectl auth can-i` as the ServiceAccount (its user name and groups, as the authenticator gives them). */
async function canI(api: KubeApiServer, sa: string, verb: string, resource: string, ns?: string, sub?: string): Promise<string> {
  const r = await api.kubectl(['auth', 'can-i', verb, resource, ...(ns ? ['-n', ns] : []), ...(sub ? [`--subresource=${sub}`] : []),
    `--as=${SA(sa)}`, '--as-group=system:serviceaccounts', `--as-group=system:serviceaccounts:${NS}`, '--as-group=system:authenticated'], { allowFail: true })
  return r.stdout.trim()
}

// ---- CRD fields -----------------------------------------------------------------------------

/** `o` behind a Proxy that records every property path read through it ("spec.conf.peerAs", array items as "[]"). */
function recording(o: unknown, path: string, seen: Set<string>): unknown {
  if (typeof o !== 'object' || o === null) return o
  return new Proxy(o as object, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver)
      if (typeof key === 'symbol') return v
      if (Array.isArray(target)) return /^\d+$/.test(key) ? recording(v, `${path}[]`, seen) : v
      const p = path ? `${path}.${key}` : key
      seen.add(p)
      return recording(v, p, seen)
    },
  })
}

interface Schema { type?: string; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean }

/** Is `path` ("spec.afiSafis[].config.family.afi") declared in `schema`? preserve-unknown-fields does not count. */
function declared(schema: Schema, path: string): boolean {
  let s: Schema | undefined = schema
  for (const seg of path.replace(/\[\]/g, '.[]').split('.')) {
    if (!s) return false
    if (seg === '[]') s = s.type === 'array' ? s.items : undefined
    else if (s.properties?.[seg]) s = s.properties[seg]
    else if (typeof s.additionalProperties === 'object') s = s.additionalProperties
    else return false
  }
  return s !== undefined
}

t.test('every CRD field the converters read is declared in the served schema, and a complete object survives the server', async (t) => {
  const api = await emptyServer()
  await api.kubectl(['apply', '--server-side', '-f', join(DIR, 'crds.yaml')])
  await api.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/eips.network.kubesphere.io', 'crd/bgpconfs.network.kubesphere.io', 'crd/bgppeers.network.kubesphere.io'])
  const selector = { matchLabels: { team: 'blue' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }
  // every field Porter acts on, set (the converters report none as ignored and no error)
  const samples = [
    { plural: 'eips', convert: toEipInfo, obj: { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'Eip', metadata: { name: 'full', annotations: { 'eip.openelb.kubesphere.io/is-default-eip': 'true' } }, spec: { address: '192.0.2.0/28', protocol: 'bgp', disable: false, priority: 2, namespaces: ['web'], namespaceSelector: selector }, status: { used: { '2001:db8::1': 'web/web' } } } },
    { plural: 'bgpconfs', convert: toBgpConfInfo, obj: { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpConf', metadata: { name: 'default' }, spec: { as: 65002, routerId: '192.0.2.2', listenPort: 179, listenAddresses: ['192.0.2.2'], gracefulRestart: { enabled: true, restartTime: 120 } } } },
    { plural: 'bgppeers', convert: toBgpPeerInfo, obj: { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpPeer', metadata: { name: 'full' }, spec: {
      conf: { neighborAddress: '192.0.2.1', peerAs: 65001, authPasswordSecretRef: { name: 'md5', namespace: NS, key: 'password' } },
      transport: { passiveMode: false, remotePort: 179 }, timers: { config: { holdTime: 90 } },
      afiSafis: [{ config: { family: { afi: 'AFI_IP', safi: 'SAFI_UNICAST' }, enabled: true }, addPaths: { config: { sendMax: 10 } } }],
      nodeSelector: selector, ebgpMultihop: { config: { enabled: true, multihopTtl: 2 } }, ttlSecurity: { config: { enabled: false } },
    } } },
  ]
  const all = new Set<string>()
  for (const s of samples) {
    const crd = JSON.parse((await api.kubectl(['get', 'crd', `${s.plural}.network.kubesphere.io`, '-o', 'json'])).stdout) as { spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] } }
    const schema = crd.spec.versions.find((v) => v.name === 'v1alpha2')!.schema.openAPIV3Schema
    const seen = new Set<string>()
    const info = s.convert(recording(s.obj, '', seen)) as { errors: unknown[]; ignored: string[] }
    t.same([info.errors, info.ignored], [[], []], `${s.obj.kind}: the sample is complete and valid`)
    const read = [...seen].filter((p) => p === 'spec' || p === 'status' || p.startsWith('spec.') || p.startsWith('status.')).sort()
    t.ok(read.length >= 5, `${s.obj.kind}: ${read.length} fields read`)
    for (const p of read) { all.add(`${s.obj.kind}.${p}`); t.ok(declared(schema, p), `${s.obj.kind} ${p} is declared in the schema`) }
    // through the server and back: nothing the converter reads was pruned or changed
    await api.kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(s.obj) })
    const stored = JSON.parse((await api.kubectl(['get', s.plural, s.obj.metadata.name, '-o', 'json'])).stdout) as unknown
    // (status is not applied with the object: it has its own subresource)
    const strip = (i: object) => ({ ...i, resourceVersion: undefined, used: undefined })
    t.same(strip(s.convert(stored)!), strip(s.convert(s.obj)!), `${s.obj.kind}: read back from the server, it converts the same`)
  }
  // the recorder sees what the code reads, including fields the sample leaves out
  for (const p of ['Eip.spec.address', 'Eip.status.used', 'BgpPeer.spec.conf.authPassword', 'BgpPeer.spec.afiSafis[].addPaths.config.sendMax', 'BgpPeer.spec.ttlSecurity.config.enabled', 'BgpConf.spec.gracefulRestart.restartTime']) t.ok(all.has(p), `recorded: ${p}`)
})
