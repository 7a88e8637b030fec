// PURE: what the dashboard sends to a browser is the status contract minus anything secret.
// The contract carries no secret by design (a TCP MD5 key lives in a file named by the config and
// never enters the status), so this is the second line: a field whose name says it holds a secret
// is dropped, and credentials in a URL ("https://user:pass@host") are cut out of every string.

const SECRET_KEY = /pass(word|wd|phrase)?$|secret|token|credential|private.?key|^authorization$|^cookie$/i
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi

/** A deep copy of `value` without secret-named fields and URL credentials. Cycles become "[cycle]". */
export function redact(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return value.replace(URL_USERINFO, '$1[redacted]@')
  if (value === null || typeof value !== 'object') return value
  if (seen.has(value)) return '[cycle]'
  seen.add(value)
  try {
    if (Array.isArray(value)) return value.map((x) => redact(x, seen))
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_KEY.test(k)) continue
      out[k] = redact(v, seen)
    }
    return out
  } finally {
    seen.delete(value)
  }
}
