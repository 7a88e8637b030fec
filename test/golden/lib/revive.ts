// The corpus' JSON convention for byte fields: a string "hex:<lowercase hex>" stands for a
// Uint8Array ("hex:" alone is an empty one). revive() turns JSON into the codec's model; bury()
// does the reverse (for readable diffs).

export function revive(v: unknown): unknown {
  if (typeof v === 'string' && v.startsWith('hex:')) return new Uint8Array(Buffer.from(v.slice(4), 'hex'))
  if (Array.isArray(v)) return v.map(revive)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]))
  return v
}

export function bury(v: unknown): unknown {
  if (v instanceof Uint8Array) return `hex:${Buffer.from(v).toString('hex')}`
  if (Array.isArray(v)) return v.map(bury)
  if (v instanceof Set) return [...v].map(bury)
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, bury(x)]))
  }
  return v
}
