// porter <command>: argv -> mode. Builds the real adapters and injects them; no logic of its own.
import { parseArgs } from 'node:util'
import { HELP } from '../../internal/cli/help.ts'
import { renderStatus } from '../../internal/cli/table.ts'
import { configPath, loadConfigFile, ConfigError, DEFAULT_SOCKETS, type Config } from '../../internal/config/index.ts'
import { existsSync } from 'node:fs'
import { adminRequest, type DaemonStatus } from '../../internal/admin/index.ts'
import { PorterError } from '../../internal/errors/index.ts'
import { createLogger } from '../../internal/log/index.ts'
import { runDaemon, type Service } from '../../internal/daemon/run.ts'
import { buildInfo } from '../../internal/version/index.ts'
import { sdNotify, watchdogInterval } from '../../internal/sys/index.ts'
import { summarizeConfig } from '../../internal/cli/summary.ts'
import { createControllerService } from '../../internal/controller/service.ts'
import { createAgentService } from '../../internal/daemon/agent-service.ts'

const EXIT_OK = 0
const EXIT_RUNTIME = 1
const EXIT_USAGE = 2

const out = (s: string) => process.stdout.write(s + '\n')
const err = (s: string) => process.stderr.write(s + '\n')

const FLAGS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'log-level': { type: 'string' },
  socket: { type: 'string' },
  cleanup: { type: 'boolean' },
} as const

const ALLOWED: Record<string, (keyof typeof FLAGS)[]> = {
  version: ['json', 'help'],
  validate: ['config', 'json', 'help'],
  controller: ['config', 'log-level', 'help'],
  agent: ['config', 'log-level', 'cleanup', 'help'],
  status: ['config', 'socket', 'json', 'help'],
}

function usage(msg: string): number {
  err(`porter: ${msg}`)
  err('Run "porter --help" for usage.')
  return EXIT_USAGE
}

function loadOrReport(file: string): Config | number {
  try {
    return loadConfigFile(file)
  } catch (e) {
    if (e instanceof PorterError) {
      err(e.message)
      if (e instanceof ConfigError) err(`porter: ${e.issues.length} error(s) in ${file}, nothing was started`)
      return EXIT_USAGE
    }
    throw e
  }
}

async function daemon(mode: 'controller' | 'agent', flags: Record<string, unknown>): Promise<number> {
  const file = configPath(flags.config as string | undefined, process.env)
  const cfg = loadOrReport(file)
  if (typeof cfg === 'number') return cfg
  const level = (flags['log-level'] as string | undefined) ?? cfg.log.level
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) return usage(`--log-level ${JSON.stringify(level)} is not one of trace, debug, info, warn, error, fatal, silent`)
  const log = createLogger({ level: level as 'info', base: { mode } })
  if (mode === 'agent' && flags.cleanup) {
    const svc = createAgentService({ log })
    try {
      await svc.cleanup(cfg)
      return EXIT_OK
    } catch (e) {
      log.error({ error: { code: (e as PorterError).code, message: (e as Error).message } }, 'cleanup failed')
      return EXIT_RUNTIME
    }
  }
  const service: Service = mode === 'controller' ? createControllerService({ log }) : createAgentService({ log })
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
    })
    const code = await d.done
    clearInterval(watchdog)
    // a daemon ends when it says so, not when the event loop happens to drain (logs are sync)
    setImmediate(() => process.exit(code))
    return code
  } catch (e) {
    log.fatal({ error: { code: (e as PorterError).code, message: (e as Error).message } }, `${mode} failed to start`)
    return EXIT_RUNTIME
  }
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    out(HELP.main!)
    return cmd === undefined ? EXIT_USAGE : EXIT_OK
  }
  if (cmd === '--version') return main(['version'])
  const allowed = ALLOWED[cmd]
  if (!allowed) return usage(`unknown command ${JSON.stringify(cmd)}`)
  let values: Record<string, unknown>
  try {
    const parsed = parseArgs({ args: rest, options: FLAGS, strict: true, allowPositionals: false })
    values = parsed.values
  } catch (e) {
    return usage(`${cmd}: ${(e as Error).message}`)
  }
  const extra = Object.keys(values).filter((k) => !allowed.includes(k as keyof typeof FLAGS))
  if (extra.length) return usage(`${cmd}: unknown flag --${extra[0]}`)
  if (values.help) {
    out(HELP[cmd]!)
    return EXIT_OK
  }
  switch (cmd) {
    case 'version': {
      const b = buildInfo()
      out(values.json ? JSON.stringify(b) : `porter ${b.version} (commit ${b.commit}, node ${b.node})`)
      return EXIT_OK
    }
    case 'validate': {
      const file = configPath(values.config as string | undefined, process.env)
      const cfg = loadOrReport(file)
      if (typeof cfg === 'number') return cfg
      out(values.json ? JSON.stringify(cfg) : `${file}: valid\n${summarizeConfig(cfg)}`)
      return EXIT_OK
    }
    case 'status': {
      let socket = values.socket as string | undefined
      if (!socket) {
        const file = configPath(values.config as string | undefined, process.env)
        try {
          socket = loadConfigFile(file).admin.socket
        } catch {}
        // default: the controller's socket, else the agent's (both modes may run on one host)
        socket ??= existsSync(DEFAULT_SOCKETS.controller) || !existsSync(DEFAULT_SOCKETS.agent) ? DEFAULT_SOCKETS.controller : DEFAULT_SOCKETS.agent
      }
      try {
        const st = (await adminRequest(socket, { cmd: 'status' })) as DaemonStatus
        out(values.json ? JSON.stringify(st, null, 2) : renderStatus(st))
        return EXIT_OK
      } catch (e) {
        err(`porter: ${(e as Error).message}`)
        return EXIT_RUNTIME
      }
    }
    case 'controller':
    case 'agent':
      return daemon(cmd, values)
  }
  return usage(`unknown command ${JSON.stringify(cmd)}`)
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (e) => {
    err(`porter: internal error: ${(e as Error)?.stack ?? e}`)
    process.exitCode = EXIT_RUNTIME
  },
)
