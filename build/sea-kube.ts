// Entry point of the third bundle, dist/porter-kube.cjs: @kubernetes/client-node and Porter's
// Kubernetes code, ~3 MB of JavaScript that host mode (kubernetes.enabled: false) never runs.
// Embedded in dist/porter as an SEA asset with its own V8 code cache and compiled only at the
// import() of one of these modules (internal/controller/service.ts, internal/daemon/agent-service.ts),
// which build/build.mjs resolves to this bundle's export of the same name. From source (tsx,
// tests) those import()s load the modules directly.
export * as kubeFactory from '../internal/controller/kube-factory.ts'
export * as k8s from '../internal/k8s/index.ts'
