// adminRequest reads one reply line however it is cut: a large reply in many chunks, the
// newline in the middle of a chunk, anything after the newline ignored.
import t from 'tap'
import net from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adminRequest } from './client.ts'

t.test('a reply of many chunks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'porter-admin-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 's.sock')
  const vips = Array.from({ length: 50_000 }, (_, i) => ({ address: `198.18.${i >> 8}.${i & 255}`, nextHops: [{ address: '192.0.2.11', peers: ['r1'] }] }))
  const line = JSON.stringify({ ok: true, result: { vips } })
  t.ok(line.length > 3_000_000, `a reply of ${line.length} bytes`)
  const srv = net.createServer((s) => {
    s.once('data', () => {
      // cut into uneven pieces; the newline sits inside the last piece, followed by junk
      const text = `${line}\n{"junk":`
      for (let o = 0, n = 1; o < text.length; o += n, n = n * 3 + 7) s.write(text.slice(o, o + n))
      s.end()
    })
  })
  await new Promise<void>((r) => srv.listen(path, r))
  t.teardown(() => srv.close())
  const r = (await adminRequest(path, { cmd: 'status' }, 30_000)) as { vips: typeof vips }
  t.equal(r.vips.length, vips.length, 'every VIP')
  t.same(r.vips.at(-1), vips.at(-1), 'the last one intact')
})
