// Test hook of the single executable: with PORTER_SELFTEST_NATIVE=1, build/sea-entry.ts runs this
// instead of the CLI. It loads every native addon (reporting where each came from), then uses the
// netlink package for real (an rtnetlink link dump in the current network namespace), which
// proves the package's own binding load is redirected to the embedded addon. Prints one JSON
// line; exit code 0 when everything worked. Used by test/unit/sea.test.ts and build/build.mjs.
import { nativeReport } from './load.ts'

export const SELFTEST_ENV = 'PORTER_SELFTEST_NATIVE'

export function selfTestRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[SELFTEST_ENV] === '1'
}

export interface SelfTestResult {
  ok: boolean
  sea?: boolean
  addons?: ReturnType<typeof nativeReport>['addons']
  netlink?: { links: string[] }
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
  } catch (e) {
    result = { ok: false, error: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code }
  }
  write(JSON.stringify(result) + '\n')
  return result.ok ? 0 : 1
}
