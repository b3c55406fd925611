// Spring Boot relaxed binding: matching any spelling of a key (camelCase, kebab, snake, any case) to the schema's name.
import type { SchemaNode } from './schema.js'

/** A path into the canonical tree: property names and list indexes. */
export type SettingPath = Array<string | number>

/** What a schema node holds, as far as binding is concerned. */
export type SettingKind = 'section' | 'list' | 'free-form' | 'value'

/** Spring's "uniform" form of one key element: lower case without `-` and `_` (`allowedClients` = `allowed_clients`). */
export function uniformKey (key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase()
}

/** How `schema` binds: a section of known keys, a list, a free-form object passed through, or a single value. */
export function kindOf (schema: SchemaNode): SettingKind {
  if (schema.type === 'array') return 'list'
  if (schema.type === 'object') return schema.properties === undefined ? 'free-form' : 'section'
  return 'value'
}

/** The schema's own name for `key` under `section`, with its schema; undefined for a key the section does not know. */
export function findSetting (section: SchemaNode, key: string): { name: string, schema: SchemaNode } | undefined {
  const wanted = uniformKey(key)
  for (const [name, schema] of Object.entries(section.properties ?? {})) {
    if (uniformKey(name) === wanted) return { name, schema }
  }
  return undefined
}

/** Whether unknown keys in `section` are problems (our `broker:` section) rather than ignored (Spring's default). */
export function isStrict (section: SchemaNode): boolean {
  return section.additionalProperties === false
}

/** `['allowed-clients', 0, 'key']` -> `allowed-clients[0].key`, the form every problem and notice uses. */
export function displayPath (path: SettingPath): string {
  let out = ''
  for (const element of path) {
    if (typeof element === 'number') out += `[${element}]`
    else out += out === '' ? element : `.${element}`
  }
  return out
}

/**
 * Splits a dotted key as written in YAML or on the command line (`server.ssl.key-store`,
 * `allowedClients[0].key`, `allowed-clients.0.key`) into elements; digit-only elements are list indexes.
 */
export function splitDottedKey (key: string): SettingPath {
  const path: SettingPath = []
  for (const part of key.split('.')) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part)
    if (match === null) {
      path.push(part)
      continue
    }
    const [, name = '', indexes = ''] = match
    if (name !== '') path.push(/^\d+$/.test(name) ? Number(name) : name)
    for (const index of indexes.matchAll(/\[(\d+)\]/g)) path.push(Number(index[1]))
  }
  return path
}

/** The schema below `section` along `path` (property names already canonical), or undefined. */
export function schemaAt (section: SchemaNode, path: SettingPath): SchemaNode | undefined {
  let node: SchemaNode | undefined = section
  for (const element of path) {
    if (node === undefined) return undefined
    node = typeof element === 'number' ? node.items : node.properties?.[element]
  }
  return node
}

/** The closest known key to a misspelt one (edit distance <= 3 on the uniform forms), for "did you mean". */
export function closestKey (section: SchemaNode, key: string): string | undefined {
  let best: { name: string, distance: number } | undefined
  for (const name of Object.keys(section.properties ?? {})) {
    const distance = editDistance(uniformKey(name), uniformKey(key))
    if (distance <= 3 && (best === undefined || distance < best.distance)) best = { name, distance }
  }
  return best?.name
}

function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
