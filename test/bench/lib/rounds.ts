// Helpers of the benchmarks that run rounds in labs: the median of a round's figures, and a
// teardown host for createLab outside tap (steps run in reverse order, the lab's cleanup last).

export const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2 }

/** `t` for createLab and PorterProc teardowns; `end()` runs them (also on failure: call it in finally) */
export function harness() {
  const downs: (() => unknown)[] = []
  return { t: { teardown: (f: () => unknown) => { downs.push(f) } }, async end() { for (const f of downs.reverse()) await f() } }
}
