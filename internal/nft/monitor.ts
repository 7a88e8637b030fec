// nftables change notifications (NETLINK_NETFILTER, group NFNLGRP_NFTABLES) reduced to
// "something changed in table FAMILY NAME", so the agent can repair a hand-made change
// (e.g. `nft flush set inet porter vips4`) at once instead of at the next periodic check.
// iptables-nft changes arrive here too (tables "filter" of family ip / ip6); iptables-legacy
// changes have no notification and are found by the periodic check.
import { RawNetlinkSocket, Protocol } from 'netlink'
import { endianness } from 'node:os'

const NFNLGRP_NFTABLES = 7
const NFNL_SUBSYS_NFTABLES = 10
const NFT_MSG_NEWGEN = 15
const NFPROTO: Record<number, string> = { 1: 'inet', 2: 'ip', 3: 'arp', 5: 'netdev', 7: 'bridge', 10: 'ip6' }

export interface NftChange { family: string; table: string }
export type NftMonitorEvent = { kind: 'change'; change: NftChange } | { kind: 'overflow'; errno: number }
export interface NftMonitor { close(): void }

const LE = endianness() === 'LE'
const u16 = (b: Buffer, o: number): number => (LE ? b.readUInt16LE(o) : b.readUInt16BE(o))
const u32 = (b: Buffer, o: number): number => (LE ? b.readUInt32LE(o) : b.readUInt32BE(o))

/** Decode the (family, table) of each nftables notification in a datagram. */
export function decodeNftNotifications(buf: Buffer): NftChange[] {
  const out: NftChange[] = []
  let off = 0
  while (off + 16 <= buf.length) {
    const len = u32(buf, off)
    if (len < 16 || off + len > buf.length) break
    const type = u16(buf, off + 4)
    if (type >> 8 === NFNL_SUBSYS_NFTABLES && (type & 0xff) !== NFT_MSG_NEWGEN && len >= 20) {
      const family = NFPROTO[buf[off + 16]!] ?? String(buf[off + 16])
      // every nftables object message carries its table name as attribute 1 (NFTA_*_TABLE / NFTA_TABLE_NAME)
      let a = off + 20
      while (a + 4 <= off + len) {
        const alen = u16(buf, a)
        if (alen < 4 || a + alen > off + len) break
        if ((u16(buf, a + 2) & 0x3fff) === 1) {
          const end = buf[a + alen - 1] === 0 ? a + alen - 1 : a + alen
          out.push({ family, table: buf.toString('utf8', a + 4, end) })
          break
        }
        a += (alen + 3) & ~3
      }
    }
    off += (len + 3) & ~3
  }
  return out
}

export function monitorNft(onEvent: (ev: NftMonitorEvent) => void, opts: { recvBufferSize?: number } = {}): NftMonitor {
  const sock = new RawNetlinkSocket(Protocol.NETFILTER, { recvBufferSize: opts.recvBufferSize ?? 8 << 20, sendBufferSize: 0 })
  sock.addMembership(NFNLGRP_NFTABLES)
  sock.unref()
  let closed = false
  sock.on('message', (buf) => {
    for (const change of decodeNftNotifications(buf)) {
      if (closed) return
      onEvent({ kind: 'change', change })
    }
  })
  sock.on('error', (err) => {
    if (!closed) onEvent({ kind: 'overflow', errno: Math.abs(Number((err as { errno?: number }).errno ?? 0)) })
  })
  return { close() { if (!closed) { closed = true; sock.close() } } }
}
