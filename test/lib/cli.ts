// Helpers to run the porter CLI from source as a child process (tests only).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const MAIN = join(ROOT, 'cmd', 'porter', 'main.ts')
// node --import tsx (not the tsx wrapper, which would sit between the test and porter's signals)
const NODE_TSX = [process.execPath, '--import', 'tsx']

export interface RunResult { code: number | null; stdout: string; stderr: string }

export function porterSync(args: string[], env: NodeJS.ProcessEnv = {}): RunResult {
  const r = spawnSync(NODE_TSX[0]!, [...NODE_TSX.slice(1), MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

export interface Running {
  child: ChildProcess
  lines: () => string[]
  exited: Promise<number | null>
}

export function porterSpawn(args: string[], env: NodeJS.ProcessEnv = {}, cmd: string[] = [...NODE_TSX, MAIN]): Running {
  const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d))
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  return { child, lines: () => out.split('\n').filter(Boolean), exited }
}

export function tempDir(prefix = 'porter-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
