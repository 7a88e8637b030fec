// A UDP port free on loopback right now (bound and released), for tests that run BFD services side by side.
import dgram from 'node:dgram'

export async function freeUdpPort(type: 'udp4' | 'udp6' = 'udp4'): Promise<number> {
  const s = dgram.createSocket(type)
  await new Promise<void>((r) => s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', r))
  const p = s.address().port
  await new Promise<void>((r) => s.close(() => r()))
  return p
}
