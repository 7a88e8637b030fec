// A faithful fake kube-apiserver for tests (see server.ts for what it speaks).
export { FakeApiServer, statusBody, type FakeApiServerOptions, type RequestLogEntry, type Reply } from './server.ts'
export { Store, type StoreEvent, type StoreSnapshot } from './store.ts'
export { kubeconfigYaml, writeKubeconfig } from './kubeconfig.ts'
export { mergePatch, strategicMergePatch, jsonPatch, PatchError, type Json, type JsonObject, type PatchMeta } from './patch.ts'
export { RESOURCES, services, endpointSlices, type ResourceDef } from './resources.ts'
