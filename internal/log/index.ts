// Structured JSON-lines logging (pino), synchronous to stdout. Loggers are injected, never global.
import { pino, type Logger, type Level } from 'pino'

export type { Logger }

/** Field names whose values are never written to a log line. */
export const REDACT_PATHS = [
  'password', '*.password', 'passwordFile', '*.passwordFile', 'md5Key', '*.md5Key', 'key', '*.key',
  'secret', '*.secret', 'token', '*.token', 'authorization', '*.authorization',
]

export interface LogOptions {
  level?: Level | 'silent'
  /** file descriptor to write to (default 1, stdout) */
  fd?: number
  base?: Record<string, unknown>
}

export function createLogger(opts: LogOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid, ...opts.base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: opts.fd ?? 1, sync: true }),
  )
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
