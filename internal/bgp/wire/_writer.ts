// Growable big-endian byte writer used by the non-hot encoders. Private to the codec.

export class Writer {
  buf: Uint8Array
  pos = 0

  constructor(size = 256) {
    this.buf = new Uint8Array(size)
  }

  ensure(n: number): void {
    const need = this.pos + n
    if (need <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < need) size *= 2
    const b = new Uint8Array(size)
    b.set(this.buf.subarray(0, this.pos))
    this.buf = b
  }

  u8(v: number): void {
    this.ensure(1)
    this.buf[this.pos++] = v & 255
  }

  u16(v: number): void {
    this.ensure(2)
    const b = this.buf
    b[this.pos++] = (v >>> 8) & 255
    b[this.pos++] = v & 255
  }

  u32(v: number): void {
    this.ensure(4)
    const b = this.buf
    b[this.pos++] = (v >>> 24) & 255
    b[this.pos++] = (v >>> 16) & 255
    b[this.pos++] = (v >>> 8) & 255
    b[this.pos++] = v & 255
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length)
    this.buf.set(src, this.pos)
    this.pos += src.length
  }

  /** skip n bytes (to patch later); returns their offset */
  reserve(n: number): number {
    this.ensure(n)
    const at = this.pos
    this.pos += n
    return at
  }

  setU16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 255
    this.buf[at + 1] = v & 255
  }

  /** the written bytes (a view, valid until the next write) */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos)
  }
}

export function u16At(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!
}

export function u32At(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0
}

export function u16Bytes(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 255, v & 255)
}

/** a copy as a plain Uint8Array (never a Buffer view into the input) */
export function copyBytes(b: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(b.subarray(start, end))
}
