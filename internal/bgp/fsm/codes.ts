// NOTIFICATION error codes and subcodes the FSM emits (RFC 4271 section 4.5, RFC 4486,
// RFC 5492, RFC 6608). The codec keeps its own IANA table; these are the few the FSM needs.

export const NotifCode = {
  MessageHeaderError: 1,
  OpenMessageError: 2,
  UpdateMessageError: 3,
  HoldTimerExpired: 4,
  FsmError: 5,
  Cease: 6,
} as const

export const OpenSubcode = {
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const

/** RFC 4486 */
export const CeaseSubcode = {
  MaximumPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
} as const

/** RFC 6608 */
export const FsmErrorSubcode = {
  Unspecified: 0,
  UnexpectedInOpenSent: 1,
  UnexpectedInOpenConfirm: 2,
  UnexpectedInEstablished: 3,
} as const

/** AS_TRANS (RFC 6793): the 2-octet "My AS" of a speaker whose AS does not fit in 16 bits. */
export const AS_TRANS = 23456

/** The only BGP version we speak. */
export const BGP_VERSION = 4
