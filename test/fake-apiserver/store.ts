// The fake API server's "etcd": objects per resource keyed "namespace/name", one global
// revision counter (every write bumps it and becomes the object's resourceVersion), and the
// history of writes since the last compaction, from which watches resume and past list
// snapshots (continue tokens, resourceVersionMatch=Exact) are rebuilt. Writes that change
// nothing are not writes (no new revision, no event), as in kube-apiserver.
import type { JsonObject } from './patch.ts'

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface StoreEvent {
  rv: number
  type: EventType
  resource: string
  key: string
  /** the object after the write (for DELETED: the last state, carrying the deletion revision) */
  object: JsonObject
  /** the object before the write (MODIFIED, DELETED) */
  prev?: JsonObject
}

export interface StoreSnapshot { rev: number; objects: Record<string, Record<string, JsonObject>> }

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v))

export class Store {
  /** the latest revision */
  rev = 1
  /** history holds every write with rv > oldest; reads and watches from an rv below it are "expired" */
  oldest = 1
  private readonly objects = new Map<string, Map<string, JsonObject>>()
  private history: StoreEvent[] = []
  private readonly listeners = new Set<(ev: StoreEvent) => void>()

  constructor(readonly maxHistory = 10_000) {}

  private table(resource: string): Map<string, JsonObject> {
    let t = this.objects.get(resource)
    if (!t) this.objects.set(resource, (t = new Map()))
    return t
  }

  get(resource: string, key: string): JsonObject | undefined {
    const o = this.table(resource).get(key)
    return o && clone(o)
  }

  /** Current objects of a resource, sorted by key (namespace, then name) like etcd's range reads. */
  list(resource: string): JsonObject[] {
    return [...this.table(resource).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => clone(o))
  }

  /**
   * Objects of a resource as they were at revision `rv`, sorted by key; 'expired' when the
   * history needed to rebuild them was compacted away, 'future' when rv is ahead of us.
   */
  listAt(resource: string, rv: number): JsonObject[] | 'expired' | 'future' {
    if (rv > this.rev) return 'future'
    if (rv === this.rev) return this.list(resource)
    if (rv < this.oldest) return 'expired'
    const state = new Map(this.table(resource))
    for (let i = this.history.length - 1; i >= 0 && this.history[i]!.rv > rv; i--) {
      const ev = this.history[i]!
      if (ev.resource !== resource) continue
      if (ev.type === 'ADDED') state.delete(ev.key)
      else state.set(ev.key, ev.prev!)
    }
    return [...state.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => clone(o))
  }

  /**
   * Create, replace or delete (object undefined) one object; returns the event, or undefined
   * when the object is unchanged. Sets metadata.resourceVersion to the new revision.
   */
  write(resource: string, key: string, object: JsonObject | undefined): StoreEvent | undefined {
    const t = this.table(resource)
    const prev = t.get(key)
    if (object === undefined) {
      if (!prev) return undefined
      const rv = ++this.rev
      t.delete(key)
      const last = clone(prev)
      ;(last.metadata as JsonObject).resourceVersion = String(rv)
      return this.record({ rv, type: 'DELETED', resource, key, object: last, prev: clone(prev) })
    }
    if (prev) {
      const a = clone(prev); const b = clone(object)
      ;(a.metadata as JsonObject).resourceVersion = ''; (b.metadata as JsonObject).resourceVersion = ''
      if (JSON.stringify(a) === JSON.stringify(b)) return undefined
    }
    const rv = ++this.rev
    const stored = clone(object)
    ;(stored.metadata as JsonObject).resourceVersion = String(rv)
    t.set(key, stored)
    return this.record({ rv, type: prev ? 'MODIFIED' : 'ADDED', resource, key, object: clone(stored), ...(prev ? { prev: clone(prev) } : {}) })
  }

  private record(ev: StoreEvent): StoreEvent {
    this.history.push(ev)
    if (this.history.length > this.maxHistory) {
      const drop = this.history.length - this.maxHistory
      this.oldest = this.history[drop - 1]!.rv
      this.history = this.history.slice(drop)
    }
    for (const l of [...this.listeners]) l(ev)
    return ev
  }

  /** Writes after revision rv (rv must not be expired). */
  since(rv: number): StoreEvent[] {
    return this.history.filter((e) => e.rv > rv)
  }

  /** Like etcd compaction at the current revision: every older revision becomes unreadable. */
  compact(): void {
    this.history = []
    this.oldest = this.rev
  }

  /** Reserve a revision without writing (what unrelated writes elsewhere in etcd do). */
  bump(): number {
    return ++this.rev
  }

  subscribe(fn: (ev: StoreEvent) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  snapshot(): StoreSnapshot {
    const objects: StoreSnapshot['objects'] = {}
    for (const [r, t] of this.objects) objects[r] = Object.fromEntries([...t.entries()].map(([k, o]) => [k, clone(o)]))
    return { rev: this.rev, objects }
  }

  /** A store loaded from a snapshot has no history (a restarted server's watch cache is empty). */
  static fromSnapshot(s: StoreSnapshot, maxHistory?: number): Store {
    const st = new Store(maxHistory)
    st.rev = s.rev
    st.oldest = s.rev
    for (const [r, objs] of Object.entries(s.objects)) for (const [k, o] of Object.entries(objs)) st.table(r).set(k, clone(o))
    return st
  }
}
