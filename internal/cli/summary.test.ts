// porter validate's summary names node liveness: the agent's BFD peers and timers, and the
// controller's kubernetes.nodeLiveness.
import t from 'tap'
import { summarizeConfig } from './summary.ts'
import { parseConfig } from '../config/index.ts'

t.test('the summary shows agent.liveness and kubernetes.nodeLiveness when set, nothing when not', async (t) => {
  const on = summarizeConfig(parseConfig('kubernetes: { enabled: true, nodeLiveness: { minTx: 50, port: 3785 } }\nagent: { nodeAddresses: [198.51.100.11], liveness: { peers: [198.51.100.10, 198.51.100.0/24], multiplier: 5 } }\n'))
  t.match(on, /\nkubernetes: kubeconfig \(default\), node liveness \(BFD 50\/100 ms x 3, agents on port 3785\)\n/)
  t.match(on, /\nagent: interface lo, firewall auto, node addresses 198\.51\.100\.11, liveness with 198\.51\.100\.10, 198\.51\.100\.0\/24 \(BFD 100\/100 ms x 5, port 3784\)\n/)
  const off = summarizeConfig(parseConfig('agent: { nodeAddresses: [198.51.100.11] }\n'))
  t.notMatch(off, /liveness/)
})

t.test('the summary names bgp.gracefulShutdown and kubernetes.drainCordoned when on', async (t) => {
  const on = summarizeConfig(parseConfig('bgp: { localAs: 65002, routerId: 192.0.2.2, gracefulShutdown: { wait: 3s } }\nkubernetes: { enabled: true, drainCordoned: {} }\n'))
  t.match(on, /^bgp: AS 65002, router id 192\.0\.2\.2, listening on 0\.0\.0\.0 port 179, 0 peer\(s\), graceful shutdown \(wait 3000 ms\)\n/)
  t.match(on, /\nkubernetes: kubeconfig \(default\), cordoned nodes drained after 10000 ms\n/)
  const off = summarizeConfig(parseConfig('bgp: { localAs: 65002, routerId: 192.0.2.2, gracefulShutdown: { enabled: false } }\nkubernetes: { enabled: true }\n'))
  t.notMatch(off, /graceful shutdown|drained/)
})

t.test('the summary names liveness authentication, drainTerminating and per-node BgpPeers when on', async (t) => {
  const on = summarizeConfig(parseConfig('kubernetes: { enabled: true, bgpPeers: true, drainTerminating: { wait: 20s }, nodeLiveness: { auth: { keyFile: /k } } }\nagent: { nodeAddresses: [198.51.100.11], liveness: { peers: [198.51.100.10], auth: { keyFile: /k } } }\n'))
  t.match(on, /\nkubernetes: kubeconfig \(default\), node liveness \(BFD 100\/100 ms x 3, agents on port 3784, authenticated\), terminating endpoints drained for at most 20000 ms, per-node BgpPeers \(agent\)\n/)
  t.match(on, /liveness with 198\.51\.100\.10 \(BFD 100\/100 ms x 3, port 3784, authenticated\)\n/)
  const off = summarizeConfig(parseConfig('kubernetes: { enabled: true }\n'))
  t.notMatch(off, /authenticated|terminating|per-node/)
})
