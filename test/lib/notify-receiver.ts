// A systemd-like receiver of sd_notify datagrams (python3, AF_UNIX SOCK_DGRAM with SO_PASSCRED).
import { spawn } from 'node:child_process'
import type { Test } from 'tap'

// Receives datagrams and prints each as one JSON line {"data": "...", "pid": sender pid};
// SO_PASSCRED makes the kernel attach the sender's credentials, as systemd does.
const RECEIVER = `
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
addr = sys.argv[1]
s.bind("\\0" + addr[1:] if addr.startswith("@") else addr)
print(json.dumps({"ready": True}), flush=True)
s.settimeout(30)
for _ in range(int(sys.argv[2])):
    data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    print(json.dumps({"data": data.decode(), "pid": pid}), flush=True)
`

export interface Received { data: string; pid: number | null }

/** Start a receiver on `addr` (a path, or "@name"), expecting `count` datagrams. */
export async function receiver(t: Test, addr: string, count: number): Promise<{ done: Promise<Received[]> }> {
  const child = spawn('python3', ['-c', RECEIVER, addr, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill())
  let out = ''
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const lines = (): Record<string, unknown>[] => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (lines()[0]?.ready) resolve()
    })
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code}: ${err}`)))
  })
  const done = new Promise<Received[]>((resolve) => child.once('exit', () => resolve(lines().slice(1) as unknown as Received[])))
  return { done }
}

