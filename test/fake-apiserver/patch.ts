// The three patch formats kube-apiserver accepts on PATCH (besides server-side apply):
//   application/merge-patch+json            RFC 7386 JSON merge patch
//   application/strategic-merge-patch+json  Kubernetes strategic merge patch (lists merged by key)
//   application/json-patch+json             RFC 6902 JSON patch
// PURE: values in, new values out; inputs are never mutated.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
export type JsonObject = { [k: string]: Json }

export class PatchError extends Error {
  constructor(message: string, readonly status: 400 | 409 | 422 = 422) { super(message); this.name = 'PatchError' }
}

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)
const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)))

/** RFC 7386: objects merge recursively, null removes a member, anything else replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObj(patch)) return clone(patch)
  const out: JsonObject = isObj(target) ? clone(target) : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

// ------------------------------------------------------------------ strategic merge patch

/**
 * What a Go struct's `patchStrategy` / `patchMergeKey` tags say about a field. Fields absent
 * from the meta are maps (merged) or atomic lists (replaced), like untagged Go fields.
 */
export interface PatchMeta {
  fields?: Record<string, PatchMeta>
  /** list of objects merged element by element on this key (patchStrategy:"merge") */
  mergeKey?: string
  /** list of scalars merged as a set (patchStrategy:"merge" on a []string) */
  primitiveMerge?: boolean
  /** per-element meta of a list */
  items?: PatchMeta
}

const SET_ORDER = '$setElementOrder/'
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/'

/** Strategic merge patch of `patch` onto `original` (both objects). */
export function strategicMergePatch(original: Json | undefined, patch: Json, meta: PatchMeta = {}): Json {
  if (!isObj(patch)) throw new PatchError('strategic merge patch: the patch is not a JSON object', 400)
  return mergeMap(isObj(original) ? original : {}, patch, meta)
}

function mergeMap(original: JsonObject, patch: JsonObject, meta: PatchMeta): Json {
  const directive = patch.$patch
  if (directive === 'replace') {
    const { $patch: _d, ...rest } = patch
    return stripDirectives(rest)
  }
  if (directive === 'delete') return {}
  if (directive !== undefined && directive !== 'merge') throw new PatchError(`strategic merge patch: unknown patch type "${String(directive)}"`, 400)
  const out: JsonObject = clone(original)
  const retain = patch.$retainKeys
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith(SET_ORDER)) continue
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length)
      if (!Array.isArray(v)) throw new PatchError(`strategic merge patch: ${k} is not a list`, 400)
      const cur = out[field]
      if (Array.isArray(cur)) out[field] = cur.filter((x) => !v.some((d) => JSON.stringify(d) === JSON.stringify(x)))
      continue
    }
    const fm = meta.fields?.[k] ?? {}
    if (v === null) { delete out[k]; continue }
    if (Array.isArray(v)) {
      out[k] = mergeList(Array.isArray(out[k]) ? (out[k] as Json[]) : [], v, fm)
      const order = patch[`${SET_ORDER}${k}`]
      if (Array.isArray(order)) out[k] = applyOrder(out[k] as Json[], order, fm)
    } else if (isObj(v)) {
      const cur = out[k]
      out[k] = mergeMap(isObj(cur) ? cur : {}, v, fm)
    } else out[k] = v
  }
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String))
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k]
  }
  return out
}

function mergeList(original: Json[], patch: Json[], meta: PatchMeta): Json[] {
  // a list-level directive is an element {"$patch": "replace"} (or "delete" for the whole list)
  const listDirective = patch.find((e) => isObj(e) && Object.keys(e).length === 1 && typeof e.$patch === 'string') as JsonObject | undefined
  if (listDirective?.$patch === 'replace') return stripDirectives(patch.filter((e) => e !== listDirective)) as Json[]
  if (listDirective?.$patch === 'delete') return []
  if (meta.mergeKey) {
    const key = meta.mergeKey
    const out = clone(original)
    for (const el of patch) {
      if (!isObj(el)) throw new PatchError(`strategic merge patch: an element of a list merged on "${key}" is not an object`, 400)
      if (!(key in el)) throw new PatchError(`map: ${JSON.stringify(el)} does not contain declared merge key: ${key}`, 400)
      const i = out.findIndex((o) => isObj(o) && JSON.stringify(o[key]) === JSON.stringify(el[key]))
      if (el.$patch === 'delete') { if (i >= 0) out.splice(i, 1); continue }
      if (i >= 0) out[i] = mergeMap(out[i] as JsonObject, el, meta.items ?? {})
      else out.push(stripDirectives(el))
    }
    return out
  }
  if (meta.primitiveMerge) {
    const out = clone(original)
    for (const el of patch) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(el))) out.push(el)
    return out
  }
  return stripDirectives(patch) as Json[]
}

/** `$setElementOrder/<field>`: the final order of a merged list; elements the order omits go last. */
function applyOrder(list: Json[], order: Json[], meta: PatchMeta): Json[] {
  const id = (e: Json): string => JSON.stringify(meta.mergeKey && isObj(e) ? e[meta.mergeKey] : e)
  const want = order.map((o) => JSON.stringify(meta.mergeKey && isObj(o) ? o[meta.mergeKey] : o))
  const rank = (e: Json): number => { const i = want.indexOf(id(e)); return i < 0 ? want.length : i }
  return list.map((e, i) => ({ e, i })).sort((a, b) => rank(a.e) - rank(b.e) || a.i - b.i).map((x) => x.e)
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives)
  if (!isObj(v)) return v
  const out: JsonObject = {}
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x)
  return out
}

// ------------------------------------------------------------------ RFC 6902 JSON patch

function parsePointer(p: string): string[] {
  if (p === '') return []
  if (!p.startsWith('/')) throw new PatchError(`json patch: "${p}" is not a JSON pointer`, 400)
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function parentOf(doc: Json, path: string[], op: string): { parent: JsonObject | Json[]; key: string } {
  let cur: Json = doc
  for (const seg of path.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)] as Json
    else if (isObj(cur)) cur = cur[seg] as Json
    else cur = undefined as unknown as Json
    if (cur === undefined || cur === null || typeof cur !== 'object') throw new PatchError(`json patch: ${op} operation does not apply: doc is missing path: "/${path.join('/')}"`)
  }
  return { parent: cur as JsonObject | Json[], key: path[path.length - 1]! }
}

function getAt(doc: Json, path: string[]): Json | undefined {
  let cur: Json | undefined = doc
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[Number(seg)]
    else if (isObj(cur)) cur = cur[seg]
    else return undefined
  }
  return cur
}

export function jsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError('json patch: the patch is not a JSON array of operations', 400)
  let out = clone(doc)
  for (const raw of ops) {
    if (!isObj(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw new PatchError(`json patch: malformed operation ${JSON.stringify(raw)}`, 400)
    const op = raw.op
    const path = parsePointer(raw.path)
    const add = (p: string[], value: Json): void => {
      if (p.length === 0) { out = clone(value); return }
      const { parent, key } = parentOf(out, p, op)
      if (Array.isArray(parent)) {
        const i = key === '-' ? parent.length : Number(key)
        if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new PatchError(`json patch: ${op} operation does not apply: index ${key} is out of bounds`)
        parent.splice(i, 0, clone(value))
      } else parent[key] = clone(value)
    }
    const remove = (p: string[]): Json => {
      const { parent, key } = parentOf(out, p, op)
      if (Array.isArray(parent)) {
        const i = Number(key)
        if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw new PatchError(`json patch: ${op} operation does not apply: index ${key} is out of bounds`)
        return parent.splice(i, 1)[0] as Json
      }
      if (!(key in parent)) throw new PatchError(`json patch: ${op} operation does not apply: doc is missing key: /${p.join('/')}`)
      const v = parent[key] as Json
      delete parent[key]
      return v
    }
    switch (op) {
      case 'add': add(path, raw.value as Json); break
      case 'remove': remove(path); break
      case 'replace': remove(path); add(path, raw.value as Json); break
      case 'move': { const from = parsePointer(String(raw.from)); const v = remove(from); add(path, v); break }
      case 'copy': { const v = getAt(out, parsePointer(String(raw.from))); if (v === undefined) throw new PatchError(`json patch: copy operation does not apply: doc is missing from path: ${String(raw.from)}`); add(path, v); break }
      case 'test': {
        const v = getAt(out, path)
        if (JSON.stringify(v) !== JSON.stringify(raw.value)) throw new PatchError(`json patch: testing value /${path.join('/')} failed: test failed`)
        break
      }
      default: throw new PatchError(`json patch: unexpected kind of operation "${op}"`, 400)
    }
  }
  return out
}
