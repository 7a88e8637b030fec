// Wires the Kubernetes controller from the config: kubeconfig, identity and Lease namespace
// (Downward API env first), ownership rule. Imported lazily, so `porter` without Kubernetes
// never loads @kubernetes/client-node.
import type { Config } from '../config/index.ts'
import type { Clock } from '../base/index.ts'
import type { Advertisement } from '../bgp/speaker.ts'
import { loadKubeConfig } from '../k8s/client.ts'
import { KubeController, type CrdBgp, type KubeLogger, type PeerView } from './kube.ts'

export interface KubeFactoryDeps {
  log: KubeLogger
  clock: Clock
  env: Readonly<Record<string, string | undefined>>
  hostname: string
  peerView(name: string): PeerView | undefined
  onAdvertisements(advs: Advertisement[]): void
  onBgp(b: CrdBgp): void
}

export function createKubeController(c: Config, d: KubeFactoryDeps): KubeController {
  const k = c.kubernetes
  const le = k.leaderElection
  const pick = (...v: (string | undefined)[]) => v.find((x) => x !== undefined && x.trim() !== '')!.trim()
  return new KubeController({
    kubeConfig: loadKubeConfig(k),
    log: d.log,
    clock: d.clock,
    ownership: k.loadBalancerClass !== undefined ? { loadBalancerClass: k.loadBalancerClass } : {},
    leaderElection: {
      enabled: le.enabled,
      namespace: pick(le.namespace, d.env.POD_NAMESPACE, 'porter-system'),
      name: le.name,
      identity: pick(le.identity, d.env.POD_NAME, d.hostname, 'porter'),
      leaseDurationMs: le.leaseDuration,
      renewDeadlineMs: le.renewDeadline,
      retryPeriodMs: le.retryPeriod,
    },
    peerView: d.peerView,
    onAdvertisements: d.onAdvertisements,
    onBgp: d.onBgp,
    ...(k.drainCordoned?.enabled ? { drainCordoned: { waitMs: k.drainCordoned.wait } } : {}),
    ...(k.drainTerminating?.enabled ? { drainTerminating: { waitMs: k.drainTerminating.wait } } : {}),
  })
}
