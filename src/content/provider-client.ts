// POST {content-provider-url}/getcontent {"contentId"}: one undici Agent, the callback trust store, a time budget, a checked answer.
import { rootCertificates } from 'node:tls'
import { Agent } from 'undici'
import { errorReason } from '../callbacks/http-client.js'
import type { ClientConfig } from '../config/types.js'
import type { ContentItem } from './content-items.js'

/** Largest provider answer read, bytes (two images). */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024

/** Why a provider's content could not be had; the message never holds the URL's credentials. */
export class ContentProviderError extends Error {
  override name = 'ContentProviderError'
}

/** How the client connects and trusts: the callbacks' settings (trust store, extra CAs, TLS verification). */
export interface ContentProviderClientOptions {
  timeoutMs: number
  /** PEM CAs trusted besides Node's roots (the callback trust store, the broker's own certificate). */
  extraCa?: readonly string[]
  insecureSkipVerify?: boolean
}

/** The provider URL of a client without userinfo, and the Basic credentials from the config or the URL. */
function target (client: ClientConfig): { origin: string, path: string, authorization?: string } {
  let url: URL
  try {
    url = new URL(client.contentProviderUrl ?? '')
  } catch {
    throw new ContentProviderError('content-provider-url is not a valid URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ContentProviderError('content-provider-url is not http(s)')
  const userinfo = url.username === '' && url.password === '' ? undefined : `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
  const basic = client.contentProviderBasicAuth ?? userinfo
  return {
    origin: url.origin,
    path: `${url.pathname.replace(/\/+$/, '')}/getcontent${url.search}`,
    ...(basic === undefined ? {} : { authorization: `Basic ${Buffer.from(basic, 'utf8').toString('base64')}` })
  }
}

/** Checks a provider answer: `{"data": [{content_type, data, ...}, ...]}` with at least one item. */
export function parseProviderAnswer (text: string): ContentItem[] {
  let answer: unknown
  try { answer = JSON.parse(text) } catch { throw new ContentProviderError('the answer is not JSON') }
  const data = (answer as { data?: unknown } | null)?.data
  if (!Array.isArray(data) || data.length === 0) throw new ContentProviderError('the answer has no "data" items')
  for (const item of data) {
    const candidate = item as Partial<ContentItem> | null
    if (typeof candidate !== 'object' || candidate === null || typeof candidate.content_type !== 'string' || typeof candidate.data !== 'string') {
      throw new ContentProviderError('a "data" item lacks content_type or data')
    }
  }
  return data as ContentItem[]
}

/** Fetches content items from the clients' providers. Share one per process. */
export class ContentProviderClient {
  private readonly agent: Agent

  constructor (private readonly options: ContentProviderClientOptions) {
    const extraCa = options.extraCa ?? []
    this.agent = new Agent({
      connections: 16,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: {
        timeout: options.timeoutMs,
        rejectUnauthorized: options.insecureSkipVerify !== true,
        ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {})
      }
    })
  }

  /** The items for `contentId` from the client's provider. @throws ContentProviderError */
  async fetch (client: ClientConfig, contentId: string): Promise<ContentItem[]> {
    const { origin, path, authorization } = target(client)
    const signal = AbortSignal.timeout(this.options.timeoutMs)
    let text: string
    try {
      const response = await this.agent.request({
        origin,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(authorization === undefined ? {} : { authorization }) },
        body: JSON.stringify({ contentId }),
        signal
      })
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length
        if (size > MAX_ANSWER_BYTES) {
          response.body.destroy()
          throw new ContentProviderError(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`)
        }
        chunks.push(chunk as Buffer)
      }
      if (response.statusCode < 200 || response.statusCode >= 300) throw new ContentProviderError(`HTTP ${response.statusCode}`)
      text = Buffer.concat(chunks).toString('utf8')
    } catch (err) {
      if (err instanceof ContentProviderError) throw err
      throw new ContentProviderError(signal.aborted ? `timeout after ${this.options.timeoutMs} ms` : errorReason(err))
    }
    return parseProviderAnswer(text)
  }

  async close (): Promise<void> {
    await this.agent.close()
  }
}
