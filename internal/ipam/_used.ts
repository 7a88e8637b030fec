// The held addresses of one family as a sorted array of numbers: the lowest free address of a
// range and the held addresses within it cost a binary search plus the run walked, whatever the
// range's size (an IPv6 /64 is never enumerated).

export class UsedAddresses {
  readonly #v: bigint[] = []

  /** index of the first element >= x */
  #lowerBound(x: bigint): number {
    let lo = 0
    let hi = this.#v.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#v[mid]! < x) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  add(x: bigint): void {
    const i = this.#lowerBound(x)
    if (this.#v[i] !== x) this.#v.splice(i, 0, x)
  }

  delete(x: bigint): void {
    const i = this.#lowerBound(x)
    if (this.#v[i] === x) this.#v.splice(i, 1)
  }

  /** The lowest address in first..last not held, or undefined when all are. */
  firstFree(first: bigint, last: bigint): bigint | undefined {
    let c = first
    for (let i = this.#lowerBound(first); c <= last && this.#v[i] === c; i++) c++
    return c <= last ? c : undefined
  }

  /** The held addresses in first..last, ascending. */
  within(first: bigint, last: bigint): bigint[] {
    const out: bigint[] = []
    for (let i = this.#lowerBound(first); i < this.#v.length && this.#v[i]! <= last; i++) out.push(this.#v[i]!)
    return out
  }
}
