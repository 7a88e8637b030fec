// An informer (client-node's ListWatch: list, then watch from the list's resourceVersion, keep a
// cache) that keeps itself running:
//   - client-node gives up after a connection error or a failed list (it only calls the error
//     callbacks): start() again with exponential back-off, resuming from the last resourceVersion
//   - 410 Gone (an ERROR event or an HTTP 410 on the watch): client-node forgets the
//     resourceVersion and re-lists; the cache then drops what the new list no longer has
//   - lists are chunked (limit/continue); a continue token that expired (410) restarts the list
// It reports connected / synced / last error, and calls onChange after every cache change.
import { ListWatch, Watch, type KubeConfig, type KubernetesObject, type KubernetesListObject } from '@kubernetes/client-node'
import { backoffInit, backoffOnFailure, backoffOnSuccess, backoffPolicy, type BackoffPolicy, type BackoffState, type Clock } from '../base/index.ts'
import { describeError, httpStatus } from './errors.ts'

export interface InformerLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
}

/** One page of a list: client-node's generated list calls return this shape. */
export interface ListPage<T> {
  metadata?: { resourceVersion?: string; _continue?: string }
  items: T[]
}

export interface InformerOptions<T extends KubernetesObject> {
  /** for logs and status: "services" */
  name: string
  /** collection path for the watch: "/api/v1/services" */
  path: string
  /** fetch one page (limit is the chunk size; cont the continue token) */
  listPage(limit: number, cont: string | undefined): Promise<ListPage<T>>
  kubeConfig: KubeConfig
  clock: Clock
  log: InformerLogger
  /** called after each cache change (add / update / delete, and after each list) */
  onChange(): void
  /** list chunk size (default 500, like client-go) */
  chunkSize?: number
  /** restart back-off after an error: first delay and cap (default 500 ms, 30 s); connecting resets it */
  backoff?: { initialMs?: number; maxMs?: number }
  /** a watch with no data for this long is restarted (client-node's default: 30 s) */
  watchIdleTimeoutMs?: number
  /** watch only the objects this selects ("metadata.name=node-1"); listPage must apply it too */
  fieldSelector?: string
  /** applied to every object before it is cached (e.g. drop fields the reader never uses) */
  trim?: (o: T) => void
}

export interface InformerStatus {
  name: string
  /** the last list or watch request succeeded (no error since) */
  connected: boolean
  /** a full list has completed at least once: the cache is usable */
  synced: boolean
  objects: number
  /** `at`: wall time, ms since the epoch */
  lastError?: { at: number; message: string; status?: number }
  /** completed lists (the first one, then one per 410 / restart without a resourceVersion) */
  lists: number
  /** 410 Gone seen (watch ERROR event, HTTP 410, expired continue token) */
  expired: number
  /** restarts after an error */
  restarts: number
  /** consecutive failures (0 when connected) */
  failures: number
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>
  private readonly chunk: number
  private readonly backoffPolicy: BackoffPolicy
  private backoff: BackoffState
  private stopped = true
  private restartTimer: unknown
  private readonly st: Omit<InformerStatus, 'name' | 'objects'> = { connected: false, synced: false, lists: 0, expired: 0, restarts: 0, failures: 0 }

  constructor(private readonly o: InformerOptions<T>) {
    this.chunk = o.chunkSize ?? 500
    this.backoffPolicy = backoffPolicy({ initialMs: o.backoff?.initialMs ?? 500, maxMs: o.backoff?.maxMs ?? 30_000 })
    this.backoff = backoffInit(this.backoffPolicy)
    const real = new Watch(o.kubeConfig)
    if (o.watchIdleTimeoutMs !== undefined) (real as unknown as { requestTimeoutMs: number }).requestTimeoutMs = o.watchIdleTimeoutMs
    // wrap the watch to learn when a watch request was accepted and to see 410 ERROR events
    const watch = {
      watch: async (path: string, params: Record<string, string | number | boolean | undefined>, cb: (phase: string, obj: unknown, raw: unknown) => void, done: (err: unknown) => void) => {
        // client-node's ListWatch keeps the controller only once this resolves, so a stop() during
        // a list or while the watch request is in flight would leave the watch open: check both
        if (this.stopped) return new AbortController()
        let failed = false
        const ctl = await real.watch(path, params, (phase, obj, raw) => {
          if (phase === 'ERROR') this.onWatchError(obj)
          if (phase !== 'ERROR' && o.trim && obj && typeof obj === 'object') o.trim(obj as T)
          cb(phase, obj, raw)
        }, (err) => {
          failed = true
          if (err && httpStatus(err) === 410) this.onExpired('watch request', err)
          done(err)
        })
        if (this.stopped) { ctl.abort(); return ctl }
        if (!failed) this.ok()
        return ctl
      },
    } as unknown as Watch
    const delayFn = (ms: number) => new Promise<void>((r) => { o.clock.setTimeout(r, ms) })
    this.lw = new ListWatch<T>(o.path, watch, () => this.listAll(), false, undefined, o.fieldSelector, { delayFn })
    const changed = () => o.onChange()
    this.lw.on('add', changed)
    this.lw.on('update', changed)
    this.lw.on('delete', changed)
    this.lw.on('error', (err) => this.onError(err))
  }

  /** Start listing and watching (returns once the first attempt began; errors are retried). */
  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.run()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.o.clock.clearTimeout(this.restartTimer)
    this.restartTimer = undefined
    await this.lw.stop()
  }

  list(): readonly T[] {
    return this.lw.list()
  }

  status(): InformerStatus {
    return { name: this.o.name, objects: this.lw.list().length, ...this.st, ...(this.st.lastError ? { lastError: { ...this.st.lastError } } : {}) }
  }

  private run(): void {
    this.lw.start().catch((e: unknown) => this.onError(e))
  }

  private ok(): void {
    if (!this.st.connected && this.st.failures > 0) this.o.log.info({ resource: this.o.name, restarts: this.st.restarts }, `Kubernetes ${this.o.name}: connected again`)
    this.st.connected = true
    this.backoff = backoffOnSuccess(this.backoffPolicy, this.backoff, this.o.clock.now())
    this.st.failures = this.backoff.failures
  }

  private async listAll(): Promise<KubernetesListObject<T>> {
    let cont: string | undefined
    let rv: string | undefined
    let items: T[] = []
    let restarted = false
    for (;;) {
      let page: ListPage<T>
      try {
        page = await this.o.listPage(this.chunk, cont)
      } catch (e) {
        // an expired continue token: start the list again from the beginning (once)
        if (cont !== undefined && httpStatus(e) === 410 && !restarted) {
          this.onExpired('continue token', e)
          restarted = true
          cont = undefined
          rv = undefined
          items = []
          continue
        }
        throw e
      }
      rv ??= page.metadata?.resourceVersion
      if (this.o.trim) for (const it of page.items) this.o.trim(it)
      items = items.concat(page.items)
      cont = page.metadata?._continue || undefined
      if (cont === undefined) break
    }
    this.st.lists++
    this.ok()
    this.st.synced = true
    this.o.log.debug({ resource: this.o.name, objects: items.length, resourceVersion: rv }, `Kubernetes ${this.o.name}: listed`)
    // the cache applies the list right after this returns (its add/update/delete callbacks call
    // onChange for what changed); an empty or unchanged list calls none, so tell the caller anyway
    this.o.clock.setTimeout(() => this.o.onChange(), 0)
    return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: rv ?? '' }, items } as KubernetesListObject<T>
  }

  private onWatchError(obj: unknown): void {
    const code = (obj as { code?: unknown } | undefined)?.code
    if (code === 410) this.onExpired('watch', obj)
    else this.o.log.warn({ resource: this.o.name, status: obj }, `Kubernetes ${this.o.name}: watch error event`)
  }

  private onExpired(where: string, e: unknown): void {
    this.st.expired++
    const message = (e as { message?: unknown } | undefined)?.message
    this.o.log.info({ resource: this.o.name, where, message }, `Kubernetes ${this.o.name}: resourceVersion expired (410 Gone), re-listing`)
  }

  private onError(err: unknown): void {
    if (this.stopped) return // stop() aborts the watch, which reports an AbortError
    const d = describeError(err)
    this.st.connected = false
    // every failure grows the back-off, also one that comes while a restart is already scheduled
    const b = backoffOnFailure(this.backoffPolicy, this.backoff, this.o.clock.now())
    this.backoff = b.state
    this.st.failures = b.state.failures
    this.st.lastError = { at: this.o.clock.wallNow(), ...d }
    if (this.restartTimer !== undefined) return
    const delay = b.delayMs
    this.o.log.warn({ resource: this.o.name, error: d.message, status: d.status, failures: this.st.failures, retryInMs: delay }, `Kubernetes ${this.o.name}: ${d.message}; retrying`)
    this.restartTimer = this.o.clock.setTimeout(() => {
      this.restartTimer = undefined
      if (this.stopped) return
      this.st.restarts++
      this.run()
    }, delay)
  }
}
