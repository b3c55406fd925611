// The operations of a served OpenAPI document, $refs resolved: what the fuzzer sends and what it may expect back.

/** A JSON schema as the document holds it (OpenAPI 3.0 dialect). */
export type Schema = Record<string, any>

export interface Parameter { name: string, in: 'path' | 'query' | 'header', required: boolean, schema: Schema }

export interface Operation {
  operationId: string
  method: string
  /** The path template, `/hermod/rest/ms/{bid}/{mid}`. */
  path: string
  parameters: Parameter[]
  /** The JSON body's schema and its example, when the operation takes one. */
  body?: { schema: Schema, example?: unknown }
  /** Status -> media type -> schema (an empty map for a response without content). */
  responses: Map<number, Map<string, Schema>>
  /** Status -> the HERMOD_* codes its description and example name (an error answer must carry one of them). */
  codes: Map<number, Set<string>>
  /** The security requirements: `apiKey` routes take X-Api-Key. */
  security: Array<Record<string, string[]>>
}

/** Resolves every local `$ref` (`#/components/schemas/X`) in `value`, once per object (the document has no cycles). */
export function resolveRefs (doc: any, value: unknown): any {
  if (Array.isArray(value)) return value.map((v) => resolveRefs(doc, v))
  if (value === null || typeof value !== 'object') return value
  const ref = (value as { $ref?: unknown }).$ref
  if (typeof ref === 'string') {
    const target = ref.replace(/^#\//, '').split('/').reduce((node: any, key) => node?.[key], doc)
    if (target === undefined) throw new Error(`unresolved $ref ${ref}`)
    return resolveRefs(doc, target)
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(doc, v)]))
}

/** Every operation of the document. */
export function operationsOf (doc: any): Operation[] {
  const operations: Operation[] = []
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(item)) {
      const parameters = ((op.parameters ?? []) as any[])
        .map((p) => ({ name: p.name, in: p.in, required: p.required === true, schema: resolveRefs(doc, p.schema ?? {}) }))
      const json = op.requestBody?.content?.['application/json']
      const responses = new Map<number, Map<string, Schema>>()
      const codes = new Map<number, Set<string>>()
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        const named = `${String(response.description)} ${JSON.stringify(response.content?.['application/json']?.example ?? {})}`
        codes.set(Number(status), new Set(named.match(/HERMOD_[A-Z_]+/g) ?? []))
        const media = new Map<string, Schema>()
        for (const [type, content] of Object.entries((response.content ?? {}) as Record<string, any>)) {
          media.set(type, resolveRefs(doc, content.schema ?? {}))
        }
        responses.set(Number(status), media)
      }
      operations.push({
        operationId: op.operationId,
        method: method.toUpperCase(),
        path,
        parameters,
        ...(json === undefined ? {} : { body: { schema: resolveRefs(doc, json.schema ?? {}), example: json.example } }),
        responses,
        codes,
        security: op.security ?? doc.security ?? []
      })
    }
  }
  return operations
}
