import t from 'tap'
import type { Nlri } from '../wire/index.ts'
import { RECEIVED_LIMIT, ReceivedRoutes } from './received.ts'

const v4 = (addr: string, len = 32, pathId?: number): Nlri => (pathId === undefined ? { prefix: { afi: 1, addr, len } } : { prefix: { afi: 1, addr, len }, pathId })
const v6 = (addr: string, len = 128): Nlri => ({ prefix: { afi: 2, addr, len } })

t.test('counts each route once; a withdrawal of a route never announced subtracts nothing', async (t) => {
  const r = new ReceivedRoutes()
  r.announce('ipv4-unicast', [v4('192.0.2.1'), v4('192.0.2.1'), v4('192.0.2.0', 24), v4('192.0.2.1', 32, 7)])
  t.equal(r.count('ipv4-unicast'), 3, 'the same /32 twice is one route; /24 and a path id are others')
  r.announce('ipv6-unicast', [v6('2001:db8::1'), v6('2001:db8::1'), v6('2001:db8::1', 127 as number)])
  t.equal(r.count('ipv6-unicast'), 2, 'a /128 and a /127 of one address are two routes')
  r.withdraw('ipv6-unicast', [v6('2001:db8::1', 127)])
  t.equal(r.total, 4)
  r.withdraw('ipv4-unicast', [v4('192.0.2.1'), v4('198.51.100.9')])
  t.equal(r.count('ipv4-unicast'), 2, 'the unknown withdrawal changed nothing')
  r.withdraw('ipv6-unicast', [v6('2001:db8::1')])
  t.equal(r.count('ipv6-unicast'), 0)
  t.ok(r.exact)
  t.same(r.families().sort(), ['ipv4-unicast', 'ipv6-unicast'])
  r.clear()
  t.equal(r.total, 0)
})

t.test('IPv4 keys: the address and the length both count (198.51.100.1/32 is not 198.51.100.0/32 nor 198.51.100.0/31)', async (t) => {
  const r = new ReceivedRoutes()
  r.announce('ipv4-unicast', [v4('198.51.100.1'), v4('198.51.100.0'), v4('198.51.100.0', 31), v4('255.255.255.255'), v4('0.0.0.0', 0)])
  t.equal(r.count('ipv4-unicast'), 5)
  r.withdraw('ipv4-unicast', [v4('198.51.100.0', 31)])
  t.equal(r.count('ipv4-unicast'), 4)
})

t.test('past the limit a family keeps no routes and counts announcements minus withdrawals', async (t) => {
  t.ok(RECEIVED_LIMIT >= 100_000, 'the default limit leaves a large table exact')
  const r = new ReceivedRoutes(100)
  const many = Array.from({ length: 150 }, (_, i) => v4(`198.18.0.${i}`))
  r.announce('ipv4-unicast', many)
  t.equal(r.count('ipv4-unicast'), 150)
  t.notOk(r.exact, 'approximate from here on')
  r.withdraw('ipv4-unicast', many.slice(0, 50))
  t.equal(r.count('ipv4-unicast'), 100)
  r.withdraw('ipv4-unicast', many)
  t.equal(r.count('ipv4-unicast'), 0, 'never below zero')
  r.announce('ipv6-unicast', [v6('2001:db8::1')])
  t.equal(r.count('ipv6-unicast'), 1, 'the other family is still exact')
})
