// Summarise a V8 .cpuprofile (node --cpu-prof) over time windows: where the samples of a window
// fall, by source file (self time) and by function (self and inclusive time). The driver is an
// esbuild bundle; esbuild writes a `// path/to/file.ts` comment before each module's code, so a
// bundle line maps back to its source file without a source-map library.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface Window { name: string; fromUs: number; toUs: number }

export interface WindowSummary {
  name: string
  /** ms of samples in the window */
  totalMs: number
  /** ms idle (the event loop waiting: socket writes draining, timers) */
  idleMs: number
  gcMs: number
  byFile: { file: string; ms: number }[]
  bySelf: { fn: string; ms: number }[]
  byInclusive: { fn: string; ms: number }[]
}

function moduleMap(bundlePath: string): (line: number) => string {
  let lines: string[] = []
  try { lines = readFileSync(bundlePath, 'utf8').split('\n') } catch { /* not a bundle */ }
  const starts: { line: number; file: string }[] = []
  lines.forEach((l, i) => {
    const m = /^\/\/ ((?:internal|test|cmd|node_modules)\/\S+\.(?:ts|js|mjs|cjs))$/.exec(l)
    if (m) starts.push({ line: i, file: m[1]! })
  })
  return (line) => {
    let lo = 0
    let hi = starts.length - 1
    let best = '(bundle)'
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (starts[mid]!.line <= line) { best = starts[mid]!.file; lo = mid + 1 } else hi = mid - 1
    }
    return best
  }
}

export function summarize(profilePath: string, windows: Window[], top = 12): WindowSummary[] {
  const p = JSON.parse(readFileSync(profilePath, 'utf8')) as Profile
  const byId = new Map<number, ProfNode>()
  const parent = new Map<number, number>()
  for (const n of p.nodes) {
    byId.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  const maps = new Map<string, (line: number) => string>()
  const fileOf = (cf: CallFrame): string => {
    if (!cf.url) return cf.functionName.startsWith('(') ? cf.functionName : '(native)'
    if (cf.url.startsWith('node:')) return cf.url
    let f = maps.get(cf.url)
    if (!f) {
      let path = cf.url
      try { path = fileURLToPath(cf.url) } catch { /* a plain path */ }
      f = path.endsWith('.mjs') || path.endsWith('.cjs') ? moduleMap(path) : () => path
      maps.set(cf.url, f)
    }
    return f(cf.lineNumber)
  }
  const label = (n: ProfNode): string => `${n.callFrame.functionName || '(anonymous)'} ${fileOf(n.callFrame).replace(/^\/.*?\/node_modules\//, 'node_modules/')}`
  const ours = (n: ProfNode): boolean => /^(internal|test|cmd)\//.test(fileOf(n.callFrame))

  // sample times
  const times: number[] = new Array(p.samples.length)
  let t = p.startTime
  for (let i = 0; i < p.samples.length; i++) { t += p.timeDeltas[i] ?? 0; times[i] = t }
  const out: WindowSummary[] = []
  for (const w of windows) {
    const file = new Map<string, number>()
    const self = new Map<string, number>()
    const incl = new Map<string, number>()
    let total = 0
    let idle = 0
    let gc = 0
    for (let i = 0; i < p.samples.length; i++) {
      const ti = times[i]!
      if (ti < w.fromUs || ti > w.toUs) continue
      // the sample's weight: the gap to the next sample (V8 attributes it to this stack)
      const dt = ((times[i + 1] ?? ti) - ti) / 1000
      total += dt
      const n = byId.get(p.samples[i]!)!
      const fname = n.callFrame.functionName
      if (fname === '(idle)') { idle += dt; continue }
      if (fname === '(garbage collector)') gc += dt
      const f = fileOf(n.callFrame)
      file.set(f, (file.get(f) ?? 0) + dt)
      self.set(label(n), (self.get(label(n)) ?? 0) + dt)
      const seen = new Set<string>()
      for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
        const node = byId.get(id)!
        if (!ours(node)) continue
        const k = label(node)
        if (seen.has(k)) continue
        seen.add(k)
        incl.set(k, (incl.get(k) ?? 0) + dt)
      }
    }
    const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
    out.push({
      name: w.name, totalMs: total, idleMs: idle, gcMs: gc,
      byFile: sorted(file).map(([file, ms]) => ({ file, ms })),
      bySelf: sorted(self).map(([fn, ms]) => ({ fn, ms })),
      byInclusive: sorted(incl).map(([fn, ms]) => ({ fn, ms })),
    })
  }
  return out
}

export function formatSummary(s: WindowSummary): string {
  const L = [`  ${s.name}: ${s.totalMs.toFixed(0)} ms sampled, ${s.idleMs.toFixed(0)} ms idle, ${s.gcMs.toFixed(0)} ms GC`]
  L.push('    self time by file:')
  for (const f of s.byFile) L.push(`      ${f.ms.toFixed(1).padStart(8)} ms  ${f.file}`)
  L.push('    self time by function:')
  for (const f of s.bySelf) L.push(`      ${f.ms.toFixed(1).padStart(8)} ms  ${f.fn}`)
  L.push('    inclusive time by function (our code):')
  for (const f of s.byInclusive) L.push(`      ${f.ms.toFixed(1).padStart(8)} ms  ${f.fn}`)
  return L.join('\n')
}
