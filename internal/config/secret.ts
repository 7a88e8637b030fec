// Secrets (TCP MD5 and BFD keys) live in files the config names, never in the config: read here
// when a config is applied (start and reload), so a missing, unreadable or empty file rejects the
// config, naming the field, before anything changes. A key's text is never in an error.
import { readFileSync } from 'node:fs'
import { PorterError } from '../errors/index.ts'
import type { BfdAuth } from '../bfd/auth.ts'
import type { BfdAuthConfig } from './schema.ts'

/**
 * A secret from a file (one trailing newline dropped): 1-`max` characters. `field`: the config
 * path that names the file ("bgp.peers[0].bfd.auth.keyFile"), put before the error.
 */
export function readSecret(path: string, what: string, max: number, field?: string): Uint8Array {
  try {
    const key = readFileSync(path, 'utf8').replace(/\r?\n$/, '')
    if (key.length === 0 || key.length > max) throw new Error(`the key must be 1-${max} characters, it has ${key.length}`)
    return new TextEncoder().encode(key)
  } catch (e) {
    throw new PorterError('PORTER_ERR_CONFIG_READ', `${field ? `${field}: ` : ''}Cannot read the ${what} file ${JSON.stringify(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
}

/** A BFD `auth` block with its key read (1-20 characters); `field`: the block's config path. */
export function bfdAuthOf(a: BfdAuthConfig, field: string): BfdAuth {
  return { type: a.type, keyId: a.keyId, key: readSecret(a.keyFile, 'BFD key', 20, `${field}.keyFile`) }
}
