// Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics: a candidate
// takes the lease when it is free or when its holder has not renewed it for leaseDuration (as
// observed on this replica's own clock, never by comparing clocks); the leader renews every
// retryPeriod and gives up leadership at once when it could not renew for renewDeadline.
// Writes carry the resourceVersion, so two candidates never both win.
import type { Clock } from '../base/index.ts'
import type { KubeRest } from './rest.ts'
import { describeError } from './errors.ts'

export interface LeaseOptions {
  rest: KubeRest
  clock: Clock
  namespace: string
  name: string
  identity: string
  leaseDurationMs?: number
  renewDeadlineMs?: number
  retryPeriodMs?: number
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void }
  onStartedLeading(): void
  onStoppedLeading(): void
}

interface LeaseSpec {
  holderIdentity?: string
  leaseDurationSeconds?: number
  acquireTime?: string
  renewTime?: string
  leaseTransitions?: number
}
interface Lease { metadata: { name: string; namespace: string; resourceVersion?: string }; spec?: LeaseSpec }

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')

export interface LeaseStatus { leader: boolean; holder?: string; lastRenew?: string; transitions: number; lastError?: string }

export class LeaderElector {
  private leading = false
  private timer: unknown
  private stopped = true
  private observed: { record: string; at: number } | undefined
  private lastRenewOk = 0
  private holder: string | undefined
  private lastError: string | undefined
  private transitions = 0
  private readonly leaseMs: number
  private readonly deadlineMs: number
  private readonly retryMs: number
  private readonly path: string

  constructor(private readonly o: LeaseOptions) {
    this.leaseMs = o.leaseDurationMs ?? 15_000
    this.deadlineMs = o.renewDeadlineMs ?? 10_000
    this.retryMs = o.retryPeriodMs ?? 2_000
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(o.namespace)}/leases`
  }

  get isLeader(): boolean { return this.leading }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    void this.tick()
  }

  /** Stop; a leader releases the lease so another replica takes over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true
    this.o.clock.clearTimeout(this.timer)
    if (this.leading) {
      this.setLeading(false)
      try {
        const cur = await this.o.rest.get<Lease>(`${this.path}/${this.o.name}`)
        if (cur.spec?.holderIdentity === this.o.identity) {
          await this.o.rest.call('PUT', `${this.path}/${this.o.name}`, { ...cur, spec: { ...cur.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.o.clock.wallNow()) } })
        }
      } catch (e) {
        this.o.log.warn({ error: describeError(e).message }, 'leader election: could not release the lease')
      }
    }
  }

  status(): LeaseStatus {
    return {
      leader: this.leading, transitions: this.transitions,
      ...(this.holder !== undefined ? { holder: this.holder } : {}),
      ...(this.lastRenewOk ? { lastRenew: new Date(this.o.clock.wallNow() - (this.o.clock.now() - this.lastRenewOk)).toISOString() } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    }
  }

  private setLeading(v: boolean): void {
    if (v === this.leading) return
    this.leading = v
    if (v) {
      this.o.log.info({ lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity }, 'leader election: this replica is the leader')
      this.o.onStartedLeading()
    } else {
      this.o.log.warn({ lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity }, 'leader election: leadership lost, writes stop (announcing goes on)')
      this.o.onStoppedLeading()
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return
    let ok = false
    try {
      ok = await this.tryAcquireOrRenew()
      this.lastError = undefined
    } catch (e) {
      this.lastError = describeError(e).message
    }
    if (this.stopped) return
    const now = this.o.clock.now()
    if (ok) {
      this.lastRenewOk = now
      this.setLeading(true)
    } else if (this.leading && now - this.lastRenewOk >= this.deadlineMs) {
      this.setLeading(false)
    } else if (this.leading && this.holder !== undefined && this.holder !== this.o.identity) {
      this.setLeading(false)
    }
    this.timer = this.o.clock.setTimeout(() => void this.tick(), this.retryMs)
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.o.clock.now()
    const wall = microTime(this.o.clock.wallNow())
    const r = await this.o.rest.raw<Lease>('GET', `${this.path}/${this.o.name}`)
    const mine: LeaseSpec = { holderIdentity: this.o.identity, leaseDurationSeconds: Math.ceil(this.leaseMs / 1000), acquireTime: wall, renewTime: wall, leaseTransitions: 0 }
    if (r.status === 404) {
      const c = await this.o.rest.raw('POST', this.path, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace }, spec: mine })
      if (c.status === 409) return false // another replica created it first
      if (c.status < 200 || c.status > 299) throw Object.assign(new Error(`creating the lease: HTTP ${c.status}`), { code: c.status })
      this.holder = this.o.identity
      return true
    }
    if (r.status !== 200) throw Object.assign(new Error(`reading the lease: HTTP ${r.status}`), { code: r.status })
    const lease = r.body
    const spec = lease.spec ?? {}
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseTransitions])
    if (!this.observed || this.observed.record !== record) this.observed = { record, at: now }
    this.holder = spec.holderIdentity || undefined
    const held = spec.holderIdentity !== undefined && spec.holderIdentity !== '' && spec.holderIdentity !== this.o.identity
    const duration = (spec.leaseDurationSeconds ?? Math.ceil(this.leaseMs / 1000)) * 1000
    if (held && this.observed.at + duration > now) return false
    const next: LeaseSpec = spec.holderIdentity === this.o.identity
      ? { ...spec, renewTime: wall, leaseDurationSeconds: mine.leaseDurationSeconds }
      : { ...mine, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }
    const u = await this.o.rest.raw('PUT', `${this.path}/${this.o.name}`, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: lease.metadata, spec: next })
    if (u.status === 409) return false
    if (u.status < 200 || u.status > 299) throw Object.assign(new Error(`updating the lease: HTTP ${u.status}`), { code: u.status })
    if (spec.holderIdentity !== this.o.identity) this.transitions++
    this.holder = this.o.identity
    this.observed = { record: JSON.stringify([next.holderIdentity, next.renewTime, next.leaseTransitions]), at: now }
    return true
  }
}
