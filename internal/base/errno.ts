// errno of a Node system error ("ENOENT"), or undefined.
export function errnoOf(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null | undefined)?.code
  return typeof c === 'string' ? c : undefined
}

export function isErrno(e: unknown, ...codes: string[]): boolean {
  const c = errnoOf(e)
  return c !== undefined && codes.includes(c)
}
