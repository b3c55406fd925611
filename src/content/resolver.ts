// Resolves a message's content references through its client's content provider, cached for the command's lifespan.
import type { Logger } from 'pino'
import type { ClientRegistry } from '../auth/clients.js'
import { loadTrustStore } from '../callbacks/trust-store.js'
import type { BrokerConfig } from '../config/types.js'
import type { MessageView } from '../mailbox/types.js'
import { mayReferenceContent, referencedContentIds, substituteContent, type ContentItem } from './content-items.js'
import { ContentProviderClient, ContentProviderError } from './provider-client.js'

/** Cached answers kept at most; the oldest go first. */
const MAX_CACHED = 2_000

interface Cached { items: ContentItem[], expiresAt: number }

/**
 * Hands a device the payload it should see: unchanged unless it references content and the client has
 * a content provider; then with the provider's items in place of each reference. Answers are cached
 * per command and content id until the command's lifespan ends. A provider failure throws
 * ContentProviderError (the route answers 502); nothing in the store changes.
 */
export class ContentResolver {
  private readonly cache = new Map<string, Cached>()

  constructor (
    private readonly clients: ClientRegistry,
    private readonly provider: ContentProviderClient,
    private readonly logger?: Logger
  ) {}

  /** The payload text for the device. @throws ContentProviderError */
  async payloadFor (message: MessageView, now: number): Promise<string> {
    if (!mayReferenceContent(message.payload) || message.clientId === undefined) return message.payload
    const client = this.clients.get(message.clientId)
    if (client?.contentProviderUrl === undefined) return message.payload
    const payload = JSON.parse(message.payload) as unknown
    const ids = referencedContentIds(payload)
    if (ids.length === 0) return message.payload
    const expiresAt = message.createdAt + message.lifespanSeconds * 1000
    const resolved = new Map<string, ContentItem[]>()
    await Promise.all(ids.map(async (contentId) => {
      const key = `${message.commandId ?? message.mid}\u0000${contentId}`
      const cached = this.cache.get(key)
      if (cached !== undefined && cached.expiresAt > now) {
        resolved.set(contentId, cached.items)
        return
      }
      try {
        const items = await this.provider.fetch(client, contentId)
        this.remember(key, { items, expiresAt }, now)
        resolved.set(contentId, items)
      } catch (err) {
        const reason = err instanceof ContentProviderError ? err.message : 'request failed'
        this.logger?.warn({ clientId: client.clientId, reason }, 'content provider failed')
        throw err instanceof ContentProviderError ? err : new ContentProviderError(reason)
      }
    }))
    return JSON.stringify(substituteContent(payload, resolved))
  }

  async close (): Promise<void> {
    await this.provider.close()
  }

  private remember (key: string, entry: Cached, now: number): void {
    if (this.cache.size >= MAX_CACHED) {
      for (const [k, v] of this.cache) if (v.expiresAt <= now) this.cache.delete(k)
      while (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string)
    }
    this.cache.set(key, entry)
  }
}

/** The broker's resolver: providers are trusted like callback targets (trust store, extra CAs, insecure-skip-verify). */
export function createContentResolver (
  config: BrokerConfig, clients: ClientRegistry, extraCa: readonly string[] = [], logger?: Logger
): ContentResolver {
  const callbacks = config.broker.callbacks
  const ca = [...extraCa, ...(callbacks.trustStore === undefined ? [] : loadTrustStore(callbacks.trustStore, callbacks.trustStorePassword))]
  const provider = new ContentProviderClient({
    timeoutMs: config.broker.contentProvider.timeoutMs,
    extraCa: ca,
    insecureSkipVerify: callbacks.insecureSkipVerify
  })
  return new ContentResolver(clients, provider, logger)
}
