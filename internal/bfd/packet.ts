// PURE codec of the BFD Control packet (RFC 5880 section 4.1), version 1; the optional
// authentication section is auth.ts. Intervals are in microseconds, as on the wire.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//   |                       My Discriminator                        |
//   |                      Your Discriminator                       |
//   |                    Desired Min TX Interval                    |
//   |                   Required Min RX Interval                    |
//   |                 Required Min Echo RX Interval                 |
//
// decode() applies the checks of RFC 5880 section 6.8.6 that need no session (version, length,
// Detect Mult, M bit, My Discriminator). The authentication section (A bit, auth.ts) needs the
// session's key: the UDP adapter checks it.
import { PorterError } from '../errors/index.ts'

export const BFD_VERSION = 1
export const CONTROL_PACKET_LENGTH = 24
/** RFC 5881: single-hop control packets go to this UDP port */
export const BFD_PORT = 3784
/** RFC 5881 section 4: the source port range */
export const SOURCE_PORT_MIN = 49152
export const SOURCE_PORT_MAX = 65535

export type BfdState = 'AdminDown' | 'Down' | 'Init' | 'Up'
export const STATES: readonly BfdState[] = ['AdminDown', 'Down', 'Init', 'Up']

/** RFC 5880 section 4.1 diagnostic codes (9-31 are reserved and decode as their number). */
export const Diag = {
  None: 0,
  ControlDetectionTimeExpired: 1,
  EchoFunctionFailed: 2,
  NeighborSignaledSessionDown: 3,
  ForwardingPlaneReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdministrativelyDown: 7,
  ReverseConcatenatedPathDown: 8,
} as const

const DIAG_NAMES: Record<number, string> = {
  0: 'No Diagnostic', 1: 'Control Detection Time Expired', 2: 'Echo Function Failed',
  3: 'Neighbor Signaled Session Down', 4: 'Forwarding Plane Reset', 5: 'Path Down',
  6: 'Concatenated Path Down', 7: 'Administratively Down', 8: 'Reverse Concatenated Path Down',
}

/** "Control Detection Time Expired", or "diag 12" for a reserved code. */
export function diagName(d: number): string {
  return DIAG_NAMES[d] ?? `diag ${d}`
}

export interface ControlPacket {
  diag: number
  state: BfdState
  /** P: a Poll Sequence is in progress */
  poll: boolean
  /** F: the answer to a Poll */
  final: boolean
  /** C: control plane independent */
  cpi: boolean
  /** D: demand mode wanted */
  demand: boolean
  /** 1-255 */
  detectMult: number
  /** nonzero */
  myDiscr: number
  /** 0 until the sender knows ours */
  yourDiscr: number
  /** microseconds */
  desiredMinTx: number
  requiredMinRx: number
  requiredMinEchoRx: number
}

export type BfdWireReason = 'short' | 'version' | 'length' | 'detect-mult' | 'multipoint' | 'my-discriminator' | 'authentication' | 'field'

export class BfdWireError extends PorterError {
  readonly reason: BfdWireReason
  constructor(reason: BfdWireReason, message: string) {
    super('PORTER_ERR_BFD_WIRE', message)
    this.name = 'BfdWireError'
    this.reason = reason
  }
}

const BIT = { P: 0x20, F: 0x10, C: 0x08, A: 0x04, D: 0x02, M: 0x01 } as const

function u32(name: string, v: number, min = 0): void {
  if (!Number.isInteger(v) || v < min || v > 0xffffffff) {
    throw new BfdWireError('field', `Cannot encode a BFD packet: ${name} ${JSON.stringify(v)} is not an integer from ${min} to 4294967295`)
  }
}

/** The 24 bytes of a control packet (A and M bits clear). Throws BfdWireError for an out-of-range field. */
export function encode(p: ControlPacket): Uint8Array {
  if (!Number.isInteger(p.diag) || p.diag < 0 || p.diag > 31) throw new BfdWireError('field', `Cannot encode a BFD packet: diag ${JSON.stringify(p.diag)} is not an integer from 0 to 31`)
  const sta = STATES.indexOf(p.state)
  if (sta < 0) throw new BfdWireError('field', `Cannot encode a BFD packet: state ${JSON.stringify(p.state)} is not one of ${STATES.join(', ')}`)
  if (!Number.isInteger(p.detectMult) || p.detectMult < 1 || p.detectMult > 255) {
    throw new BfdWireError('field', `Cannot encode a BFD packet: detectMult ${JSON.stringify(p.detectMult)} is not an integer from 1 to 255`)
  }
  if (p.poll && p.final) throw new BfdWireError('field', 'Cannot encode a BFD packet with both the Poll and the Final bit set (RFC 5880 section 6.5)')
  u32('myDiscr', p.myDiscr, 1)
  u32('yourDiscr', p.yourDiscr)
  u32('desiredMinTx', p.desiredMinTx)
  u32('requiredMinRx', p.requiredMinRx)
  u32('requiredMinEchoRx', p.requiredMinEchoRx)
  const b = new Uint8Array(CONTROL_PACKET_LENGTH)
  const dv = new DataView(b.buffer)
  b[0] = (BFD_VERSION << 5) | p.diag
  b[1] = (sta << 6) | (p.poll ? BIT.P : 0) | (p.final ? BIT.F : 0) | (p.cpi ? BIT.C : 0) | (p.demand ? BIT.D : 0)
  b[2] = p.detectMult
  b[3] = CONTROL_PACKET_LENGTH
  dv.setUint32(4, p.myDiscr)
  dv.setUint32(8, p.yourDiscr)
  dv.setUint32(12, p.desiredMinTx)
  dv.setUint32(16, p.requiredMinRx)
  dv.setUint32(20, p.requiredMinEchoRx)
  return b
}

/**
 * A UDP payload -> ControlPacket. Throws BfdWireError (and nothing else) for what RFC 5880
 * section 6.8.6 discards before looking for a session, and for the A bit (no authentication).
 * Bytes past the Length field are ignored.
 */
export function decode(bytes: Uint8Array): ControlPacket {
  if (bytes.length < CONTROL_PACKET_LENGTH) {
    throw new BfdWireError('short', `BFD control packet is ${bytes.length} bytes long: at least ${CONTROL_PACKET_LENGTH} are needed`)
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = bytes[0]! >> 5
  if (version !== BFD_VERSION) throw new BfdWireError('version', `BFD control packet has version ${version}: only version ${BFD_VERSION} is supported`)
  const flags = bytes[1]!
  const length = bytes[3]!
  // the authentication section (A bit) is checked by the session's adapter (auth.ts), which knows the key
  if ((flags & BIT.A) && length < CONTROL_PACKET_LENGTH + 2) {
    throw new BfdWireError('authentication', `BFD control packet has the A bit set but Length ${length} leaves no room for an authentication section`)
  }
  if (length < CONTROL_PACKET_LENGTH) throw new BfdWireError('length', `BFD control packet has Length ${length}: at least ${CONTROL_PACKET_LENGTH} is needed`)
  if (length > bytes.length) throw new BfdWireError('length', `BFD control packet has Length ${length} but only ${bytes.length} bytes arrived`)
  const detectMult = bytes[2]!
  if (detectMult === 0) throw new BfdWireError('detect-mult', 'BFD control packet has Detect Mult 0')
  if (flags & BIT.M) throw new BfdWireError('multipoint', 'BFD control packet has the M (multipoint) bit set')
  if ((flags & BIT.P) && (flags & BIT.F)) throw new BfdWireError('field', 'BFD control packet has both the Poll and the Final bit set (RFC 5880 section 6.5 forbids it)')
  const myDiscr = dv.getUint32(4)
  if (myDiscr === 0) throw new BfdWireError('my-discriminator', 'BFD control packet has My Discriminator 0')
  return {
    diag: bytes[0]! & 0x1f,
    state: STATES[flags >> 6]!,
    poll: (flags & BIT.P) !== 0,
    final: (flags & BIT.F) !== 0,
    cpi: (flags & BIT.C) !== 0,
    demand: (flags & BIT.D) !== 0,
    detectMult,
    myDiscr,
    yourDiscr: dv.getUint32(8),
    desiredMinTx: dv.getUint32(12),
    requiredMinRx: dv.getUint32(16),
    requiredMinEchoRx: dv.getUint32(20),
  }
}
