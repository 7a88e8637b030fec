// The API client from config: `kubernetes.inCluster` (service account token and CA, the
// KUBERNETES_SERVICE_HOST/PORT env), else `kubernetes.kubeconfig`, else the default lookup
// ($KUBECONFIG, ~/.kube/config, in-cluster).
import { KubeConfig, CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node'
import type { Config } from '../config/index.ts'
import { KubeconfigError } from './errors.ts'

export function loadKubeConfig(cfg: Pick<Config['kubernetes'], 'inCluster' | 'kubeconfig'>): KubeConfig {
  const kc = new KubeConfig()
  try {
    if (cfg.inCluster) kc.loadFromCluster()
    else if (cfg.kubeconfig !== undefined) kc.loadFromFile(cfg.kubeconfig)
    else kc.loadFromDefault()
  } catch (e) {
    throw new KubeconfigError(cfg.inCluster ? 'the in-cluster service account config' : `the kubeconfig ${JSON.stringify(cfg.kubeconfig ?? '(default)')}`, e)
  }
  const cluster = kc.getCurrentCluster()
  if (!cluster) throw new KubeconfigError(`the kubeconfig ${JSON.stringify(cfg.kubeconfig ?? '(default)')}`, new Error('it has no current cluster (current-context)'))
  if (cfg.inCluster && (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT)) {
    throw new KubeconfigError('the in-cluster service account config', new Error('KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT are not set (not running in a pod?)'))
  }
  return kc
}

export interface ApiClients {
  kubeConfig: KubeConfig
  core: CoreV1Api
  discovery: DiscoveryV1Api
  server: string
}

export function apiClients(kc: KubeConfig): ApiClients {
  return { kubeConfig: kc, core: kc.makeApiClient(CoreV1Api), discovery: kc.makeApiClient(DiscoveryV1Api), server: kc.getCurrentCluster()?.server ?? '' }
}
