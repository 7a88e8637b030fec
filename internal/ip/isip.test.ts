import t from 'tap'
import fc from 'fast-check'
import { isIP as nodeIsIP } from 'node:net'
import { isIP } from './index.ts'
import { fastCheckSeed } from '../../test/lib/fuzz.ts'

fastCheckSeed(t)

t.test('isIP answers as node:net does', async (t) => {
  const cases = [
    '', '1.2.3.4', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4 ',
    '::', '::1', '1::', '2001:db8::1', '2001:DB8:0:0:0:0:0:1', '2001:db8:0:0:0:0:0:0:1', ':::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::',
    '::ffff:192.0.2.1', '::ffff:192.0.2.256', '64:ff9b::1.2.3.4', 'fe80::1%eth0', 'fe80::1%', '1.2.3.4%eth0', 'fe80::1%a.b-c:d', 'g::1',
    '[::1]', '2001:db8::1/128', 'localhost', '12345::', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4',
  ]
  for (const s of cases) t.equal(isIP(s), nodeIsIP(s), JSON.stringify(s))
})

t.test('isIP answers as node:net does on generated text', async (t) => {
  const part = fc.oneof(fc.constantFrom('', '0', '00', '1', '255', '256', 'ffff', 'FFFF', '12345', '1.2.3.4', '%eth0', ':', '::', '.'), fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFg'), maxLength: 5 }))
  const text = fc.array(part, { maxLength: 10 }).chain((ps) => fc.array(fc.constantFrom(':', '.', '::', ''), { minLength: ps.length, maxLength: ps.length }).map((seps) => ps.map((p, i) => p + seps[i]).join('')))
  t.doesNotThrow(() => fc.assert(fc.property(text, (s) => isIP(s) === nodeIsIP(s)), { numRuns: 20_000 }), '20000 texts')
})
