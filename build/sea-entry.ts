// Entry point of the bundle (dist/porter.cjs) and so of the single executable (dist/porter):
// the CLI, cmd/porter/main.ts, unchanged. Before it, the test-only native self-check:
// PORTER_SELFTEST_NATIVE=1 loads every embedded addon, prints where each came from as JSON,
// and exits without starting the CLI (test/unit/sea.test.ts, and build.mjs's final check).
import { nativeSelfTest } from '../internal/native/load.ts'

const code = nativeSelfTest()
if (code === undefined) {
  // esbuild inlines this module: no real import() is left (the code cache forbids it)
  import('../cmd/porter/main.ts').catch((e: unknown) => {
    process.stderr.write(`porter: internal error: ${(e as Error)?.stack ?? String(e)}\n`)
    process.exitCode = 1
  })
} else {
  process.exitCode = code
}
