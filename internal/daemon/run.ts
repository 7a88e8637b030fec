// The long-running process around a mode (controller | agent): config, logging, admin socket,
// metrics listener (admin.metricsAddress; internal/metrics, loaded only when configured),
// signals. SIGTERM/SIGINT stop within config.shutdownTimeout; SIGHUP re-reads the config and
// keeps the running one when the new one is invalid or fails to apply.
import type { DaemonStatus, ModeStatus } from '../admin/index.ts'
import type { Logger } from 'pino'
import { loadConfigFile, adminSocketPath, type Config } from '../config/index.ts'
import { startAdminServer, type AdminServer } from '../admin/index.ts'
import { PorterError } from '../errors/index.ts'
import { buildInfo } from '../version/index.ts'
import { realClock, type Clock } from '../base/index.ts'

export interface Service {
  readonly mode: 'controller' | 'agent'
  start(cfg: Config): Promise<void>
  /** Apply a new valid config. Throwing keeps the previous config in force. */
  reload(next: Config, prev: Config): Promise<void>
  stop(): Promise<void>
  status(): ModeStatus
}

export interface DaemonOptions {
  configFile: string
  config: Config
  log: Logger
  service: Service
  /** process-like signal source (tests may pass an EventEmitter) */
  signals?: NodeJS.EventEmitter
  exit?: (code: number) => void
  /** called once the service started (systemd READY=1 goes here) */
  onReady?: () => void
  onStopping?: () => void
  /** durations in the log (default: the process clock) */
  clock?: Clock
  /** more fields for the "started" log line, read once the service has started */
  startInfo?: () => Record<string, unknown>
  /** called with each valid config a reload read, before the service applies it */
  onConfig?: (next: Config) => void
}

export interface Daemon {
  /** resolves with the exit code once stopped */
  done: Promise<number>
  reload(): Promise<boolean>
  shutdown(reason: string): Promise<number>
}

export async function runDaemon(o: DaemonOptions): Promise<Daemon> {
  const { log, service, configFile } = o
  const clock = o.clock ?? realClock
  const ms = (from: number, to: number) => Math.round((to - from) * 10) / 10
  const signals = o.signals ?? process
  let config = o.config
  const startedAt = Date.now()
  let lastReload: { at: string; ok: boolean; error?: string } | undefined
  let admin: AdminServer | undefined
  let metrics: { close(): Promise<void> } | undefined
  let phase: 'starting' | 'running' | 'stopping' = 'starting'
  let resolveDone!: (code: number) => void
  const done = new Promise<number>((r) => (resolveDone = r))

  admin = await startAdminServer(adminSocketPath(config, service.mode), async (req) => {
    if (req.cmd === 'status') {
      const st: DaemonStatus = {
        mode: service.mode,
        pid: process.pid,
        ...buildInfo(),
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        configFile,
        ...(lastReload ? { lastReload } : {}),
        ...service.status(),
      }
      return st
    }
    throw new Error(`unknown command ${JSON.stringify(req.cmd)}`)
  })
  log.info({ socket: admin.path }, 'admin socket listening')

  const metricsAddress = config.admin.metricsAddress
  if (metricsAddress !== undefined) {
    try {
      // prom-client is loaded here, in the daemon modes only
      const { startMetrics } = await import('../metrics/index.ts')
      metrics = await startMetrics({ mode: service.mode, address: metricsAddress, status: () => service.status(), phase: () => phase, log })
    } catch (e) {
      await admin.close()
      throw e
    }
    log.info({ address: metricsAddress }, 'metrics listening: /metrics, /healthz, /readyz')
  }

  try {
    await service.start(config)
  } catch (e) {
    await metrics?.close()
    await admin.close()
    throw e
  }
  phase = 'running'
  log.info({ version: buildInfo().version, commit: buildInfo().commit, ...o.startInfo?.() }, `${service.mode} started`)
  o.onReady?.()

  let reloading: Promise<boolean> = Promise.resolve(true)
  const reload = (): Promise<boolean> => {
    reloading = reloading.then(async () => {
      let next: Config
      const t0 = clock.now()
      try {
        // the config in force: addresses written as in it keep its strings (a reload of a 100k list)
        next = loadConfigFile(configFile, config)
      } catch (e) {
        lastReload = { at: new Date().toISOString(), ok: false, error: (e as Error).message }
        log.error({ error: { code: (e as PorterError).code, message: (e as Error).message } }, 'reload rejected: the new config is invalid, the running config stays in force')
        return false
      }
      if (next.admin.socket !== config.admin.socket) {
        log.warn({ socket: adminSocketPath(config, service.mode) }, 'admin.socket changes take effect on restart')
      }
      if (next.admin.metricsAddress !== config.admin.metricsAddress) {
        log.warn({ metricsAddress: config.admin.metricsAddress ?? null }, 'admin.metricsAddress changes take effect on restart')
      }
      o.onConfig?.(next)
      const t1 = clock.now()
      try {
        await service.reload(next, config)
      } catch (e) {
        lastReload = { at: new Date().toISOString(), ok: false, error: (e as Error).message }
        log.error({ error: { code: (e as PorterError).code, message: (e as Error).message } }, 'reload failed, the running config stays in force')
        return false
      }
      config = next
      lastReload = { at: new Date().toISOString(), ok: true }
      // readMs: the file read and checked; applyMs: the service taking it (plan, speaker, agent)
      log.info({ readMs: ms(t0, t1), applyMs: ms(t1, clock.now()) }, 'config reloaded')
      return true
    })
    return reloading
  }

  let stopping: Promise<number> | undefined
  const shutdown = (reason: string): Promise<number> => {
    if (stopping) return stopping
    phase = 'stopping'
    o.onStopping?.()
    log.info({ reason }, 'shutting down')
    const limit = config.shutdownTimeout
    stopping = (async () => {
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), limit) })
      const result = await Promise.race([service.stop().then(() => 'ok' as const, (e: Error) => e), timedOut])
      clearTimeout(timer)
      await metrics?.close()
      await admin?.close()
      let code = 0
      if (result === 'timeout') {
        log.error({ code: 'PORTER_ERR_SHUTDOWN_TIMEOUT', timeoutMs: limit }, 'shutdown did not finish in time, exiting anyway')
        code = 1
      } else if (result instanceof Error) {
        log.error({ error: { message: result.message } }, 'shutdown failed')
        code = 1
      } else log.info('stopped')
      signals.off('SIGTERM', onTerm)
      signals.off('SIGINT', onInt)
      signals.off('SIGHUP', onHup)
      resolveDone(code)
      return code
    })()
    return stopping
  }

  const onTerm = () => void shutdown('SIGTERM')
  const onInt = () => void shutdown('SIGINT')
  const onHup = () => {
    // a graceful shutdown may be withdrawing routes: a reload must not bring any back
    if (phase === 'stopping') return void log.warn('SIGHUP ignored: porter is shutting down')
    log.info('SIGHUP: re-reading config')
    void reload()
  }
  signals.on('SIGTERM', onTerm)
  signals.on('SIGINT', onInt)
  signals.on('SIGHUP', onHup)

  return { done, reload, shutdown }
}
