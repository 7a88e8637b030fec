// Errors of the Kubernetes adapters: a kubeconfig that cannot be loaded is a PorterError
// (PORTER_ERR_CONFIG_READ); API failures at run time are reported in status and logs as text
// with the HTTP status when there is one (describeError).
import { PorterError } from '../errors/index.ts'

export class KubeconfigError extends PorterError {
  constructor(what: string, cause: unknown) {
    super('PORTER_ERR_CONFIG_READ', `Cannot load ${what}: ${describeError(cause).message} (check kubernetes.kubeconfig / kubernetes.inCluster)`, { cause })
    this.name = 'KubeconfigError'
  }
}

/** HTTP status of a client-node error: ApiException.code, Watch's statusCode, a Status body's code. */
export function httpStatus(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined
  const o = e as { code?: unknown; statusCode?: unknown }
  if (typeof o.statusCode === 'number') return o.statusCode
  if (typeof o.code === 'number') return o.code
  return undefined
}

/** A one-line description of a client-node / fetch error, with the HTTP status if any. */
export function describeError(e: unknown): { message: string; status?: number } {
  const status = httpStatus(e)
  if (e instanceof Error) {
    let msg = e.message
    const body = (e as { body?: unknown }).body
    if (status !== undefined && body !== undefined) {
      // ApiException: "HTTP-Code: 403\nMessage: ...\nBody: {...}\nHeaders: ..." -> the Status message
      let text: string | undefined
      try { text = (typeof body === 'string' ? JSON.parse(body) : body as { message?: string }).message } catch { text = typeof body === 'string' ? body : undefined }
      msg = `HTTP ${status}${text ? `: ${text}` : ''}`
    } else if (status !== undefined && !msg.includes(String(status))) msg = `HTTP ${status}: ${msg}`
    const cause = (e as { cause?: unknown }).cause
    if (cause instanceof Error && !msg.includes(cause.message)) msg = `${msg}: ${cause.message}`
    return status !== undefined ? { message: msg.split('\n')[0]!, status } : { message: msg.split('\n')[0]! }
  }
  return status !== undefined ? { message: String(e), status } : { message: String(e) }
}
