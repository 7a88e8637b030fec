export { startAdminServer, type AdminServer, type AdminHandler } from './server.ts'
export { adminRequest } from './client.ts'
