// Entry point of the bundle (dist/porter.cjs) and so of the single executable (dist/porter):
// the CLI, cmd/porter/main.ts, unchanged. Before it, the test-only native self-check:
// PORTER_SELFTEST_NATIVE=1 loads every embedded addon and uses the netlink package, prints the
// result as JSON, and exits without starting the CLI (test/unit/sea.test.ts, build.mjs's check).
// The self-check lives in the daemon bundle (build/sea-daemon.ts), which build.mjs resolves
// `./daemon.ts` to; esbuild inlines both import()s: no real import() is left (the SEA code cache
// forbids it).
// (the variable is SELFTEST_ENV of internal/native/selftest.ts, read here without importing that
// module: it would pull the native loader into the start-up bundle)
const selfTestRequested = (): boolean => process.env.PORTER_SELFTEST_NATIVE === '1'

const fail = (e: unknown): void => {
  process.stderr.write(`porter: internal error: ${(e as Error)?.stack ?? String(e)}\n`)
  process.exitCode = 1
}

if (selfTestRequested()) {
  import('../cmd/porter/daemon.ts').then((m) => (m as unknown as typeof import('./sea-daemon.ts')).nativeSelfTest()).then((code) => {
    process.exitCode = code
  }, fail)
} else {
  import('../cmd/porter/main.ts').catch(fail)
}
