let table: Readonly<Record<string, number>> | undefined

/**
 * Linux errno numbers by name (positive), e.g. ERRNO.ENOENT === 2: the one table, from Node's
 * node:os, loaded on first use (the CLI's commands use none, and every command imports this).
 */
export const ERRNO: Readonly<Record<string, number>> = new Proxy(Object.freeze({}), {
  get: (_, name) => (typeof name === 'string' ? (table ??= process.getBuiltinModule('node:os').constants.errno as Readonly<Record<string, number>>)[name] : undefined),
})

// errno of a Node system error ("ENOENT"), or undefined.
export function errnoOf(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null | undefined)?.code
  return typeof c === 'string' ? c : undefined
}

export function isErrno(e: unknown, ...codes: string[]): boolean {
  const c = errnoOf(e)
  return c !== undefined && codes.includes(c)
}

/** errno number of a system error, positive (ENOENT = 2; Node reports -2), or 0 if it has none. */
export function errnoNumber(e: unknown): number {
  const n = (e as { errno?: unknown } | null | undefined)?.errno
  return typeof n === 'number' ? Math.abs(n) : 0
}
