// PURE: what the dashboard sends to a browser is the status contract minus anything secret.
// The contract carries no secret by design (a TCP MD5 key lives in a file named by the config and
// never enters the status), so this is the second line: a field whose name says it holds a secret
// is dropped, and credentials in a URL ("https://user:pass@host") are cut out of every string,
// while the update is serialised (one pass, no copy: JSON.stringify(update, redactReplacer)).

const SECRET_KEY = /pass(word|wd|phrase)?$|secret|token|credential|private.?key|^authorization$|^cookie$/i
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi

const secretKeys = new Map<string, boolean>()
/** Whether a field of this name is dropped (memoised: a status has few distinct field names). */
function isSecretKey(k: string): boolean {
  let v = secretKeys.get(k)
  if (v === undefined) {
    v = SECRET_KEY.test(k)
    if (secretKeys.size < 10_000) secretKeys.set(k, v)
  }
  return v
}

/** A string with the credentials of any URL in it cut out. */
export function redactString(s: string): string {
  return s.includes('@') && s.includes('://') ? s.replace(URL_USERINFO, '$1[redacted]@') : s
}

/**
 * A JSON.stringify replacer: `JSON.stringify(x, redactReplacer)` is the JSON of `x` without
 * secret-named fields and with URL credentials cut (what the event stream sends).
 */
export function redactReplacer(this: unknown, key: string, value: unknown): unknown {
  if (key !== '' && !Array.isArray(this) && isSecretKey(key)) return undefined
  return typeof value === 'string' ? redactString(value) : value
}
