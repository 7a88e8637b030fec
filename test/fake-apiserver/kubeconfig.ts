// A kubeconfig (YAML) pointing at a fake API server: plain HTTP, optional bearer token.
// client-node refuses plain HTTP unless insecure-skip-tls-verify is set (kubectl ignores it there).
import { writeFileSync } from 'node:fs'

export function kubeconfigYaml(server: string, opts: { token?: string; namespace?: string } = {}): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: fake',
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'contexts:',
    '- name: fake',
    '  context:',
    '    cluster: fake',
    '    user: fake',
    `    namespace: ${opts.namespace ?? 'default'}`,
    'current-context: fake',
    'users:',
    '- name: fake',
    `  user: ${opts.token !== undefined ? `{ token: ${JSON.stringify(opts.token)} }` : '{}'}`,
    '',
  ].join('\n')
}

export function writeKubeconfig(file: string, server: string, opts: { token?: string; namespace?: string } = {}): string {
  writeFileSync(file, kubeconfigYaml(server, opts), { mode: 0o600 })
  return file
}
