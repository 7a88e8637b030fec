// tcpdump inside a lab namespace, writing a pcap file. `stop()` flushes and waits for exit.

import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { type Lab, waitFor } from './netns.ts'

export interface Capture {
  file: string
  stop(): Promise<void>
}

export async function tcpdump(lab: Lab, ns: string, ifname: string, file: string, filter = 'tcp port 179'): Promise<Capture> {
  const log = join(lab.dir, `tcpdump-${ns}-${ifname}.log`)
  // --immediate-mode: without it libpcap hands packets over in blocks (up to 1 s late), and a
  // capture stopped right after the traffic lost what was still in the kernel's ring
  const child = lab.spawn(ns, ['tcpdump', '-i', ifname, '--immediate-mode', '-U', '-s', '0', '-Z', 'root', '-w', file, filter], { logFile: log })
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`tcpdump exited: ${readFileSync(log, 'utf8')}`)
    return existsSync(log) && /listening on/.test(readFileSync(log, 'utf8'))
  }, { timeoutMs: 10_000, intervalMs: 50, what: 'tcpdump to listen' })
  return {
    file,
    stop: () => lab.kill(child, 'SIGINT'),
  }
}
