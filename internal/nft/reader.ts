// Reads Porter's nftables state straight from the kernel over nf_tables netlink (no `nft`
// process, no JSON): ~10x faster than `nft -j list table` with 10,000 elements, which keeps a
// no-op reconcile cheap. Writes still go through `nft -j -f` (NftRunner.apply).
import { Protocol } from 'netlink'
import { NetlinkConn, NetlinkError } from '../netlink/index.ts'
import { canonicalIp } from '../ip/index.ts'
import { FirewallError } from './errors.ts'
import {
  encodeDump, decodeSet, decodeSetElems, decodeChain, decodeRule, setTypeName,
  NFT_MSG_GETSET, NFT_MSG_GETSETELEM, NFT_MSG_GETCHAIN, NFT_MSG_GETRULE, type NfRule,
} from './_nfnl.ts'
import { TABLE, TABLE_FAMILY, ACCEPT_COMMENTS, chainRefString, type ChainRef, type Family, type NftObserved, type ObservedAccept, type ObservedAcceptChain, type ObservedTable } from './model.ts'
import { ERRNO } from '../base/index.ts'


export class NftReader {
  readonly #conn: NetlinkConn

  constructor() {
    this.#conn = new NetlinkConn(Protocol.NETFILTER, 'nf_tables netlink', { bulkReads: true })
  }

  close(): void { this.#conn.close() }

  #dump<T>(what: string, msg: number, family: string, filter: [number, string][], decode: Parameters<NetlinkConn['dump']>[2]): Promise<T[]> {
    return this.#conn.dump(what, (seq) => encodeDump(msg, family, filter, seq), decode) as Promise<T[]>
  }

  async #elems(family: string, table: string, set: string): Promise<string[]> {
    const chunks = await this.#dump<string[]>(`list the elements of set "${family} ${table} ${set}"`, NFT_MSG_GETSETELEM, family, [[1, table], [2, set]], decodeSetElems)
    return chunks.flat()
  }

  /** Porter's table, or undefined when it does not exist. */
  async readTable(): Promise<ObservedTable | undefined> {
    try {
      const sets = (await this.#dump<ReturnType<typeof decodeSet>>(`list the sets of table "${TABLE_FAMILY} ${TABLE}"`, NFT_MSG_GETSET, TABLE_FAMILY, [[1, TABLE]], decodeSet))
        .filter((s) => s && s.table === TABLE && !s.anonymous)
      const t: ObservedTable = { sets: new Map(), chains: new Map() }
      for (const s of sets) t.sets.set(s!.name, { type: setTypeName(s!), elems: await this.#elems(TABLE_FAMILY, TABLE, s!.name) })
      const chains = await this.#dump<ReturnType<typeof decodeChain>>(`list the chains of table "${TABLE_FAMILY} ${TABLE}"`, NFT_MSG_GETCHAIN, TABLE_FAMILY, [[1, TABLE]], decodeChain)
      for (const c of chains) {
        if (!c || c.table !== TABLE) continue
        const oc: ObservedTable['chains'] extends Map<string, infer V> ? V : never = { rules: [] }
        if (c.type !== undefined) oc.type = c.type
        if (c.hook !== undefined) oc.hook = c.hook
        if (c.prio !== undefined) oc.prio = c.prio
        if (c.policy !== undefined) oc.policy = c.policy
        t.chains.set(c.name, oc)
      }
      const rules = await this.#dump<NfRule | undefined>(`list the rules of table "${TABLE_FAMILY} ${TABLE}"`, NFT_MSG_GETRULE, TABLE_FAMILY, [[1, TABLE]], decodeRule)
      for (const r of rules) {
        if (!r || r.table !== TABLE) continue
        let c = t.chains.get(r.chain)
        if (!c) { c = { rules: [] }; t.chains.set(r.chain, c) }
        c.rules.push(r.comment !== undefined ? { handle: r.handle, comment: r.comment } : { handle: r.handle })
      }
      return t
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === ERRNO.ENOENT) return undefined
      throw wrap(e, `read table "${TABLE_FAMILY} ${TABLE}"`)
    }
  }

  /** Porter's accept rules in the host's chain; `rules` undefined when the chain does not exist. */
  async readAcceptChain(target: ChainRef): Promise<ObservedAcceptChain> {
    try {
      const chains = await this.#dump<ReturnType<typeof decodeChain>>(`list the chains of table "${target.family} ${target.table}"`, NFT_MSG_GETCHAIN, target.family, [[1, target.table]], decodeChain)
      if (!chains.some((c) => c && c.table === target.table && c.name === target.chain)) return { target, rules: undefined }
      const rules = await this.#dump<NfRule | undefined>(`list the rules of chain "${chainRefString(target)}"`, NFT_MSG_GETRULE, target.family, [[1, target.table], [2, target.chain]], decodeRule)
      const out: ObservedAccept[] = []
      for (const r of rules) {
        if (!r || r.table !== target.table || r.chain !== target.chain || r.comment === undefined || !ACCEPT_COMMENTS.includes(r.comment)) continue
        const family: Family = r.comment.endsWith('ipv4') ? 4 : 6
        const len = family === 4 ? 4 : 16
        let elems: string[]
        if (r.lookupSet !== undefined) elems = await this.#elems(target.family, target.table, r.lookupSet)
        else elems = r.cmpValues.filter((v) => v.length === len).map((v) => canonicalIp(ipText(v))!)
        out.push({ handle: r.handle, comment: r.comment, family, elems })
      }
      return { target, rules: out }
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === ERRNO.ENOENT) return { target, rules: undefined }
      throw wrap(e, `read chain "${chainRefString(target)}"`)
    }
  }

  async observe(accept?: ChainRef): Promise<NftObserved> {
    const table = await this.readTable()
    return accept ? { table, accept: await this.readAcceptChain(accept) } : { table }
  }
}

function ipText(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`
  const g: string[] = []
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i).toString(16))
  return g.join(':')
}

function wrap(e: unknown, what: string): FirewallError {
  const errno = e instanceof NetlinkError ? e.errno : 0
  return new FirewallError('nf_tables netlink', `Cannot ${what}: ${e instanceof Error ? e.message : String(e)}`, { errno, cause: e })
}
