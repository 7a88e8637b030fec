// Exit codes and the CLI's two output streams, shared by main.ts and daemon.ts.
export const EXIT_OK = 0
export const EXIT_RUNTIME = 1
export const EXIT_USAGE = 2

export const out = (s: string): void => { process.stdout.write(s + '\n') }
export const err = (s: string): void => { process.stderr.write(s + '\n') }

/**
 * `porter status | head`: when whoever reads the output goes away, stop quietly as Unix tools do
 * (exit 0 on EPIPE) rather than die on an unhandled 'error' event with a stack trace. For the
 * commands that print, not the daemons (their stdout is the journal: an error there stays an error).
 */
export function exitQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT_OK)
    throw e
  })
}
