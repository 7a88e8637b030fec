// Where configs and admin sockets live. Kept apart from load.ts so that commands that only need a
// path (`porter status`, the CLI's dispatch) do not load the YAML parser and the schema.
import type { Config } from './schema.ts'

/** Where the config comes from: --config, else $PORTER_CONFIG, else /etc/porter/porter.yaml. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.PORTER_CONFIG ?? '/etc/porter/porter.yaml'
}

export const DEFAULT_SOCKETS = { controller: '/run/porter/porter.sock', agent: '/run/porter-agent/porter.sock' } as const

/** The admin socket of a mode: admin.socket, else the mode's default (the two modes may share a host). */
export function adminSocketPath(cfg: Pick<Config, 'admin'>, mode: 'controller' | 'agent'): string {
  return cfg.admin.socket ?? DEFAULT_SOCKETS[mode]
}
