// Entry point of the bundle (dist/porter.cjs) and so of the single executable (dist/porter):
// the CLI, cmd/porter/main.ts, unchanged. Before it, the test-only native self-check:
// PORTER_SELFTEST_NATIVE=1 loads every embedded addon and uses the netlink package, prints the
// result as JSON, and exits without starting the CLI (test/unit/sea.test.ts, build.mjs's check).
// esbuild inlines both import()s: no real import() is left (the SEA code cache forbids it).
import { nativeSelfTest, selfTestRequested } from '../internal/native/selftest.ts'

const fail = (e: unknown): void => {
  process.stderr.write(`porter: internal error: ${(e as Error)?.stack ?? String(e)}\n`)
  process.exitCode = 1
}

if (selfTestRequested()) {
  nativeSelfTest().then((code) => {
    process.exitCode = code
  }, fail)
} else {
  import('../cmd/porter/main.ts').catch(fail)
}
