// Label and field selectors as kube-apiserver parses them (k8s.io/apimachinery/pkg/labels and
// pkg/fields): `a=b,c!=d,e in (f,g),h notin (i),j,!k` and `metadata.name=x,metadata.namespace!=y`.
// PURE.

export type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' }

export class SelectorError extends Error {}

/** Split on commas that are not inside parentheses. */
function split(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) { out.push(cur); cur = '' } else cur += ch
  }
  out.push(cur)
  return out.map((x) => x.trim()).filter((x) => x !== '')
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

export function parseLabelSelector(s: string | undefined): Requirement[] {
  if (!s) return []
  return split(s).map((part) => {
    let m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(part)
    if (m) {
      const [, key, op, value] = m
      check(key!, part)
      if (!VALUE.test(value!)) throw new SelectorError(`unable to parse requirement: values[0][${key}]: Invalid value: "${value}"`)
      return { key: key!, op: op === '!=' ? 'neq' : 'eq', value: value! }
    }
    m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part)
    if (m) {
      const [, key, op, list] = m
      check(key!, part)
      const values = list!.split(',').map((x) => x.trim()).filter((x) => x !== '')
      return { key: key!, op: op as 'in' | 'notin', values }
    }
    m = /^(!?)\s*(\S+)$/.exec(part)
    if (m) {
      check(m[2]!, part)
      return { key: m[2]!, op: m[1] ? 'notexists' : 'exists' }
    }
    throw new SelectorError(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=`)
  })
}

function check(key: string, part: string): void {
  if (!KEY.test(key)) throw new SelectorError(`unable to parse requirement: key: Invalid value: "${key}" (in "${part}")`)
}

export function matchLabels(reqs: readonly Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {}
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key)
    switch (r.op) {
      case 'eq': return has && l[r.key] === r.value
      case 'neq': return !has || l[r.key] !== r.value
      case 'in': return has && r.values.includes(l[r.key]!)
      case 'notin': return !has || !r.values.includes(l[r.key]!)
      case 'exists': return has
      case 'notexists': return !has
    }
  })
}

export interface FieldRequirement { field: string; op: 'eq' | 'neq'; value: string }

/** Field selectors support =, == and != on the fields a resource declares. */
export function parseFieldSelector(s: string | undefined, supported: readonly string[]): FieldRequirement[] {
  if (!s) return []
  return split(s).map((part) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part)
    if (!m) throw new SelectorError(`invalid selector: '${s}'; can't understand '${part}'`)
    const field = m[1]!.trim()
    if (!supported.includes(field)) throw new SelectorError(`field label not supported: ${field}`)
    return { field, op: m[2] === '!=' ? 'neq' : 'eq', value: m[3]!.trim() }
  })
}

export function matchFields(reqs: readonly FieldRequirement[], fields: Record<string, string>): boolean {
  return reqs.every((r) => (r.op === 'eq' ? fields[r.field] === r.value : fields[r.field] !== r.value))
}
