// Test helper: bytes from annotated hex. Everything after '#' on a line is a comment;
// whitespace is ignored. Used as  hex`ffff # marker ...`  or  hex('0102').

export function hex(s: string | TemplateStringsArray, ...vals: unknown[]): Uint8Array {
  const text = typeof s === 'string' ? s : s.reduce((a, part, i) => a + part + (i < vals.length ? String(vals[i]) : ''), '')
  const clean = text
    .split('\n')
    .map((l) => l.replace(/#.*$/, ''))
    .join('')
    .replace(/[\s:|]/g, '')
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${clean}`)
  const out = new Uint8Array(clean.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16)
  return out
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex')
}

/** header + body: marker, length, type */
export function msg(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(19 + body.length).fill(0xff, 0, 16)
  out[16] = (19 + body.length) >>> 8
  out[17] = (19 + body.length) & 255
  out[18] = type
  out.set(body, 19)
  return out
}
