export * from './model.ts'
export { planIptables, planIptablesCleanup, planFamily, type IptScripts } from './plan.ts'
export { IptablesRunner, detectFlavour, toolName, type IptablesRunnerOptions } from './runner.ts'
export { FirewallError } from '../nft/index.ts'
