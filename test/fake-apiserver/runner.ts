// The fake API server as a process (e.g. inside a test's network namespace):
//   node --import tsx test/fake-apiserver/runner.ts --host 198.51.100.2 --port 6443 [--state FILE]
//        [--bookmark-ms N] [--expired-watch event|status]
// Prints {"ready":true,"url":"http://..."} once listening, then answers JSON-line commands on
// stdin with one JSON line each ({"id":N,"ok":true,"result":...} or {"id":N,"ok":false,"error":"..."}):
//   request {method, path, body?, contentType?}   -> {status, body}   (same code path as HTTP)
//   compact | closeWatches | expireWatches | stall {on} | openWatches | log {since?} | expiredWatch {mode} | rev
//   restart {downMs?}: stop listening and cut every connection, forget the watch history (as a
//                      restarted kube-apiserver's empty watch cache), listen again on the same port
// With --state the objects and the revision counter survive the process (like etcd under a real
// kube-apiserver): a new runner on the same file continues from there with an empty history.
// Exits when stdin closes or on SIGTERM.
import { createInterface } from 'node:readline'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { FakeApiServer } from './server.ts'
import { Store } from './store.ts'

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    state: { type: 'string' },
    'bookmark-ms': { type: 'string' },
    'expired-watch': { type: 'string' },
  },
})

const stateFile = values.state
const save = (st: Store): void => {
  if (!stateFile) return
  writeFileSync(`${stateFile}.tmp`, JSON.stringify(st.snapshot()))
  renameSync(`${stateFile}.tmp`, stateFile)
}
const store = stateFile && existsSync(stateFile) ? Store.fromSnapshot(JSON.parse(readFileSync(stateFile, 'utf8'))) : new Store()
const server = new FakeApiServer({
  store,
  onWrite: save,
  ...(values['bookmark-ms'] ? { bookmarkIntervalMs: Number(values['bookmark-ms']) } : {}),
  ...(values['expired-watch'] === 'status' ? { expiredWatch: 'status' as const } : {}),
})
const port = Number(values.port)
const url = await server.listen(port, values.host)
const boundPort = Number(new URL(url).port)
save(server.store)
process.stdout.write(`${JSON.stringify({ ready: true, url })}\n`)

interface Cmd { id: number; cmd: string; [k: string]: unknown }

async function handle(c: Cmd): Promise<unknown> {
  switch (c.cmd) {
    case 'request': return server.request(String(c.method ?? 'GET'), String(c.path), c.body as never, (c.contentType as string | undefined) ?? 'application/json')
    case 'compact': server.compact(); return { oldest: server.store.oldest }
    case 'closeWatches': return server.closeWatches()
    case 'expireWatches': return server.expireWatches()
    case 'stall': server.stallWatches(c.on !== false); return null
    case 'openWatches': return server.openWatches
    case 'log': return server.log.slice(Number(c.since ?? 0))
    case 'expiredWatch': server.expiredWatch = c.mode === 'status' ? 'status' : 'event'; return null
    case 'rev': return { rev: server.store.rev, oldest: server.store.oldest }
    case 'restart': {
      await server.close()
      server.setStore(Store.fromSnapshot(server.store.snapshot()))
      await new Promise((r) => setTimeout(r, Number(c.downMs ?? 0)))
      return server.listen(boundPort, values.host)
    }
    default: throw new Error(`unknown command ${JSON.stringify(c.cmd)}`)
  }
}

const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => {
  let c: Cmd
  try { c = JSON.parse(line) } catch { return }
  handle(c).then(
    (result) => process.stdout.write(`${JSON.stringify({ id: c.id, ok: true, result })}\n`),
    (e: Error) => process.stdout.write(`${JSON.stringify({ id: c.id, ok: false, error: e.message })}\n`),
  )
})
const quit = () => { void server.close().then(() => process.exit(0)) }
rl.on('close', quit)
process.on('SIGTERM', quit)
