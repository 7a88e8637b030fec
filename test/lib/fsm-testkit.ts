// Test helpers for the FSM tests (not shipped code): compact action rendering and drivers.
import { makeCapabilities, type OpenMessage } from '../../internal/bgp/wire/index.ts'
import { step } from '../../internal/bgp/fsm/fsm.ts'
import type { FsmAction, FsmEvent, FsmState } from '../../internal/bgp/fsm/types.ts'

/** One action as a short string, so replay tables read like the RFC text. */
export function fmt(a: FsmAction): string {
  switch (a.type) {
    case 'start-timer': return `start ${a.timer} ${a.seconds}`
    case 'stop-timer': return `stop ${a.timer}`
    case 'connect': return 'connect'
    case 'drop-connection': return 'drop'
    case 'send-open': return 'open'
    case 'send-keepalive': return 'keepalive'
    case 'send-notification': return `notify ${a.code}/${a.subcode}`
    case 'established': return 'established'
    case 'session-down': return 'down'
  }
}

export function peerOpen(over: Partial<OpenMessage> = {}): OpenMessage {
  return {
    type: 'open',
    version: 4,
    myAs: 65002,
    holdTime: 30,
    routerId: '192.0.2.2',
    capabilities: makeCapabilities({ asn: 65002, addPath: 'send' }),
    ...over,
  }
}

/** Feed events in order from `s`, returning the final state and every action rendered. */
export function run(s: FsmState, events: FsmEvent[], now = 0): { state: FsmState; actions: string[] } {
  const actions: string[] = []
  let cur = s
  for (const e of events) {
    const r = step(cur, e, now)
    cur = r.state
    actions.push(...r.actions.map(fmt))
  }
  return { state: cur, actions }
}

export const toConnect: FsmEvent[] = [{ type: 'ManualStart' }]
export const toActive: FsmEvent[] = [{ type: 'ManualStart_with_PassiveTcpEstablishment' }]
export const toOpenSent: FsmEvent[] = [{ type: 'ManualStart' }, { type: 'Tcp_CR_Acked' }]
export const toOpenConfirm: FsmEvent[] = [...toOpenSent, { type: 'BGPOpen', open: peerOpen() }]
export const toEstablished: FsmEvent[] = [...toOpenConfirm, { type: 'KeepAliveMsg' }]
