// A thin REST client for the writes and lists client-node's generated API makes awkward (merge
// patches on status subresources, CRDs, leases, events): JSON over node:https with the
// kubeconfig's TLS and credentials, one keep-alive agent, a timeout per request.
import { request as httpsRequest, Agent as HttpsAgent, type RequestOptions } from 'node:https'
import { request as httpRequest, Agent as HttpAgent } from 'node:http'
import type { KubeConfig } from '@kubernetes/client-node'
import type { ListPage } from './informer.ts'

export interface RestResponse<T = unknown> { status: number; body: T }

export class ApiError extends Error {
  constructor(readonly method: string, readonly path: string, readonly status: number, readonly body: unknown) {
    const msg = (body as { message?: unknown } | undefined)?.message
    super(`${method} ${path}: HTTP ${status}${typeof msg === 'string' ? `: ${msg}` : ''}`)
    this.name = 'ApiError'
  }
  /** client-node's errors expose the HTTP status as `code` (errors.ts httpStatus reads it) */
  get code(): number { return this.status }
}

export const MERGE_PATCH = 'application/merge-patch+json'
export const JSON_PATCH = 'application/json-patch+json'

export class KubeRest {
  private base: URL
  private opts: RequestOptions | undefined
  private readonly agent: HttpsAgent | HttpAgent

  constructor(private readonly kc: KubeConfig, private readonly timeoutMs = 15_000) {
    this.base = new URL(kc.getCurrentCluster()?.server ?? 'https://127.0.0.1')
    this.agent = this.base.protocol === 'http:' ? new HttpAgent({ keepAlive: true, maxSockets: 16 }) : new HttpsAgent({ keepAlive: true, maxSockets: 16 })
  }

  private async options(): Promise<RequestOptions> {
    if (!this.opts) {
      const o: RequestOptions = {}
      await this.kc.applyToHTTPSOptions(o)
      this.opts = o
    }
    return this.opts
  }

  /** Any status is returned; the caller decides. Network errors reject. */
  async raw<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<RestResponse<T>> {
    const base = await this.options()
    const url = new URL(path, this.base)
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const headers: Record<string, string | number> = { ...(base.headers as Record<string, string>), accept: 'application/json' }
    if (payload) {
      headers['content-type'] = contentType
      headers['content-length'] = payload.length
    }
    const req = this.base.protocol === 'http:' ? httpRequest : httpsRequest
    return new Promise((resolve, reject) => {
      const r = req(url, { ...base, method, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: unknown = text
          try { parsed = text ? JSON.parse(text) : undefined } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed as T })
        })
        res.on('error', reject)
      })
      r.on('timeout', () => r.destroy(new Error(`${method} ${path}: no answer within ${this.timeoutMs} ms`)))
      r.on('error', reject)
      r.end(payload)
    })
  }

  /** 2xx -> body; anything else throws ApiError (status in `.status` and `.code`). */
  async call<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const r = await this.raw<T>(method, path, body, contentType)
    if (r.status < 200 || r.status > 299) throw new ApiError(method, path, r.status, r.body)
    return r.body
  }

  get<T = unknown>(path: string): Promise<T> { return this.call<T>('GET', path) }

  /**
   * One page of a collection (limit/continue), shaped like client-node's generated lists: the
   * API's `metadata.continue` is `metadata._continue` there, and ResilientInformer reads that.
   */
  async listPage<T>(path: string, limit: number, cont: string | undefined): Promise<ListPage<T>> {
    const body = await this.get<{ metadata?: { resourceVersion?: string; continue?: string }; items?: T[] }>(`${path}${path.includes('?') ? '&' : '?'}limit=${limit}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`)
    const m = body.metadata ?? {}
    return { metadata: { ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}), ...(m.continue ? { _continue: m.continue } : {}) }, items: body.items ?? [] }
  }

  close(): void { this.agent.destroy() }
}
