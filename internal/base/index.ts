// The shared base: one Clock, one back-off, errno helpers. Imported by every module; imports nothing of Porter's.
export { realClock, sleep, type Clock } from './clock.ts'
export { backoffPolicy, backoffInit, backoffOnSuccess, backoffOnFailure, type BackoffPolicy, type BackoffState } from './backoff.ts'
export { ERRNO, errnoNumber, errnoOf, isErrno } from './errno.ts'
export type { Logger } from './logger.ts'
