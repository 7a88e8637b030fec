// Polling with a deadline (no fixed sleeps), shared by unit and end-to-end tests.

export interface WaitOptions {
  timeoutMs?: number
  intervalMs?: number
  /** what we were waiting for, used in the timeout error */
  what?: string
}

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

/**
 * Poll `fn` until it returns a truthy value (returned) or the deadline passes (throws with the
 * last value / error). Exceptions thrown by `fn` count as "not yet".
 */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 30_000
  const intervalMs = opts.intervalMs ?? 200
  const deadline = Date.now() + timeoutMs
  let last: unknown
  let lastErr: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v as NonNullable<T>
      last = v
      lastErr = undefined
    } catch (e) {
      lastErr = e
    }
    if (Date.now() >= deadline) {
      const detail = lastErr !== undefined
        ? `last error: ${lastErr instanceof Error ? lastErr.message : String(lastErr)}`
        : `last value: ${JSON.stringify(last)}`
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'} (${detail})`)
    }
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())))
  }
}
