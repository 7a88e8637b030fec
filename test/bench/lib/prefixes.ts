// The benchmark's prefixes: N IPv4 /32 host routes from 198.18.0.0/15 (RFC 2544 benchmarking range).
export const BENCH_BASE = ((198 << 24) | (18 << 16)) >>> 0
export const BENCH_MAX = 1 << 17 // addresses in a /15

export function hostAt(i: number): string {
  const x = (BENCH_BASE + i) >>> 0
  return `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`
}

/** "198.18.0.0/32", "198.18.0.1/32", ... (n of them) */
export function benchPrefixes(n: number): string[] {
  if (!Number.isInteger(n) || n < 1 || n > BENCH_MAX) throw new Error(`N must be an integer from 1 to ${BENCH_MAX} (198.18.0.0/15 holds ${BENCH_MAX} /32s), got "${n}"`)
  const out = new Array<string>(n)
  for (let i = 0; i < n; i++) out[i] = `${hostAt(i)}/32`
  return out
}
