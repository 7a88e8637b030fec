// bgp.peers[].bfd: defaults (100 ms x 3, enabled once the block is there), ranges at their field,
// single hop only (not with ebgpMultihop > 1), and what reaches the speaker (ms, only when enabled).
import t from 'tap'
import { parseConfig } from '../../internal/config/index.ts'
import { speakerConfig } from '../../internal/controller/advertise.ts'
import { errorsOf } from '../lib/config-errors.ts'

const cfg = (bfd: string, extra = ''): string => `
bgp:
  localAs: 65002
  routerId: 192.0.2.2
  peers:
    - { name: r1, address: 192.0.2.1, peerAs: 65001${bfd ? `, bfd: ${bfd}` : ''}${extra} }
`

t.test('defaults and what the speaker gets', async (t) => {
  const c = parseConfig(cfg('{}'))
  t.same(c.bgp!.peers[0]!.bfd, { enabled: true, minTx: 100, minRx: 100, multiplier: 3 }, 'an empty block: on, 100 ms x 3')
  t.same(speakerConfig(c).peers[0]!.bfd, { minTx: 100, minRx: 100, multiplier: 3 }, 'the speaker gets the timers in ms')
  t.equal(parseConfig(cfg('')).bgp!.peers[0]!.bfd, undefined, 'no block: no BFD')
  t.equal(speakerConfig(parseConfig(cfg('{ enabled: false, minTx: 50 }'))).peers[0]!.bfd, undefined, 'enabled: false: no BFD for the speaker')
  t.same(speakerConfig(parseConfig(cfg('{ minTx: 300, minRx: 250, multiplier: 5 }'))).peers[0]!.bfd, { minTx: 300, minRx: 250, multiplier: 5 })
  t.same(parseConfig(cfg('{}', ', ebgpMultihop: 1')).bgp!.peers[0]!.bfd?.enabled, true, 'ebgpMultihop 1 is still one hop')
})

t.test('bad values: an error at the field', async (t) => {
  const rows: [string, string, RegExp][] = [
    ['{ minTx: 5 }', '', /bgp\.peers\[0\]\.bfd\.minTx/],
    ['{ minRx: 60001 }', '', /bgp\.peers\[0\]\.bfd\.minRx/],
    ['{ multiplier: 0 }', '', /bgp\.peers\[0\]\.bfd\.multiplier/],
    ['{ multiplier: 256 }', '', /bgp\.peers\[0\]\.bfd\.multiplier/],
    ['{ minTx: 1.5 }', '', /bgp\.peers\[0\]\.bfd\.minTx/],
    ['{ interval: 100 }', '', /bgp\.peers\[0\]\.bfd.*interval/],
    ['{}', ', ebgpMultihop: 2', /bgp\.peers\[0\]\.bfd: BFD here is single hop \(RFC 5881.*ebgpMultihop 2/],
  ]
  for (const [bfd, extra, want] of rows) {
    const errs = errorsOf(cfg(bfd, extra))
    t.equal(errs.filter((e) => /bfd/.test(e)).length, 1, `${bfd}${extra}: one error`)
    t.match(errs.join('\n'), want, `${bfd}${extra}: ${want}`)
  }
})
