export { startAdminServer, type AdminServer, type AdminHandler } from './server.ts'
export { adminRequest } from './client.ts'
export type { DaemonStatus, DaemonInfo, ModeStatus, ControllerStatus, AgentStatus, AgentReport, PeerStatus, VipStatus, NextHopStatus, KubeControllerStatus } from './status.ts'
