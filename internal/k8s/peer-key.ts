// A BgpPeer's TCP MD5 key from its Secret (spec.conf.authPasswordSecretRef), for the controller
// and for per-node agents alike. The key is returned, never logged; errors name the Secret only.
import type { KubeRest } from './rest.ts'
import { describeError } from './errors.ts'

/** Secrets are read again this often: a rotated key reaches the session */
export const KEY_REFRESH_MS = 60_000

/** Resolves to the key; rejects with "Secret ns/name: why" (no key material in the message). */
export async function readPeerKey(rest: KubeRest, ref: { namespace: string; name: string; key: string }): Promise<Uint8Array> {
  const { namespace, name, key } = ref
  try {
    const s = await rest.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`)
    const b64 = s.data?.[key]
    if (!b64) throw new Error(`the Secret has no key ${JSON.stringify(key)}`)
    const v = Buffer.from(b64, 'base64').toString('utf8').replace(/\r?\n$/, '')
    if (v.length === 0 || v.length > 80) throw new Error(`the key must be 1-80 characters, it has ${v.length}`)
    return new TextEncoder().encode(v)
  } catch (e) {
    throw new Error(`Secret ${namespace}/${name}: ${describeError(e).message}`)
  }
}
