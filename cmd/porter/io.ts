// Exit codes and the CLI's two output streams, shared by main.ts and daemon.ts.
import { writeSync } from 'node:fs'

export const EXIT_OK = 0
export const EXIT_RUNTIME = 1
export const EXIT_USAGE = 2

export const out = (s: string): void => write(1, s + '\n')
export const err = (s: string): void => write(2, s + '\n')

let quietOnClosedPipe = false
/** the descriptors whose writes go through process.stdout / process.stderr (see write) */
const viaStream = new Set<1 | 2>()

/**
 * `porter status | head`: when whoever reads the output goes away, stop quietly as Unix tools do
 * (exit 0 on EPIPE) rather than die on an unhandled 'error' event with a stack trace. For the
 * commands that print, not the daemons (their stdout is the journal: an error there stays an error).
 */
export function exitQuietlyOnClosedPipe(): void {
  quietOnClosedPipe = true
  if (viaStream.has(1)) watchStdout()
}

function watchStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT_OK)
    throw e
  })
}

/**
 * All of `text` to fd 1 or 2, written at once with fs.writeSync: process.stdout and
 * process.stderr would load Node's stream classes, a tenth of a short command's start-up. A
 * descriptor that refuses (EAGAIN: non-blocking, as a pipe some other process set so) gets the
 * rest through the stream, and so does every later write to it, in order.
 */
function write(fd: 1 | 2, text: string): void {
  const stream = fd === 1 ? () => process.stdout : () => process.stderr
  if (viaStream.has(fd)) {
    stream().write(text)
    return
  }
  const buf = Buffer.from(text)
  let off = 0
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'EAGAIN') {
        viaStream.add(fd)
        if (fd === 1 && quietOnClosedPipe) watchStdout()
        stream().write(buf.subarray(off))
        return
      }
      if (code === 'EPIPE' && fd === 1 && quietOnClosedPipe) process.exit(EXIT_OK)
      throw e
    }
  }
}
