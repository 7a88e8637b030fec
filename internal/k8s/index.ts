// Kubernetes adapters: API client from config, resilient informers (client-node ListWatch with
// restarts, 410 handling and chunked lists), node name, API object -> internal type converters,
// and the agent's source of desired VIPs (LoadBalancer Services announced from this node).
export { loadKubeConfig, apiClients, type ApiClients } from './client.ts'
export { resolveNodeName } from './node.ts'
export { toLbService, toEndpointSlice, SERVICE_NAME_LABEL } from './convert.ts'
export { ResilientInformer, type InformerOptions, type InformerStatus, type ListPage, type InformerLogger } from './informer.ts'
export { createKubernetesVipSource, type KubernetesVipSource, type KubernetesSourceOptions, type KubernetesSourceStatus, type SourceLogger } from './vip-source.ts'
export { KubeconfigError, describeError, httpStatus } from './errors.ts'
export { createNodePeerSource, type NodePeerSource, type NodePeers } from './peer-source.ts'
