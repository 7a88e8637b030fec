// Runs a Porter agent inside a network namespace (`ip netns exec NS node --import tsx THIS`) and
// drives it with JSON lines on stdin; answers one JSON line per command on stdout:
//   {"id":1,"cmd":"create","config":{...agent section...},"mode":"address","missing":["nft"]}
//   {"id":2,"cmd":"setDesired","vips":["192.0.2.10"]}   -> {"id":2,"ok":true}
//   start | stop | cleanup | reconcileNow | status | execLog | exit
// Errors come back as {"id":N,"ok":false,"error":{"name","code","message","errno"}}.
import { createInterface } from 'node:readline'
import { createAgent, type Agent } from '../../internal/agent/index.ts'
import { configSchema } from '../../internal/config/index.ts'
import { defaultExec, type ExecFn } from '../../internal/nft/exec.ts'
import { Rtnl } from '../../internal/netlink/index.ts'
import { NftReader } from '../../internal/nft/reader.ts'
import { NftRunner } from '../../internal/nft/runner.ts'

interface Cmd { id: number; cmd: string; [k: string]: unknown }

let agent: Agent | undefined
const execLog: string[] = []
const logs: { level: string; msg: string; obj: unknown }[] = []
const logger = {
  info: (obj: object, msg?: string) => { logs.push({ level: 'info', msg: msg ?? '', obj }) },
  warn: (obj: object, msg?: string) => { logs.push({ level: 'warn', msg: msg ?? '', obj }) },
  error: (obj: object, msg?: string) => { logs.push({ level: 'error', msg: msg ?? '', obj }) },
  debug: (obj: object, msg?: string) => { logs.push({ level: 'debug', msg: msg ?? '', obj }) },
}

function makeExec(missing: readonly string[]): ExecFn {
  return async (file, args, opts) => {
    execLog.push([file, ...args].join(' '))
    if (missing.includes(file)) {
      const e = Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT', errno: -2, syscall: `spawn ${file}` })
      throw e
    }
    return defaultExec(file, args, opts)
  }
}

async function handle(c: Cmd): Promise<unknown> {
  switch (c.cmd) {
    case 'create': {
      const config = configSchema.parse({ agent: c.config ?? {} })
      agent = createAgent({
        config,
        log: logger,
        mode: (c.mode as 'address' | 'local-route' | undefined) ?? 'address',
        debounceMs: 10,
        ...(c.watch === false ? { watch: false } : {}),
        retry: { initialMs: 100, maxMs: 1000 },
        kernelOptions: {
          exec: makeExec((c.missing as string[] | undefined) ?? []),
          ...(c.iptablesFlavour ? { iptablesFlavour: c.iptablesFlavour as 'nft' | 'legacy' } : {}),
        },
      })
      return null
    }
    case 'setDesired': agent!.setDesired(c.vips as string[]); return null
    case 'start': await agent!.start(); return agent!.status()
    case 'stop': await agent!.stop(); return null
    case 'cleanup': return agent!.cleanup()
    case 'reconcileNow': return agent!.reconcileNow(c.full ? { full: true } : {})
    case 'status': return agent!.status()
    case 'rss': return process.memoryUsage().rss
    case 'dumpAddrs': { const r = new Rtnl(); try { return await r.addresses() } finally { r.close() } }
    case 'dumpRoutes': { const r = new Rtnl(); try { return [...await r.routes(4), ...await r.routes(6)] } finally { r.close() } }
    case 'nftObserveBoth': {
      // the nf_tables netlink reader and the `nft -j list` parser must see the same state
      const accept = c.accept as { family: 'inet'; table: string; chain: string } | undefined
      const norm = (o: Awaited<ReturnType<NftReader['observe']>>) => ({
        table: o.table && {
          sets: Object.fromEntries([...o.table.sets].map(([k, v]) => [k, { type: v.type, elems: [...v.elems].sort() }])),
          chains: Object.fromEntries(o.table.chains),
        },
        accept: o.accept && { ...o.accept, rules: o.accept.rules?.map((r) => ({ ...r, elems: [...r.elems].sort() })) },
      })
      const reader = new NftReader()
      try {
        return { netlink: norm(await reader.observe(accept)), json: norm(await new NftRunner().observe(accept)) }
      } finally { reader.close() }
    }
    case 'execLog': return execLog.splice(0)
    case 'logs': return logs.splice(0)
    case 'exit': setImmediate(() => process.exit(0)); return null
    default: throw new Error(`unknown command ${c.cmd}`)
  }
}

const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => {
  let c: Cmd
  try { c = JSON.parse(line) as Cmd } catch { return }
  handle(c).then(
    (result) => process.stdout.write(`${JSON.stringify({ id: c.id, ok: true, result })}\n`),
    (e: unknown) => {
      const err = e as { name?: string; code?: string; message?: string; errno?: number }
      process.stdout.write(`${JSON.stringify({ id: c.id, ok: false, error: { name: err.name, code: err.code, message: err.message, errno: err.errno } })}\n`)
    },
  )
})
rl.on('close', () => process.exit(0))
