// Exit codes and the CLI's two output streams, shared by main.ts and daemon.ts.
export const EXIT_OK = 0
export const EXIT_RUNTIME = 1
export const EXIT_USAGE = 2

export const out = (s: string): void => { process.stdout.write(s + '\n') }
export const err = (s: string): void => { process.stderr.write(s + '\n') }
