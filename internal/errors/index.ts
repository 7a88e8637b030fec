import type { ErrorCode } from './catalog.ts'
export { ErrorCodes, type ErrorCode } from './catalog.ts'

/** Base of every error Porter raises on purpose. `code` is stable and documented. */
export class PorterError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PorterError'
    this.code = code
  }
}

export function isPorterError(e: unknown): e is PorterError {
  return e instanceof PorterError
}
