import t from 'tap'
import { errnoNumber, errnoOf, isErrno } from './errno.ts'

t.test('errnoOf / isErrno', async (t) => {
  const enoent = Object.assign(new Error('nope'), { code: 'ENOENT', errno: -2 })
  const rows: [string, unknown, string | undefined, string[], boolean][] = [
    ['system error', enoent, 'ENOENT', ['ENOENT'], true],
    ['one of several codes', enoent, 'ENOENT', ['EEXIST', 'ENOENT'], true],
    ['another code', enoent, 'ENOENT', ['EEXIST'], false],
    ['no codes asked', enoent, 'ENOENT', [], false],
    ['numeric code', { code: 2 }, undefined, ['2'], false],
    ['plain Error', new Error('x'), undefined, ['ENOENT'], false],
    ['undefined', undefined, undefined, ['ENOENT'], false],
    ['null', null, undefined, ['ENOENT'], false],
    ['string', 'ENOENT', undefined, ['ENOENT'], false],
  ]
  for (const [name, e, code, codes, is] of rows) {
    t.equal(errnoOf(e), code, `${name}: errnoOf`)
    t.equal(isErrno(e, ...codes), is, `${name}: isErrno(${codes.join(', ')})`)
  }
})

t.test('errnoNumber: positive errno, 0 without one', async (t) => {
  const rows: [string, unknown, number][] = [
    ['Node spawn error (negative errno)', Object.assign(new Error('spawn x ENOENT'), { code: 'ENOENT', errno: -2 }), 2],
    ['positive errno', { errno: 105 }, 105],
    ['errno 0', { errno: 0 }, 0],
    ['string errno', { errno: '2' }, 0],
    ['no errno', new Error('x'), 0],
    ['undefined', undefined, 0],
    ['null', null, 0],
  ]
  for (const [name, e, n] of rows) t.equal(errnoNumber(e), n, name)
})
