// The contract of the pure session core (core.ts): events in, effects out. No sockets, no
// timers: the socket adapter (peer.ts) or a test harness turns socket events and clock timers
// into events and applies the effects.
//
// Connections are named by ConnId: the core names the ones it dials (`connect` effect), the
// adapter names the incoming ones (`opened` with direction 'incoming'); the two never share a
// name ('out<n>' from the core, anything else from the adapter). Timers are named by TimerId,
// opaque to the adapter.
import type { StateName } from '../fsm/index.ts'
import type { CodecContext, FamilyKey } from '../wire/index.ts'

export type ConnId = string
export type TimerId = string

export interface RouteSource {
  /**
   * Encoded UPDATE messages bringing the peer from what it has to what is desired, in chunks
   * (each chunk whole messages). `full`: the peer has nothing (true: a new session), or nothing
   * of these families (a route refresh of them).
   */
  drain(ctx: CodecContext, families: readonly FamilyKey[], full: boolean | readonly FamilyKey[], localAddress?: string): { chunks: Iterable<Uint8Array>; commit(): void }
  /** the session went down: the peer has nothing */
  reset(): void
}

/** What happened, without the time (the adapter adds `now`). */
export type SessionInput =
  /** operator start (ManualStart, or the passive variant for a passive peer) */
  | { type: 'start' }
  /**
   * operator stop: Cease / Administrative Shutdown with `message`, or a silent close (graceful
   * restart) unless `notify` (the routes were withdrawn first: the peer must not keep any)
   */
  | { type: 'stop'; message?: string; notify?: boolean }
  /**
   * A TCP connection is up: 'incoming' = accepted from the peer's address (the adapter names it);
   * 'outgoing' = our `connect` completed. `localAddress`: our end (next hop self).
   */
  | { type: 'opened'; conn: ConnId; direction: 'incoming' | 'outgoing'; localAddress?: string }
  /** bytes read from a connection, split anyhow (the core frames them) */
  | { type: 'received'; conn: ConnId; bytes: Uint8Array }
  /** a connection can take more after a `write` with `awaitWritable` (written at once, or after 'drain') */
  | { type: 'writable'; conn: ConnId }
  /** a connection closed (or failed: `error` is the errno or message) */
  | { type: 'closed'; conn: ConnId; error?: string }
  /** a timer set by `set-timer` fired */
  | { type: 'timer'; timer: TimerId }
  /** the RouteSource has something new to send */
  | { type: 'routes-changed' }
  /**
   * the session must end now for a reason outside BGP (BFD down, RFC 5882): AutomaticStop with
   * Cease/`subcode`, then Idle and the automatic restart (back-off); nothing happens in Idle
   */
  | { type: 'automatic-stop'; subcode: number; reason: string }

/** An event: what happened and when (`now`: the injected Clock's monotonic ms). */
export type SessionEvent = SessionInput & { now: number }

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** What the adapter must do, in order. */
export type SessionEffect =
  /** dial the peer; report `opened` (outgoing) or `closed` for `conn` */
  | { type: 'connect'; conn: ConnId }
  /**
   * Write bytes. `awaitWritable`: a chunk of the routes; the core sends no more routes on this
   * connection until it gets `writable` for it (backpressure).
   */
  | { type: 'write'; conn: ConnId; bytes: Uint8Array; awaitWritable?: true }
  /**
   * Close: after what was written (and `notification`, encoded) is flushed, giving up after a
   * while; `abort`: at once, dropping unsent bytes. The core forgets `conn`: events for it are ignored.
   */
  | { type: 'close'; conn: ConnId; notification?: Uint8Array; abort?: true }
  /** (re)arm a timer: replaces a running one of the same name */
  | { type: 'set-timer'; timer: TimerId; ms: number }
  | { type: 'clear-timer'; timer: TimerId }
  | { type: 'log'; level: LogLevel; fields: Record<string, unknown>; msg: string }
  /** the session's state (the RFC 4271 state of the connection that counts) changed */
  | { type: 'status'; state: StateName }
  /** a stop sent NOTIFICATIONs on these connections: wait (a little) for them to close so the NOTIFICATIONs get out */
  | { type: 'flush'; conns: ConnId[] }
