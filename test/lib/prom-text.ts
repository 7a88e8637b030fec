// A small, strict parser of the Prometheus text exposition format (0.0.4) for tests: every
// sample line must parse, every sample must belong to a family announced by # HELP and # TYPE.
export interface PromSample { name: string; labels: Record<string, string>; value: number }
export interface PromText {
  samples: PromSample[]
  types: Map<string, string>
  help: Map<string, string>
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/

export function parsePromText(text: string): PromText {
  const out: PromText = { samples: [], types: new Map(), help: new Map() }
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1} ${JSON.stringify(line)}`
    if (line.trim() === '') return
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line)
    if (meta) {
      if (meta[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(meta[3]!)) throw new Error(`${where}: unknown type`)
        out.types.set(meta[2]!, meta[3]!)
      } else out.help.set(meta[2]!, meta[3]!)
      return
    }
    if (line.startsWith('#')) return
    const name = NAME.exec(line)?.[0]
    if (!name) throw new Error(`${where}: no metric name`)
    let rest = line.slice(name.length)
    const labels: Record<string, string> = {}
    if (rest.startsWith('{')) {
      rest = rest.slice(1)
      while (!rest.startsWith('}')) {
        const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/.exec(rest)
        if (!m) throw new Error(`${where}: bad label at ${JSON.stringify(rest)}`)
        labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
        rest = rest.slice(m[0].length)
      }
      rest = rest.slice(1)
    }
    const v = /^ (\S+)(?: -?\d+)?$/.exec(rest)
    if (!v) throw new Error(`${where}: bad value`)
    // as Prometheus (Go's ParseFloat): NaN and Inf in any case (prom-client writes "Nan")
    const lower = v[1]!.toLowerCase()
    const value = lower === '+inf' || lower === 'inf' ? Infinity : lower === '-inf' ? -Infinity : lower === 'nan' ? NaN : Number(v[1])
    if (Number.isNaN(value) && lower !== 'nan') throw new Error(`${where}: bad value`)
    const family = [name, name.replace(/_(bucket|sum|count|total|created)$/, '')].find((n) => out.types.has(n))
    if (!family) throw new Error(`${where}: sample without a # TYPE line`)
    out.samples.push({ name, labels, value })
  })
  return out
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when none, an error when several. */
export function promValue(p: PromText, name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = p.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return hits[0]?.value
}
