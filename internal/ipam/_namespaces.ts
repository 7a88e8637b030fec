// Which namespaces a pool is bound to: by list (spec.namespaces) or by a label selector
// (spec.namespaceSelector) with Kubernetes' metav1.LabelSelector semantics.
import type { NamespaceSelector, Pool } from './types.ts'

function selects(sel: NamespaceSelector, labels: Record<string, string>): boolean {
  const has = (k: string) => Object.hasOwn(labels, k)
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (!has(k) || labels[k] !== v) return false
  for (const e of sel.matchExpressions ?? []) {
    const inValues = has(e.key) && (e.values ?? []).includes(labels[e.key]!)
    const ok = e.operator === 'In' ? inValues : e.operator === 'NotIn' ? !inValues : e.operator === 'Exists' ? has(e.key) : e.operator === 'DoesNotExist' ? !has(e.key) : false
    if (!ok) return false
  }
  return true
}

export function boundTo(pool: Pool, namespace: string, labels: Record<string, string>): boolean {
  return pool.namespaces.includes(namespace) || (pool.namespaceSelector !== undefined && selects(pool.namespaceSelector, labels))
}
