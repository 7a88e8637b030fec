// The lines of the ConfigError a config text raises (tests of config validation).
import { parseConfig, ConfigError } from '../../internal/config/index.ts'

export function errorsOf(text: string): string[] {
  try {
    parseConfig(text, 'porter.yaml')
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n')
    throw e
  }
  throw new Error('expected a ConfigError')
}
