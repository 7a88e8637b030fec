// The one catalog of Porter's stable error codes. Codes never change meaning once released;
// the README lists them. Add a row here, never a bare string elsewhere.
export const ErrorCodes = {
  PORTER_ERR_USAGE: 'Bad command line (unknown command or flag, missing value)',
  PORTER_ERR_CONFIG_READ: 'The config file could not be read',
  PORTER_ERR_CONFIG_INVALID: 'The config file is not valid YAML or does not match the schema',
  PORTER_ERR_ADMIN_SOCKET: 'The admin socket could not be created or reached',
  PORTER_ERR_BGP_WIRE: 'A BGP message is malformed (RFC 4271 / RFC 7606 error handling applies)',
  PORTER_ERR_BGP_LISTEN: 'The BGP listener could not bind its address and port',
  PORTER_ERR_METRICS_LISTEN: 'The metrics listener (admin.metricsAddress) could not bind its address and port (errno in the error)',
  PORTER_ERR_BFD_WIRE: 'A BFD control packet (RFC 5880) is malformed',
  PORTER_ERR_BFD_SOCKET: 'A BFD UDP socket (RFC 5881, port 3784) could not be opened, bound or filtered (errno in the error)',
  PORTER_ERR_BGP_SESSION: 'A BGP session failed (notification, hold timer, socket error)',
  PORTER_ERR_NETLINK: 'A netlink request failed (errno in the error)',
  PORTER_ERR_FIREWALL: 'An nftables or iptables transaction failed',
  PORTER_ERR_SHUTDOWN_TIMEOUT: 'Graceful shutdown did not finish in time',
  PORTER_ERR_NATIVE_ADDON: 'A native addon could not be loaded (embedded asset, node_modules or beside the binary)',
  PORTER_ERR_TCP_MD5: 'A TCP MD5 signature key (RFC 2385) could not be set or removed on a socket (errno in the error)',
  PORTER_ERR_SD_NOTIFY: 'A systemd notification could not be sent to $NOTIFY_SOCKET (errno in the error)',
  PORTER_ERR_INTERNAL: 'A bug in Porter: please report it',
} as const

export type ErrorCode = keyof typeof ErrorCodes
