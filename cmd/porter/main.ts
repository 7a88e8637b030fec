// porter <command>: argv -> mode. Builds the real adapters and injects them; no logic of its own.
import { HELP } from '../../internal/cli/help.ts'
import { renderStatus } from '../../internal/cli/table.ts'
import type { Config } from '../../internal/config/index.ts'
import { configPath } from '../../internal/config/paths.ts'
import { existsSync } from 'node:fs'
import type { DaemonStatus } from '../../internal/admin/index.ts'
import { buildInfo } from '../../internal/version/index.ts'
import { summarizeConfig } from '../../internal/cli/summary.ts'
import { parseFlags, type FlagSpec } from '../../internal/cli/args.ts'

import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, exitQuietlyOnClosedPipe, out, err } from './io.ts'

const FLAGS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'log-level': { type: 'string' },
  socket: { type: 'string' },
  cleanup: { type: 'boolean' },
} as const satisfies Record<string, FlagSpec>

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

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

/** The config module (yaml, valibot, the schema) loads only for the commands that read a config. */
const configModule = () => import('../../internal/config/index.ts')

async function loadOrReport(file: string): Promise<Config | number> {
  const { loadConfigFile, ConfigError } = await configModule()
  const { PorterError } = await import('../../internal/errors/index.ts')
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

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (cmd !== 'controller' && cmd !== 'agent') exitQuietlyOnClosedPipe()
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    out(HELP.main!)
    return cmd === undefined ? EXIT_USAGE : EXIT_OK
  }
  if (cmd === '--version') return main(['version'])
  const allowed = ALLOWED[cmd]
  if (!allowed) return usage(`unknown command ${JSON.stringify(cmd)}`)
  const parsed = parseFlags(rest, FLAGS)
  if ('error' in parsed) return usage(`${cmd}: ${parsed.error}`)
  const values = parsed.values
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
      const cfg = await loadOrReport(file)
      if (typeof cfg === 'number') return cfg
      out(values.json ? JSON.stringify(cfg) : `${file}: valid\n${summarizeConfig(cfg)}`)
      return EXIT_OK
    }
    case 'status': {
      let socket = values.socket as string | undefined
      if (!socket) {
        const file = configPath(values.config as string | undefined, process.env)
        const { loadConfigFile, DEFAULT_SOCKETS } = await configModule()
        try {
          socket = loadConfigFile(file).admin.socket
        } catch {}
        // default: the controller's socket, else the agent's (both modes may run on one host)
        socket ??= existsSync(DEFAULT_SOCKETS.controller) || !existsSync(DEFAULT_SOCKETS.agent) ? DEFAULT_SOCKETS.controller : DEFAULT_SOCKETS.agent
      }
      // node:net (the admin client's socket) loads only here: it is a tenth of a start-up
      const { adminRequest } = await import('../../internal/admin/client.ts')
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
    case 'agent': {
      // node:v8 (and the stream classes it loads) only here
      const { daemonHeapPolicy, daemonTier, setDaemonTier } = await import('./heap.ts')
      daemonHeapPolicy()
      // the controller reads its config at the tier it runs at without Kubernetes (a large config
      // would otherwise be what first runs the optimizing compiler); set again once the config says
      if (cmd === 'controller') setDaemonTier('baseline')
      const file = configPath(values.config as string | undefined, process.env)
      const cfg = await loadOrReport(file)
      if (typeof cfg === 'number') return cfg
      const { vipAddressCount } = await configModule()
      setDaemonTier(daemonTier(cmd, cfg.kubernetes.enabled, vipAddressCount(cfg.vips)))
      const level = (values['log-level'] as string | undefined) ?? cfg.log.level
      if (!LEVELS.includes(level)) return usage(`--log-level ${JSON.stringify(level)} is not one of ${LEVELS.join(', ')}`)
      // the BGP stack, the Kubernetes client, netlink and nftables load only here
      const { daemon } = await import('./daemon.ts')
      return daemon(cmd, { file, cfg, level, cleanup: values.cleanup === true })
    }
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
