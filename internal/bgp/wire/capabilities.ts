// Capabilities (RFC 5492), carried in OPEN optional parameters of type 2:
//   code (1) length (1) value
// One table row per capability (BIRD/holo style):
//   1  multiprotocol (RFC 4760)       AFI (2) reserved (1) SAFI (1)
//   2  route refresh (RFC 2918)       empty
//   6  extended message (RFC 8654)    empty
//   64 graceful restart (RFC 4724)    flags (4 bits: R 0x8, N 0x4 of RFC 8538) restart time (12 bits)
//                                     then per family: AFI (2) SAFI (1) flags (1, F = 0x80)
//   65 4-octet AS (RFC 6793)          AS (4)
//   69 ADD-PATH (RFC 7911)            per family: AFI (2) SAFI (1) send/receive (1: 1 rx, 2 tx, 3 both)
// Anything else is kept raw as { kind: 'unknown', code, data }. An ADD-PATH capability with a
// send/receive value outside 1..3 is kept raw too (RFC 7911 4: ignore it). A known capability
// whose length does not fit throws BgpWireError OPEN Message Error / Unspecific (RFC 4271 6.2).

import { Writer, copyBytes, u16At, u32At } from './_writer.ts'
import { BgpWireError, encodeError } from './errors.ts'
import { AddPathBits, CapCode } from './iana.ts'
import { ErrCode, OpenSubcode } from './notification.ts'
import type { AddPathMode, Capability, NotificationMessage } from './types.ts'

interface CapDef {
  code: number
  name: string
  /** the capability, or null to keep it raw as unknown */
  decode(data: Uint8Array): Capability | null
  encode(cap: Capability, w: Writer): void
}

function malformed(name: string, reason: string): BgpWireError {
  return new BgpWireError(`Malformed ${name} capability: ${reason}`, {
    bgpCode: ErrCode.OPEN_MESSAGE,
    subcode: OpenSubcode.UNSPECIFIC,
  })
}

function expectLen(name: string, data: Uint8Array, len: number): void {
  if (data.length !== len) throw malformed(name, `length is ${data.length}, expected ${len}`)
}

const MODES: Record<number, AddPathMode> = { 1: 'receive', 2: 'send', 3: 'both' }

export const CAPABILITIES: readonly CapDef[] = [
  {
    code: CapCode.MULTIPROTOCOL,
    name: 'multiprotocol',
    decode(d) {
      expectLen(this.name, d, 4)
      return { code: 1, kind: 'multiprotocol', afi: u16At(d, 0), safi: d[3]! }
    },
    encode(c, w) {
      if (c.kind !== 'multiprotocol') return
      w.u16(c.afi)
      w.u8(0)
      w.u8(c.safi)
    },
  },
  {
    code: CapCode.ROUTE_REFRESH,
    name: 'route refresh',
    decode(d) {
      expectLen(this.name, d, 0)
      return { code: 2, kind: 'route-refresh' }
    },
    encode() {},
  },
  {
    code: CapCode.EXTENDED_MESSAGE,
    name: 'extended message',
    decode(d) {
      expectLen(this.name, d, 0)
      return { code: 6, kind: 'extended-message' }
    },
    encode() {},
  },
  {
    code: CapCode.GRACEFUL_RESTART,
    name: 'graceful restart',
    decode(d) {
      if (d.length < 2 || (d.length - 2) % 4 !== 0) throw malformed(this.name, `length is ${d.length}, expected 2 + 4 per family`)
      const fl = d[0]! >>> 4
      const families: { afi: number; safi: number; forwardingPreserved: boolean }[] = []
      for (let off = 2; off < d.length; off += 4) {
        families.push({ afi: u16At(d, off), safi: d[off + 2]!, forwardingPreserved: (d[off + 3]! & 0x80) !== 0 })
      }
      return {
        code: 64,
        kind: 'graceful-restart',
        restarting: (fl & 0x8) !== 0,
        notification: (fl & 0x4) !== 0,
        restartTime: u16At(d, 0) & 0x0fff,
        families,
      }
    },
    encode(c, w) {
      if (c.kind !== 'graceful-restart') return
      if (!(c.restartTime >= 0 && c.restartTime <= 4095)) throw encodeError(`Cannot encode graceful restart time "${c.restartTime}" (0-4095 seconds)`)
      w.u16(((c.restarting ? 0x8 : 0) | (c.notification ? 0x4 : 0)) << 12 | c.restartTime)
      for (const f of c.families) {
        w.u16(f.afi)
        w.u8(f.safi)
        w.u8(f.forwardingPreserved ? 0x80 : 0)
      }
    },
  },
  {
    code: CapCode.AS4,
    name: '4-octet AS',
    decode(d) {
      expectLen(this.name, d, 4)
      return { code: 65, kind: 'as4', asn: u32At(d, 0) }
    },
    encode(c, w) {
      if (c.kind === 'as4') w.u32(c.asn)
    },
  },
  {
    code: CapCode.ADD_PATH,
    name: 'ADD-PATH',
    decode(d) {
      if (d.length === 0 || d.length % 4 !== 0) throw malformed(this.name, `length is ${d.length}, expected a non-zero multiple of 4`)
      const families: { afi: number; safi: number; mode: AddPathMode }[] = []
      for (let off = 0; off < d.length; off += 4) {
        const mode = MODES[d[off + 3]!]
        if (!mode) return null
        families.push({ afi: u16At(d, off), safi: d[off + 2]!, mode })
      }
      return { code: 69, kind: 'add-path', families }
    },
    encode(c, w) {
      if (c.kind !== 'add-path') return
      for (const f of c.families) {
        w.u16(f.afi)
        w.u8(f.safi)
        w.u8(AddPathBits[f.mode])
      }
    },
  },
]

const CAP_BY_CODE = new Map<number, CapDef>(CAPABILITIES.map((c) => [c.code, c]))

/** decode the value of one capabilities optional parameter, appending to `out` */
export function decodeCapabilities(d: Uint8Array, out: Capability[]): number {
  let off = 0
  let count = 0
  while (off < d.length) {
    if (off + 2 > d.length) throw malformed('optional parameter', `capability header at offset ${off} is cut short`)
    const code = d[off]!
    const len = d[off + 1]!
    if (off + 2 + len > d.length) throw malformed(`code ${code}`, `length ${len} overruns the optional parameter`)
    const data = d.subarray(off + 2, off + 2 + len)
    const def = CAP_BY_CODE.get(code)
    const cap = def ? def.decode(data) : null
    out.push(cap ?? { code, kind: 'unknown', data: copyBytes(data, 0, data.length) })
    off += 2 + len
    count++
  }
  return count
}

/** write one capability (code, length, value) */
export function writeCapability(w: Writer, c: Capability): void {
  if (!(c.code >= 0 && c.code <= 255)) throw encodeError(`Cannot encode capability code "${c.code}"`)
  w.u8(c.code)
  const at = w.reserve(1)
  const start = w.pos
  if (c.kind === 'unknown') w.bytes(c.data)
  else CAP_BY_CODE.get(c.code)?.encode(c, w)
  const len = w.pos - start
  if (len > 255) throw encodeError(`Cannot encode capability ${c.code}: value of ${len} bytes exceeds 255`)
  w.buf[at] = len
}

/** capabilities as code/length/value triples, back to back (the data of an Unsupported Capability NOTIFICATION) */
export function encodeCapabilityList(caps: readonly Capability[]): Uint8Array {
  const w = new Writer(32)
  for (const c of caps) writeCapability(w, c)
  return w.view().slice()
}

/**
 * OPEN Message Error / Unsupported Capability (RFC 5492 5): the NOTIFICATION to send when the
 * peer lacks a capability Porter requires; data lists the required capabilities.
 */
export function unsupportedCapabilityNotification(required: readonly Capability[]): NotificationMessage {
  return { type: 'notification', code: ErrCode.OPEN_MESSAGE, subcode: OpenSubcode.UNSUPPORTED_CAPABILITY, data: encodeCapabilityList(required) }
}
