// internal/sys/md5.ts: the struct tcp_md5sig bytes (annotated vectors, and the same structs built
// by a C program from <linux/tcp.h> with inet_pton), then the real kernel on local sockets:
// setting and removing keys, errors with errno, and signed connections over loopback only.
import t from 'tap'
import net from 'node:net'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { endianness, tmpdir } from 'node:os'
import { join } from 'node:path'
import { PorterError } from '../../internal/errors/index.ts'
import { connectTcp, md5sigStruct, setTcpMd5, socketFamily, socketFd, SysCallError, TCP_MD5SIG_MAXKEYLEN } from '../../internal/sys/index.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const zeros = (n: number): string => '00'.repeat(n)

t.test('struct tcp_md5sig: annotated vectors (little-endian host)', async (t) => {
  t.equal(endianness(), 'LE', 'the vectors below are for a little-endian host (x86-64, arm64)')
  const cases: { name: string; peer: string; key: string | Uint8Array | undefined; family: 4 | 6; addr: string; keylen: string; key_: string }[] = [
    {
      name: 'IPv4 peer on an IPv4 socket',
      peer: '192.0.2.1', key: 'abc', family: 4,
      // sockaddr_in: family AF_INET=2 (host order), port 0, 192.0.2.1, then zero padding to 128
      addr: '0200' + '0000' + 'c0000201' + zeros(120),
      keylen: '0300', key_: '616263',
    },
    {
      name: 'IPv4 peer on an IPv6 (dual-stack) socket: v4-mapped',
      peer: '198.51.100.7', key: 'k', family: 6,
      // sockaddr_in6: family AF_INET6=10, port 0, flowinfo 0, ::ffff:198.51.100.7, scope 0
      addr: '0a00' + '0000' + '00000000' + '00000000000000000000ffff' + 'c6336407' + '00000000' + zeros(100),
      keylen: '0100', key_: '6b',
    },
    {
      name: 'IPv6 peer',
      peer: '2001:db8::1:2', key: new Uint8Array([0, 1, 0xff]), family: 6,
      addr: '0a00' + '0000' + '00000000' + '20010db8000000000000000000010002' + '00000000' + zeros(100),
      keylen: '0300', key_: '0001ff',
    },
    {
      name: 'v4-mapped IPv6 text on an IPv4 socket is the IPv4 peer',
      peer: '::ffff:203.0.113.9', key: 'x', family: 4,
      addr: '0200' + '0000' + 'cb007109' + zeros(120),
      keylen: '0100', key_: '78',
    },
    {
      name: 'link-local with a zone: the zone is dropped',
      peer: 'fe80::a%eth0', key: 'z', family: 6,
      addr: '0a00' + '0000' + '00000000' + 'fe80000000000000000000000000000a' + '00000000' + zeros(100),
      keylen: '0100', key_: '7a',
    },
    {
      name: 'remove: key undefined is keylen 0',
      peer: '192.0.2.1', key: undefined, family: 4,
      addr: '0200' + '0000' + 'c0000201' + zeros(120),
      keylen: '0000', key_: '',
    },
  ]
  t.ok(cases.length > 0)
  for (const c of cases) {
    const got = md5sigStruct(c.peer, c.key, c.family)
    t.equal(got.length, 216, `${c.name}: 216 bytes`)
    // 128 tcpm_addr | u8 flags | u8 prefixlen | u16 keylen | u32 ifindex | u8 key[80]
    const want = c.addr + '00' + '00' + c.keylen + '00000000' + c.key_ + zeros(80 - c.key_.length / 2)
    t.equal(hex(got), want, c.name)
  }
})

t.test('struct tcp_md5sig: the same bytes as C with <linux/tcp.h> and inet_pton', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'porter-md5-c-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'm.c'), `
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/tcp.h>
int main(int argc, char **argv) {
  if (argc == 1) {
    printf("%zu %zu %zu %zu %zu %zu %d\\n", sizeof(struct tcp_md5sig), offsetof(struct tcp_md5sig, tcpm_flags),
      offsetof(struct tcp_md5sig, tcpm_prefixlen), offsetof(struct tcp_md5sig, tcpm_keylen),
      offsetof(struct tcp_md5sig, tcpm_ifindex), offsetof(struct tcp_md5sig, tcpm_key), TCP_MD5SIG);
    return 0;
  }
  struct tcp_md5sig s;
  memset(&s, 0, sizeof s);
  if (argv[1][0] == '4') {
    struct sockaddr_in *a = (struct sockaddr_in *)&s.tcpm_addr;
    a->sin_family = AF_INET;
    if (inet_pton(AF_INET, argv[2], &a->sin_addr) != 1) return 2;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s.tcpm_addr;
    a->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, argv[2], &a->sin6_addr) != 1) return 2;
  }
  s.tcpm_keylen = strlen(argv[3]);
  memcpy(s.tcpm_key, argv[3], s.tcpm_keylen);
  for (size_t i = 0; i < sizeof s; i++) printf("%02x", ((unsigned char *)&s)[i]);
  printf("\\n");
  return 0;
}
`)
  execFileSync('cc', ['-o', join(dir, 'm'), join(dir, 'm.c')])
  const c = (...args: string[]): string => execFileSync(join(dir, 'm'), args, { encoding: 'utf8' }).trim()
  t.equal(c(), '216 128 129 130 132 136 14', 'sizeof 216, offsets 128/129/130/132/136, TCP_MD5SIG 14')
  // C's inet_pton takes the mapped form as text; md5sigStruct maps an IPv4 peer itself
  const cases: [4 | 6, string, string, string][] = [
    [4, '192.0.2.1', '192.0.2.1', 'secret'],
    [4, '203.0.113.255', '203.0.113.255', 'x'.repeat(TCP_MD5SIG_MAXKEYLEN)],
    [6, '2001:db8::1', '2001:db8::1', 'password with spaces'],
    [6, '2001:db8:0:1:2:3:4:5', '2001:db8:0:1:2:3:4:5', 'k'],
    [6, '2001:db8::', '2001:db8::', 'k'],
    [6, '::1', '::1', 'k'],
    [6, '::', '::', 'k'],
    [6, '2001:db8:1::192.0.2.33', '2001:db8:1::192.0.2.33', 'k'],
    [6, '198.51.100.200', '::ffff:198.51.100.200', 'mapped'],
    [6, 'fe80::1:2:3:4', 'fe80::1:2:3:4', 'll'],
  ]
  for (const [family, peer, cPeer, key] of cases) {
    t.equal(hex(md5sigStruct(peer, key, family)), c(String(family), cPeer, key), `${peer} on an IPv${family} socket`)
  }
})

t.test('struct tcp_md5sig: refused inputs', async (t) => {
  const refuse = (peer: string, key: string | Uint8Array | undefined, family: 4 | 6, re: RegExp): void => {
    t.throws(() => md5sigStruct(peer, key, family), re)
    try {
      md5sigStruct(peer, key, family)
    } catch (e) {
      t.equal((e as PorterError).code, 'PORTER_ERR_TCP_MD5')
    }
  }
  refuse('bird.example', 'k', 4, /^Cannot set a TCP MD5 key for peer "bird\.example": not an IP address$/)
  refuse('192.0.2.256', 'k', 4, /not an IP address/)
  refuse('2001:db8::1', 'k', 4, /^Cannot set a TCP MD5 key for IPv6 peer "2001:db8::1" on an IPv4 socket: use an IPv6 socket$/)
  refuse('192.0.2.1', '', 4, /is empty: give a key, or undefined to remove it$/)
  refuse('192.0.2.1', new Uint8Array(81), 4, /is 81 bytes long: the kernel takes at most 80$/)
  t.equal(md5sigStruct('192.0.2.1', new Uint8Array(80), 4).length, 216, '80 bytes is the maximum and accepted')
  t.equal(hex(md5sigStruct('192.0.2.1', 'é', 4).slice(130, 132)), '0200', 'a string key is its UTF-8 bytes (é is 2 bytes)')
})

function listen(host: string, opts: net.ListenOptions = {}): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer((c) => { c.on('error', () => undefined); c.end('signed hello') })
    s.once('error', reject)
    s.listen({ host, port: 0, ...opts }, () => resolve(s))
  })
}

t.test('the kernel takes the keys: IPv4, IPv6, dual-stack, removal', async (t) => {
  const v4 = await listen('127.0.0.1')
  const v6 = await listen('::1')
  const dual = await listen('::', { ipv6Only: false })
  t.teardown(() => { v4.close(); v6.close(); dual.close() })
  t.equal(socketFamily(socketFd(v4)), 4)
  t.equal(socketFamily(socketFd(v6)), 6)
  t.equal(socketFamily(socketFd(dual)), 6)
  t.doesNotThrow(() => setTcpMd5(socketFd(v4), '192.0.2.1', 'one'), 'IPv4 key on an IPv4 socket')
  t.doesNotThrow(() => setTcpMd5(socketFd(v4), '192.0.2.1', 'two'), 'replacing a key')
  t.doesNotThrow(() => setTcpMd5(socketFd(v6), '2001:db8::1', 'three'), 'IPv6 key')
  t.doesNotThrow(() => setTcpMd5(socketFd(dual), '192.0.2.1', 'four'), 'IPv4 key on a dual-stack socket (v4-mapped)')
  t.doesNotThrow(() => setTcpMd5(socketFd(v4), '192.0.2.1', undefined), 'removal')
  t.doesNotThrow(() => setTcpMd5(socketFd(v4), '192.0.2.1', undefined), 'removing a key that is not there is not an error')
  t.throws(() => setTcpMd5(socketFd(v4), '2001:db8::1', 'k'), /IPv6 peer "2001:db8::1" on an IPv4 socket/, 'family detected with getsockname')
})

t.test('kernel errors carry errno', async (t) => {
  const s = await listen('127.0.0.1')
  const fd = socketFd(s)
  await new Promise((r) => s.close(r))
  let err: unknown
  try {
    setTcpMd5(fd, '192.0.2.1', 'k', 4)
  } catch (e) {
    err = e
  }
  t.type(err, SysCallError)
  t.type(err, PorterError)
  t.match(err, { code: 'PORTER_ERR_TCP_MD5', errno: 9, syscall: 'setsockopt(TCP_MD5SIG)' })
  t.match((err as Error).message, /^Cannot set the TCP MD5 key for peer "192\.0\.2\.1" on socket fd \d+: setsockopt\(TCP_MD5SIG\) failed with EBADF \(errno 9\): not an open file descriptor$/)
  t.throws(() => socketFamily(fd), { code: 'PORTER_ERR_TCP_MD5', errno: 9, syscall: 'getsockname' })
})

t.test('socketFd: a listening server has one; net.connect() has none until the next tick', async (t) => {
  const s = await listen('127.0.0.1')
  t.teardown(() => s.close())
  t.ok(socketFd(s) > 2, 'listening server fd')
  t.throws(() => socketFd(net.createServer()), { code: 'PORTER_ERR_INTERNAL', message: 'The server has no handle (not listening or connecting yet, or already closed)' })
  const port = (s.address() as net.AddressInfo).port
  const c = net.connect({ host: '127.0.0.1', port })
  // Node creates the handle at once but the fd only with the connect(2) call, on the next tick:
  // setTcpMd5(socketFd(net.connect(...))) cannot sign the SYN, hence connectTcp
  t.throws(() => socketFd(c), { code: 'PORTER_ERR_INTERNAL', message: /^The socket has no file descriptor yet \(net\.connect\(\) creates it on the next tick, together with the SYN: use connectTcp\(\) to sign the SYN\)$/ })
  await new Promise((r) => c.once('connect', r))
  t.ok(socketFd(c) > 2, 'connected socket fd')
  c.destroy()
  t.throws(() => socketFd(c), /has no handle/, 'destroyed socket')
})

type Outcome = { connected: true; ms: number; data: string } | { connected: false; error?: string }

/** connect and read the server's greeting, or give up after `ms` (no SYN-ACK: the SYN was dropped) */
function attempt(sock: net.Socket, ms: number): Promise<Outcome> {
  const start = performance.now()
  return new Promise((resolve) => {
    let data = ''
    let connectedAt: number | undefined
    const timer = setTimeout(() => { sock.destroy(); resolve({ connected: false }) }, ms)
    sock.on('connect', () => (connectedAt = Math.round(performance.now() - start)))
    sock.on('data', (d) => (data += String(d)))
    let error: string | undefined
    sock.on('error', (e) => (error = e.message))
    sock.on('close', () => {
      clearTimeout(timer)
      resolve(connectedAt !== undefined ? { connected: true, ms: connectedAt, data } : { connected: false, ...(error ? { error } : {}) })
    })
  })
}

t.test('signed connections over loopback: right key, wrong key, no key', async (t) => {
  for (const [family, host] of [[4, '127.0.0.1'], [6, '::1']] as const) {
    const s = await listen(host)
    t.teardown(() => s.close())
    const port = (s.address() as net.AddressInfo).port
    setTcpMd5(socketFd(s), host, 'loopback key')
    const ok = await attempt(connectTcp({ host, port, key: 'loopback key', localAddress: host }), 3000)
    t.match(ok, { connected: true, data: 'signed hello' }, `IPv${family}: same key connects`)
    // the initial SYN retransmission timeout is 1 s: connecting faster means the FIRST SYN was signed
    if (ok.connected) t.ok(ok.ms < 900, `IPv${family}: connected in ${ok.ms} ms, before any SYN retransmission`)
    t.same(await attempt(connectTcp({ host, port, key: 'wrong key' }), 1500), { connected: false }, `IPv${family}: wrong key gets no answer`)
    t.same(await attempt(net.connect({ host, port }), 1500), { connected: false }, `IPv${family}: no key gets no answer`)
    setTcpMd5(socketFd(s), host, undefined)
    t.match(await attempt(net.connect({ host, port }), 3000), { connected: true, data: 'signed hello' }, `IPv${family}: key removed, unsigned connects again`)
  }
})

t.test('connectTcp: checks its input; no key is a plain connection', async (t) => {
  t.throws(() => connectTcp({ host: 'localhost', port: 179, key: 'k' }), { code: 'PORTER_ERR_TCP_MD5', message: 'Cannot connect to "localhost": not an IP address' })
  t.throws(() => connectTcp({ host: '127.0.0.1', port: 179, localAddress: '::1', key: 'k' }), { code: 'PORTER_ERR_TCP_MD5', message: /the local address is not of the same family$/ })
  t.throws(() => connectTcp({ host: '127.0.0.1', port: 179, key: 'x'.repeat(81) }), /is 81 bytes long/)
  const s = await listen('127.0.0.1')
  t.teardown(() => s.close())
  const port = (s.address() as net.AddressInfo).port
  t.match(await attempt(connectTcp({ host: '127.0.0.1', port, key: undefined }), 3000), { connected: true, data: 'signed hello' })
})
