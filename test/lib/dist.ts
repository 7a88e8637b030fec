// The built single executable for tests that run it: dist/porter, built with `npm run build`
// when it is missing or older than the sources (build/build.mjs serialises builds itself), then
// copied: another test file may rebuild dist/porter while this one runs it.
import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './cli.ts'

export const DIST_PORTER = join(ROOT, 'dist', 'porter')
/** what goes into the executable */
const SOURCES = ['cmd', 'internal', 'build', 'patches', 'package.json', 'package-lock.json']

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

function newestSource(p: string): number {
  let st
  try { st = statSync(p) } catch { return 0 }
  if (!st.isDirectory()) return p.endsWith('.test.ts') ? 0 : st.mtimeMs
  let newest = st.mtimeMs
  for (const e of readdirSync(p)) {
    if (e === 'node_modules' || e.startsWith('.')) continue
    newest = Math.max(newest, newestSource(join(p, e)))
  }
  return newest
}

/** Whether dist/porter exists and is newer than every source file that goes into it. */
export function distIsFresh(): boolean {
  if (!existsSync(DIST_PORTER)) return false
  const built = statSync(DIST_PORTER).mtimeMs
  return SOURCES.every((s) => newestSource(join(ROOT, s)) <= built)
}

/** dist/porter, built first when missing or stale, copied into `dir`. Returns the copy's path. */
export function builtPorter(dir: string): string {
  if (!distIsFresh()) {
    const r = spawnSync('npm', ['--prefix', ROOT, 'run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 900_000 })
    if (r.status !== 0) throw new Error(`npm run build failed (status ${r.status}):\n${r.stderr}${r.stdout}`)
  }
  const copy = join(dir, 'porter')
  for (let i = 0; ; i++) {
    try {
      copyFileSync(DIST_PORTER, copy)
      break
    } catch (e) {
      // a concurrent build replaces dist/porter by rm + rename: retry briefly
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || i >= 40) throw e
      sleepSync(250)
    }
  }
  chmodSync(copy, 0o755)
  return copy
}
