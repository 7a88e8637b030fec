// Entry point of the second bundle, dist/porter-daemon.cjs: everything only the long-running
// modes need (the BGP stack, @kubernetes/client-node, netlink, nftables, the agent) and the
// native self-check. Embedded in dist/porter as an SEA asset with its own V8 code cache and
// compiled only when `porter controller` / `porter agent` (or the self-check) runs, so that
// `porter version`, `validate` and `status` start as fast as `node -e 0` (build/build.mjs).
// From source (tsx, tests) main.ts imports cmd/porter/daemon.ts directly; this file is the
// bundled twin of that import.
export { daemon } from '../cmd/porter/daemon.ts'
export { nativeSelfTest } from '../internal/native/selftest.ts'
