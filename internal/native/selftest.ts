// Test hook of the single executable: with PORTER_SELFTEST_NATIVE=1, build/sea-entry.ts runs this
// instead of the CLI. It loads every native addon (reporting where each came from), then uses the
// netlink package for real (an rtnetlink link dump in the current network namespace), which
// proves the package's own binding load is redirected to the embedded addon; likewise koffi,
// through internal/sys: a TCP MD5 key set and removed on a listening socket, and, when
// $NOTIFY_SOCKET is set, one systemd notification ("PORTER_SELFTEST=1"). Prints one JSON
// line; exit code 0 when everything worked. Used by test/unit/sea.test.ts and build/build.mjs.
import net from 'node:net'
import { nativeReport } from './load.ts'
import { sdNotify, setTcpMd5, socketFd } from '../sys/index.ts'

export const SELFTEST_ENV = 'PORTER_SELFTEST_NATIVE'

export function selfTestRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[SELFTEST_ENV] === '1'
}

export interface SelfTestResult {
  ok: boolean
  sea?: boolean
  addons?: ReturnType<typeof nativeReport>['addons']
  netlink?: { links: string[] }
  /** koffi through internal/sys: MD5 key set and removed; notification sent (false: no $NOTIFY_SOCKET) */
  sys?: { md5: boolean; notified: boolean }
  error?: string
  code?: string
}

export async function nativeSelfTest(write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  let result: SelfTestResult
  try {
    const report = nativeReport()
    const { createRtNetlink } = await import('netlink')
    const rt = createRtNetlink()
    try {
      const links = await rt.getLinks({}, {}, { timeout: 5000 })
      result = { ok: true, ...report, netlink: { links: links.map((l) => String(l.attrs.ifname)).sort() } }
    } finally {
      rt.socket.close()
    }
    result.sys = { md5: await md5Probe(), notified: sdNotify('PORTER_SELFTEST=1') }
  } catch (e) {
    result = { ok: false, error: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code }
  }
  write(JSON.stringify(result) + '\n')
  return result.ok ? 0 : 1
}

/** Set and remove a TCP MD5 key on a listening socket (the wildcard address: no interface needed). */
async function md5Probe(): Promise<boolean> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '0.0.0.0', resolve))
  try {
    const fd = socketFd(server)
    setTcpMd5(fd, '192.0.2.1', 'porter-selftest')
    setTcpMd5(fd, '192.0.2.1', undefined)
    return true
  } finally {
    server.close()
  }
}
