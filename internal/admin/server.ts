// Admin endpoint: a unix socket, mode 0600, newline-delimited JSON request -> one JSON reply.
// Requests: {"cmd":"status"}. The socket never carries secrets (status objects are built without them).
import { createServer, createConnection, type Server, type Socket } from 'node:net'
import { chmodSync, mkdirSync, unlinkSync, lstatSync } from 'node:fs'
import { dirname } from 'node:path'
import { errnoOf } from '../base/index.ts'
import { PorterError } from '../errors/index.ts'

export type AdminHandler = (req: { cmd: string; [k: string]: unknown }) => unknown | Promise<unknown>

export interface AdminServer {
  path: string
  close(): Promise<void>
}

function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path)
    c.once('connect', () => { c.destroy(); resolve(true) })
    c.once('error', () => resolve(false))
  })
}

export async function startAdminServer(path: string, handler: AdminHandler): Promise<AdminServer> {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 })
  } catch (e) {
    throw new PorterError('PORTER_ERR_ADMIN_SOCKET', `Cannot create the admin socket directory ${JSON.stringify(dirname(path))}: ${errnoOf(e)}`, { cause: e })
  }
  let exists = false
  try { exists = lstatSync(path).isSocket() } catch {}
  if (exists) {
    if (await probe(path)) {
      throw new PorterError('PORTER_ERR_ADMIN_SOCKET', `Another porter is already serving ${JSON.stringify(path)}: stop it, or set admin.socket to another path`)
    }
    unlinkSync(path) // stale socket of a previous run
  }
  const sockets = new Set<Socket>()
  const server: Server = createServer((sock) => {
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    sock.on('error', () => sock.destroy())
    let buf = ''
    sock.setEncoding('utf8')
    sock.on('data', async (chunk: string) => {
      buf += chunk
      if (buf.length > 65536) { sock.destroy(); return }
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        let reply: unknown
        try {
          const req = JSON.parse(line) as { cmd: string }
          if (typeof req?.cmd !== 'string') throw new Error('request needs a "cmd" string')
          reply = { ok: true, result: await handler(req) }
        } catch (e) {
          reply = { ok: false, error: (e as Error).message }
        }
        if (!sock.destroyed) sock.write(JSON.stringify(reply) + '\n')
      }
    })
  })
  const oldMask = process.umask(0o177) // the socket is created 0600: no window where others can connect
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path, () => { server.off('error', reject); resolve() })
    })
  } catch (e) {
    throw new PorterError('PORTER_ERR_ADMIN_SOCKET', `Cannot listen on admin socket ${JSON.stringify(path)}: ${errnoOf(e)}`, { cause: e })
  } finally {
    process.umask(oldMask)
  }
  chmodSync(path, 0o600)
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => {
          try { unlinkSync(path) } catch {}
          resolve()
        })
      }),
  }
}
