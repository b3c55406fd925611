// Finds the `application/hermod+content-id` items of a command payload and splices the provider's items in their place.

/** The content type that marks an item whose `data` is a content id (Hermod 3.1.1+). */
export const CONTENT_ID_TYPE = 'application/hermod+content-id'

/** One item as a content provider returns it (`{"data": [item, ...]}`). */
export interface ContentItem {
  content_type: string
  data: string
  content_encoding?: string
  key?: string
  [field: string]: unknown
}

/** Whether a payload text may hold a reference at all (a cheap test before parsing). */
export function mayReferenceContent (payload: string): boolean {
  return payload.includes(CONTENT_ID_TYPE)
}

function isReference (value: unknown): value is { content_type: string, data: string } {
  const item = value as { content_type?: unknown, data?: unknown } | null
  return typeof item === 'object' && item !== null && item.content_type === CONTENT_ID_TYPE && typeof item.data === 'string'
}

/** The content ids referenced anywhere in `payload` (parsed JSON), each once, in order of appearance. */
export function referencedContentIds (payload: unknown): string[] {
  const ids = new Set<string>()
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) {
        if (isReference(item)) ids.add(item.data)
        else visit(item)
      }
    } else if (typeof value === 'object' && value !== null) {
      for (const child of Object.values(value)) visit(child)
    }
  }
  visit(payload)
  return [...ids]
}

/**
 * `payload` with every reference item replaced by the provider's items for its id. Each provided item
 * keeps the reference's other fields (`description`, `visible`, ...) under its own.
 */
export function substituteContent (payload: unknown, resolved: ReadonlyMap<string, ContentItem[]>): unknown {
  if (Array.isArray(payload)) {
    return payload.flatMap((item) => {
      if (!isReference(item)) return [substituteContent(item, resolved)]
      const { content_type: _type, data: _data, content_encoding: _encoding, ...rest } = item as Record<string, unknown>
      return (resolved.get(item.data) ?? []).map((provided) => ({ ...rest, ...provided }))
    })
  }
  if (typeof payload === 'object' && payload !== null) {
    return Object.fromEntries(Object.entries(payload).map(([key, value]) => [key, substituteContent(value, resolved)]))
  }
  return payload
}
