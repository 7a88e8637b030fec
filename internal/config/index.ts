export { parseConfig, loadConfigFile, ConfigError, formatIssues, type ConfigIssue } from './load.ts'
export type { Config, PeerConfig, VipConfig, HealthCheckConfig, ExportAttrsConfig } from './schema.ts'
export { configSchema } from './schema.ts'

/** Where the config comes from: --config, else $PORTER_CONFIG, else /etc/porter/porter.yaml. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.PORTER_CONFIG ?? '/etc/porter/porter.yaml'
}
