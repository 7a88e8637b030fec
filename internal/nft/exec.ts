// The exec seam: firewall runners call programs only through an ExecFn, so tests can record,
// fail or replace them (e.g. simulate a host without `nft`).
import { execFile } from 'node:child_process'
import { errnoOf } from '../base/index.ts'

export interface ExecResult { code: number; stdout: string; stderr: string }
export interface ExecOptions { timeoutMs?: number }
/**
 * Run a program (no shell). Resolves with its exit status and output, also when the status is
 * not 0; rejects only when it could not be started (error with `code` "ENOENT", `errno`).
 */
export type ExecFn = (file: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>

export const defaultExec: ExecFn = (file, args, opts = {}) => new Promise((resolve, reject) => {
  execFile(file, args as string[], { encoding: 'utf8', maxBuffer: 512 << 20, timeout: opts.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
    // a string code: it did not start (ENOENT, EACCES ...); a number: its exit status
    const errno = errnoOf(err)
    if (errno !== undefined && errno !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
      reject(err)
      return
    }
    const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 1) : 0
    resolve({ code, stdout, stderr })
  })
})
