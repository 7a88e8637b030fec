// The real Kubernetes API server harness (test/lib/kube-apiserver.ts): upstream kube-apiserver and
// etcd built by test/k8s/install.mjs, on 127.0.0.1, driven with Debian's kubectl.
//  - admin (system:masters) creates a Node and a LoadBalancer Service; the apiserver allocates the
//    ClusterIP (from 198.19.0.0/16) and a NodePort
//  - a static-token user without RBAC bindings is refused (`kubectl auth can-i` says no, a get is
//    Forbidden); after a RoleBinding it may read Services
//  - a tiny CRD applies and becomes Established; a custom object of it is stored
//  - forwardIntoNetns: inside a fresh namespace pt-<random>, https://127.0.0.1:6443/version answers
//    (curl with the CA) and kubectl with the forwarded kubeconfig lists the Node
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { startKubeApiServer, forwardIntoNetns, KUBECTL } from '../lib/kube-apiserver.ts'

const NODE = `
apiVersion: v1
kind: Node
metadata:
  name: pt-node-1
  labels: { kubernetes.io/hostname: pt-node-1 }
status:
  addresses:
  - { type: InternalIP, address: 192.0.2.11 }
`

const SERVICE = `
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  type: LoadBalancer
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: 8080, protocol: TCP }]
`

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.test.porter.example }
spec:
  group: test.porter.example
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: { type: integer }
`

t.test('real kube-apiserver: objects, RBAC, CRD, netns forward', async t => {
  const api = await startKubeApiServer(t, { users: [{ name: 'nobody' }, { name: 'viewer', groups: ['porter-viewers'] }] })
  t.match(api.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  t.match(api.version, /^v1\.\d+\.\d+/, `server version ${api.version}`)
  t.ok(api.startupMs < 60_000, `started in ${api.startupMs} ms`)

  await t.test('admin creates a Node and a LoadBalancer Service', async t => {
    await api.kubectl(['apply', '-f', '-'], { input: NODE })
    const node = JSON.parse((await api.kubectl(['get', 'node', 'pt-node-1', '-o', 'json'])).stdout)
    t.equal(node.metadata.name, 'pt-node-1')

    await api.kubectl(['apply', '-f', '-'], { input: SERVICE })
    const svc = JSON.parse((await api.kubectl(['get', 'service', 'web', '-n', 'default', '-o', 'json'])).stdout)
    t.equal(svc.spec.type, 'LoadBalancer')
    t.match(svc.spec.clusterIP, /^198\.19\.\d+\.\d+$/, `ClusterIP ${svc.spec.clusterIP} allocated by the apiserver`)
    t.ok(svc.spec.ports[0].nodePort >= 30000 && svc.spec.ports[0].nodePort <= 32767, `NodePort ${svc.spec.ports[0].nodePort}`)
    t.same(svc.status.loadBalancer ?? {}, {}, 'no load balancer status yet (that is Porter\'s job)')

    // status subresource writes work (what Porter's controller does)
    await api.kubectl(['patch', 'service', 'web', '-n', 'default', '--subresource=status', '--type=merge',
      '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } } })])
    const after = JSON.parse((await api.kubectl(['get', 'service', 'web', '-o', 'json'])).stdout)
    t.match(after.status.loadBalancer.ingress, [{ ip: '203.0.113.10' }]) // the apiserver adds ipMode: VIP
  })

  await t.test('RBAC: a user without bindings is refused', async t => {
    const no = await api.kubectl(['auth', 'can-i', 'list', 'services'], { user: 'nobody', allowFail: true })
    t.equal(no.stdout.trim(), 'no')
    t.not(no.code, 0)
    const get = await api.kubectl(['get', 'services'], { user: 'nobody', allowFail: true })
    t.not(get.code, 0)
    t.match(get.stderr, /forbidden/i)
    const yes = await api.kubectl(['auth', 'can-i', 'list', 'services'])
    t.equal(yes.stdout.trim(), 'yes', 'admin may')

    // a group binding gives `viewer` read access in default only. Not the `view` ClusterRole: it is
    // an aggregated role, empty without kube-controller-manager's aggregation controller
    await api.kubectl(['create', 'role', 'service-reader', '-n', 'default', '--verb=get,list,watch', '--resource=services'])
    await api.kubectl(['create', 'rolebinding', 'viewers', '-n', 'default', '--role=service-reader', '--group=porter-viewers'])
    const v = await api.kubectl(['auth', 'can-i', 'list', 'services', '-n', 'default'], { user: 'viewer', allowFail: true })
    t.equal(v.stdout.trim(), 'yes')
    const vw = await api.kubectl(['auth', 'can-i', 'update', 'services/status', '-n', 'default'], { user: 'viewer', allowFail: true })
    t.equal(vw.stdout.trim(), 'no')
    const list = await api.kubectl(['get', 'services', '-n', 'default', '-o', 'name'], { user: 'viewer' })
    t.match(list.stdout, /service\/web/)
    const other = await api.kubectl(['auth', 'can-i', 'list', 'services', '-n', 'kube-system'], { user: 'viewer', allowFail: true })
    t.equal(other.stdout.trim(), 'no', 'only in default')
  })

  await t.test('a CRD becomes Established and stores objects', async t => {
    await api.kubectl(['apply', '-f', '-'], { input: CRD })
    await api.kubectl(['wait', '--for=condition=Established', '--timeout=30s', 'crd/widgets.test.porter.example'])
    // discovery can lag the Established condition by a moment: retry the first create
    let created = false
    for (let i = 0; i < 50 && !created; i++) {
      const r = await api.kubectl(['apply', '-f', '-'], {
        allowFail: true,
        input: 'apiVersion: test.porter.example/v1\nkind: Widget\nmetadata: { name: w1, namespace: default }\nspec: { size: 3 }\n',
      })
      created = r.code === 0
      if (!created) await new Promise(r => setTimeout(r, 200))
    }
    t.ok(created, 'custom object created')
    const w = JSON.parse((await api.kubectl(['get', 'widgets.test.porter.example', 'w1', '-o', 'json'])).stdout)
    t.equal(w.spec.size, 3)
  })

  await t.test('forwardIntoNetns reaches the apiserver from inside a namespace', async t => {
    const ns = `pt-kapi-${randomBytes(3).toString('hex')}`
    let fwd: Awaited<ReturnType<typeof forwardIntoNetns>> | undefined
    execFileSync('ip', ['netns', 'add', ns])
    t.teardown(async () => {
      await fwd?.stop()
      execFileSync('ip', ['netns', 'delete', ns])
    })
    fwd = await forwardIntoNetns(api, ns)
    t.equal(fwd.url, 'https://127.0.0.1:6443')

    const version = execFileSync('ip', ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '10', '--cacert', api.caFile,
      `${fwd.url}/version`], { encoding: 'utf8' })
    t.equal(JSON.parse(version).gitVersion, api.version, '/version through the namespace\'s loopback')

    const nodes = execFileSync('ip', ['netns', 'exec', ns, KUBECTL, '--kubeconfig', fwd.kubeconfig('admin'),
      '--cache-dir', `${api.dir}/kubectl-cache-ns`, 'get', 'nodes', '-o', 'name'], { encoding: 'utf8' })
    t.match(nodes, /node\/pt-node-1/)

    // the host's loopback is not the namespace's: the apiserver port is not reachable there directly
    const direct = (() => {
      try {
        execFileSync('ip', ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '3', '-k', `${api.url}/version`], { stdio: 'pipe' })
        return 'reached'
      } catch { return 'refused' }
    })()
    t.equal(direct, 'refused', 'the namespace sees only the forwarded port')
  })

  await api.stop()
  t.notOk(existsSync(api.dir), 'stop() removed the dir')
})
