// rtnetlink notifications: address and route changes (RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
// RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE) and link changes, decoded to plain events.
// A socket error (ENOBUFS: notifications were dropped because the receive queue overflowed)
// is reported as `overflow`: the listener must re-dump, the events it missed are gone.
import { RawNetlinkSocket, Protocol } from 'netlink'
import {
  splitMessages, decodeAddr, decodeRoute, decodeLink,
  RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWLINK, RTM_DELLINK,
  RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_LINK,
  type AddrEntry, type RouteEntry, type LinkEntry,
} from './_codec.ts'
import { NetlinkError } from './errors.ts'
import { errnoNumber } from '../base/index.ts'

export type NetlinkEvent =
  | { kind: 'address'; action: 'new' | 'del'; entry: AddrEntry }
  | { kind: 'route'; action: 'new' | 'del'; entry: RouteEntry }
  | { kind: 'link'; action: 'new' | 'del'; entry: LinkEntry }
  | { kind: 'overflow'; error: NetlinkError }

export interface MonitorOptions {
  /** SO_RCVBUF to ask for (capped by net.core.rmem_max); default 8 MiB */
  recvBufferSize?: number
  /** also decode route notifications (default true) */
  routes?: boolean
  links?: boolean
}

export interface Monitor { close(): void }

/** Subscribe to address / route / link notifications in the current network namespace. */
export function monitor(onEvent: (ev: NetlinkEvent) => void, opts: MonitorOptions = {}): Monitor {
  let sock: RawNetlinkSocket
  try {
    sock = new RawNetlinkSocket(Protocol.ROUTE, { recvBufferSize: opts.recvBufferSize ?? 8 << 20, sendBufferSize: 0 })
    sock.addMembership(RTNLGRP_IPV4_IFADDR)
    sock.addMembership(RTNLGRP_IPV6_IFADDR)
    if (opts.routes !== false) {
      sock.addMembership(RTNLGRP_IPV4_ROUTE)
      sock.addMembership(RTNLGRP_IPV6_ROUTE)
    }
    if (opts.links) sock.addMembership(RTNLGRP_LINK)
  } catch (e) {
    throw new NetlinkError('subscribe to rtnetlink notifications', errnoNumber(e), undefined, { cause: e })
  }
  // notifications alone never keep the process alive
  sock.unref()
  let closed = false
  sock.on('message', (buf) => {
    for (const h of splitMessages(buf)) {
      if (closed) return
      switch (h.type) {
        case RTM_NEWADDR: case RTM_DELADDR: {
          const entry = decodeAddr(buf, h)
          if (entry) onEvent({ kind: 'address', action: h.type === RTM_NEWADDR ? 'new' : 'del', entry })
          break
        }
        case RTM_NEWROUTE: case RTM_DELROUTE: {
          const entry = decodeRoute(buf, h)
          if (entry) onEvent({ kind: 'route', action: h.type === RTM_NEWROUTE ? 'new' : 'del', entry })
          break
        }
        case RTM_NEWLINK: case RTM_DELLINK: {
          const entry = decodeLink(buf, h)
          if (entry) onEvent({ kind: 'link', action: h.type === RTM_NEWLINK ? 'new' : 'del', entry })
          break
        }
      }
    }
  })
  sock.on('error', (err) => {
    if (closed) return
    onEvent({ kind: 'overflow', error: new NetlinkError('receive rtnetlink notifications', errnoNumber(err), undefined, { cause: err }) })
  })
  return {
    close() {
      if (closed) return
      closed = true
      sock.close()
    },
  }
}
