// node:net's isIP without node:net: loading node:net (streams, sockets) costs `porter validate`
// about a tenth of its start-up, and the config checks need only this. The same regular
// expressions as Node 20's lib/internal/net.js, so the same answers: no leading zeros in IPv4,
// every IPv6 text form, a zone id ("fe80::1%eth0") accepted on IPv6.
const v4Seg = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])'
const v4Str = `(?:${v4Seg}\\.){3}${v4Seg}`
const IPV4 = new RegExp(`^${v4Str}$`)
const v6Seg = '(?:[0-9a-fA-F]{1,4})'
const IPV6 = new RegExp('^(?:' +
  `(?:${v6Seg}:){7}(?:${v6Seg}|:)|` +
  `(?:${v6Seg}:){6}(?:${v4Str}|:${v6Seg}|:)|` +
  `(?:${v6Seg}:){5}(?::${v4Str}|(?::${v6Seg}){1,2}|:)|` +
  `(?:${v6Seg}:){4}(?:(?::${v6Seg}){0,1}:${v4Str}|(?::${v6Seg}){1,3}|:)|` +
  `(?:${v6Seg}:){3}(?:(?::${v6Seg}){0,2}:${v4Str}|(?::${v6Seg}){1,4}|:)|` +
  `(?:${v6Seg}:){2}(?:(?::${v6Seg}){0,3}:${v4Str}|(?::${v6Seg}){1,5}|:)|` +
  `(?:${v6Seg}:){1}(?:(?::${v6Seg}){0,4}:${v4Str}|(?::${v6Seg}){1,6}|:)|` +
  `(?::(?:(?::${v6Seg}){0,5}:${v4Str}|(?::${v6Seg}){1,7}|:))` +
')(?:%[0-9a-zA-Z-.:]{1,})?$')

/** 4, 6, or 0 when `s` is not an IP address: node:net's isIP, same answers. */
export function isIP(s: string): 0 | 4 | 6 {
  if (IPV4.test(s)) return 4
  if (IPV6.test(s)) return 6
  return 0
}
