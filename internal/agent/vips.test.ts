import t from 'tap'
import { parseVip, normalizeVips, vipsForNode } from './vips.ts'
import { configSchema } from '../config/index.ts'
import { isPorterError } from '../errors/index.ts'

t.test('parseVip: accepted forms, canonical output', async (t) => {
  t.same(parseVip('203.0.113.10'), { address: '203.0.113.10', family: 4 })
  t.same(parseVip('203.0.113.10/32'), { address: '203.0.113.10', family: 4 })
  t.same(parseVip('2001:DB8:0::10/128'), { address: '2001:db8::10', family: 6 })
  t.same(parseVip({ address: '2001:db8::10', family: 6 }), { address: '2001:db8::10', family: 6 })
})

t.test('parseVip: clear messages for bad input', async (t) => {
  const bad: [unknown, RegExp][] = [
    ['203.0.113.300', /"203.0.113.300" is not a VIP/],
    ['203.0.113.0/24', /not a host address: use \/32/],
    ['2001:db8::/64', /use \/128/],
    ['0.0.0.0', /cannot be a VIP/],
    ['224.0.0.1', /multicast/],
    ['ff02::1', /multicast/],
    ['::ffff:192.0.2.1', /IPv4-mapped/],
    ['fe80::1%lo', /is not a VIP/],
    [{ address: '192.0.2.1', family: 6 }, /is not an IPv6 address/],
    [42, /is not a VIP/],
  ]
  for (const [input, msg] of bad) t.match(parseVip(input as string), msg, JSON.stringify(input))
})

t.test('normalizeVips: one error listing every bad entry; duplicates collapse', async (t) => {
  t.same(normalizeVips(['192.0.2.1', '192.0.2.1/32', '2001:db8::1']).map((v) => v.address), ['192.0.2.1', '2001:db8::1'])
  try {
    normalizeVips(['192.0.2.1', 'nope', '192.0.2.0/24'])
    t.fail('should throw')
  } catch (e) {
    t.ok(isPorterError(e))
    t.equal((e as { code: string }).code, 'PORTER_ERR_CONFIG_INVALID')
    t.match((e as Error).message, /vips\[1\]: "nope" is not a VIP.*vips\[2\]: "192.0.2.0\/24" is not a host address/)
  }
})

t.test('vipsForNode: the VIPs whose next hops include one of agent.nodeAddresses', async (t) => {
  const config = configSchema.parse({
    agent: { nodeAddresses: ['192.0.2.11', '2001:DB8::11'] },
    vips: [
      { name: 'web', address: ['203.0.113.10/32', '2001:db8:5::10'], nextHops: ['192.0.2.11', '192.0.2.12'] },
      { name: 'db', address: '203.0.113.20', nextHops: [{ address: '192.0.2.12' }] },
      { name: 'v6', address: '2001:db8:5::30/128', nextHops: [{ address: '2001:db8::11', check: { type: 'tcp', port: 80 } }] },
      { name: 'none', address: '203.0.113.40' },
    ],
  })
  t.same(vipsForNode(config).map((v) => v.address), ['203.0.113.10', '2001:db8:5::10', '2001:db8:5::30'], 'next hops compared in canonical form')
  t.same(vipsForNode(configSchema.parse({ vips: [{ address: '203.0.113.10', nextHops: ['192.0.2.11'] }] })), [], 'no node addresses: nothing')
})
