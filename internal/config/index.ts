export { parseConfig, loadConfigFile, vipAddressCount, ConfigError, formatIssues, type ConfigIssue } from './load.ts'
export type { Config, PeerConfig, VipConfig, HealthCheckConfig, ExportAttrsConfig } from './schema.ts'
export { configSchema } from './schema.ts'
export { configPath, DEFAULT_SOCKETS, adminSocketPath } from './paths.ts'
