// Build-time facts. esbuild defines PORTER_VERSION / PORTER_COMMIT in the bundle; from source
// (tsx, tests) they fall back to package.json and git at run time.
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

declare const PORTER_VERSION: string | undefined
declare const PORTER_COMMIT: string | undefined

function fromSource(): { version: string; commit: string } {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
  let version = 'unknown'
  let commit = 'unknown'
  try {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
  } catch {}
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()
  } catch {}
  return { version, commit }
}

export function buildInfo(): { version: string; commit: string; node: string } {
  const bundled = typeof PORTER_VERSION === 'string' && typeof PORTER_COMMIT === 'string'
  const { version, commit } = bundled ? { version: PORTER_VERSION!, commit: PORTER_COMMIT! } : fromSource()
  return { version, commit, node: process.version }
}
