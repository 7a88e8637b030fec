import { createConnection } from 'node:net'
import { isErrno } from '../base/index.ts'
import { PorterError } from '../errors/index.ts'

/** Send one request to a running porter's admin socket and return its result. */
export function adminRequest(path: string, req: { cmd: string }, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path)
    // the reply is one line; a large one (100k VIPs: ~15 MB) arrives in many chunks: look for the
    // newline in each new chunk only and join once (scanning the growing string was quadratic)
    const parts: string[] = []
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new PorterError('PORTER_ERR_ADMIN_SOCKET', `No answer from ${JSON.stringify(path)} within ${timeoutMs} ms`))
    }, timeoutMs)
    sock.setEncoding('utf8')
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'))
    sock.on('data', (d: string) => {
      const nl = d.indexOf('\n')
      if (nl < 0) {
        parts.push(d)
        return
      }
      parts.push(d.slice(0, nl))
      clearTimeout(timer)
      sock.destroy()
      try {
        const reply = JSON.parse(parts.join('')) as { ok: boolean; result?: unknown; error?: string }
        if (reply.ok) resolve(reply.result)
        else reject(new PorterError('PORTER_ERR_ADMIN_SOCKET', `porter answered with an error: ${reply.error}`))
      } catch (e) {
        reject(new PorterError('PORTER_ERR_ADMIN_SOCKET', `Bad answer from ${JSON.stringify(path)}`, { cause: e }))
      }
    })
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      const hint = isErrno(e, 'ENOENT', 'ECONNREFUSED') ? ': is porter running? (set --socket or admin.socket)' : isErrno(e, 'EACCES') ? ': permission denied (run as the user porter runs as, or root)' : ''
      reject(new PorterError('PORTER_ERR_ADMIN_SOCKET', `Cannot reach porter at ${JSON.stringify(path)}: ${e.code}${hint}`, { cause: e }))
    })
  })
}
