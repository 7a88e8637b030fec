// `porter controller` / `porter agent`: builds the mode's real adapters and runs the daemon.
// Loaded by main.ts with import() only for these two modes, so that `porter version`,
// `validate` and `status` never evaluate the BGP stack, the Kubernetes client, netlink or nft.
import type { Config } from '../../internal/config/index.ts'
import type { PorterError } from '../../internal/errors/index.ts'
import { createLogger } from '../../internal/log/index.ts'
import { runDaemon, type Service } from '../../internal/daemon/run.ts'
import { mallocTrim, sdNotify, watchdogInterval } from '../../internal/sys/index.ts'
import { EXIT_OK, EXIT_RUNTIME } from './io.ts'
import { vipAddressCount } from '../../internal/config/index.ts'
import { currentDaemonTier, daemonTier, raiseDaemonTier, startHeapTrimmer } from './heap.ts'

export interface DaemonArgs {
  file: string
  cfg: Config
  level: string
  cleanup: boolean
}

async function createService(mode: 'controller' | 'agent', log: ReturnType<typeof createLogger>): Promise<Service> {
  if (mode === 'controller') return (await import('../../internal/controller/service.ts')).createControllerService({ log })
  return (await import('../../internal/daemon/agent-service.ts')).createAgentService({ log })
}

export async function daemon(mode: 'controller' | 'agent', { file, cfg, level, cleanup }: DaemonArgs): Promise<number> {
  const log = createLogger({ level: level as 'info', base: { mode } })
  if (mode === 'agent' && cleanup) {
    const { createAgentService } = await import('../../internal/daemon/agent-service.ts')
    const svc = createAgentService({ log })
    try {
      await svc.cleanup(cfg)
      return EXIT_OK
    } catch (e) {
      log.error({ error: { code: (e as PorterError).code, message: (e as Error).message } }, 'cleanup failed')
      return EXIT_RUNTIME
    }
  }
  const service = await createService(mode, log)
  const stopTrimmer = startHeapTrimmer({ mallocTrim })
  // systemd Type=notify: READY=1 once started, STOPPING=1 on stop, WATCHDOG=1 when WatchdogSec is set
  const notify = (state: string) => {
    try {
      sdNotify(state)
    } catch (e) {
      log.warn({ error: (e as Error).message }, 'systemd notification failed')
    }
  }
  let watchdog: NodeJS.Timeout | undefined
  try {
    const d = await runDaemon({
      configFile: file, config: cfg, log, service,
      onReady: () => {
        notify(`READY=1\nSTATUS=${mode} running\nMAINPID=${process.pid}`)
        const every = watchdogInterval()
        if (every) watchdog = setInterval(() => notify('WATCHDOG=1'), every).unref()
      },
      onStopping: () => notify('STOPPING=1'),
      // the built executable's asset loaders record what V8 did with each bundle's code cache
      // (build/build.mjs): "used", or "rejected" when the flags differ from the ones it was made under
      // and the V8 tiers the daemon runs at (cmd/porter/heap.ts)
      startInfo: () => {
        const codeCaches = (globalThis as { [k: symbol]: unknown })[Symbol.for('porter.codeCaches')]
        const tier = currentDaemonTier()
        return { ...(codeCaches ? { codeCaches } : {}), ...(tier ? { tier } : {}) }
      },
      // a controller whose table grows past FULL_TIER_VIPS gets the optimizing compiler
      onConfig: (next) => {
        const vips = vipAddressCount(next.vips)
        const tier = raiseDaemonTier(daemonTier(mode, next.kubernetes.enabled, vips))
        if (tier) log.info({ tier, vips }, `${mode} now runs at V8 tier "${tier}" (the optimizing compiler on)`)
      },
    })
    const code = await d.done
    clearInterval(watchdog)
    stopTrimmer()
    // a daemon ends when it says so, not when the event loop happens to drain (logs are sync)
    setImmediate(() => process.exit(code))
    return code
  } catch (e) {
    log.fatal({ error: { code: (e as PorterError).code, message: (e as Error).message } }, `${mode} failed to start`)
    return EXIT_RUNTIME
  }
}
