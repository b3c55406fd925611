// Turns the canonical tree into plain JSON for validation: placeholders resolved, text coerced to each setting's type.
import { parse as parseYaml } from 'yaml'
import type { CanonicalNode, CanonicalTree } from './bind.js'
import { ConfigText } from './config-text.js'
import { resolvePlaceholders } from './placeholders.js'
import { resolveDottedKey } from './override-sources.js'
import { displayPath, kindOf, splitDottedKey, type SettingPath } from './relaxed-names.js'
import type { SchemaNode } from './schema.js'

/** Plain values ready for the JSON schema, where each came from, and what could not be resolved. */
export interface CoercedSettings {
  values: Record<string, unknown>
  /** Display path -> origin (`config/application.yml:12`, `environment variable SERVER_PORT`). */
  origins: Map<string, string>
  problems: string[]
  /** Paths whose placeholders failed: other complaints about them would only repeat the problem. */
  unresolved: Set<string>
}

const absent = Symbol('absent')
/** The words Spring's StringToBooleanConverter accepts, in any case. */
const booleanWords: Record<string, boolean> = { true: true, false: false, yes: true, no: false, on: true, off: false, 1: true, 0: false }

/**
 * Resolves placeholders and coerces every value to its setting's type the way Spring's binder does
 * (`"20400"` -> 20400, `TRUE`/`yes`/`on`/`1` -> true, enum values in any case). Empty non-string values count
 * as not set. What cannot be coerced stays a string, so the schema names the expected type.
 */
export function coerceSettings (tree: CanonicalTree, schema: SchemaNode, env: NodeJS.ProcessEnv): CoercedSettings {
  const coercer = new Coercer(env, tree)
  const values = coercer.node(tree, schema, [])
  return {
    values: values === absent || typeof values !== 'object' || values === null ? {} : values as Record<string, unknown>,
    origins: coercer.origins,
    problems: coercer.problems,
    unresolved: coercer.unresolved
  }
}

class Coercer {
  readonly origins = new Map<string, string>()
  readonly problems: string[] = []
  readonly unresolved = new Set<string>()
  /** Settings whose placeholders are being resolved, to stop `${a}` -> `${b}` -> `${a}` cycles. */
  private readonly resolving = new Set<string>()

  constructor (private readonly env: NodeJS.ProcessEnv, private readonly tree: CanonicalTree) {}

  /** Another setting's effective text, for `${server.port}`: undefined when unset, unknown or part of a cycle. */
  private readonly setting = (name: string): string | undefined => {
    const path = resolveDottedKey(splitDottedKey(name))
    let node: CanonicalNode | undefined = this.tree
    for (const element of path ?? []) {
      const cannotDescend: boolean = node === undefined || node instanceof ConfigText || node instanceof Map
      node = cannotDescend ? undefined : (node as Record<string | number, CanonicalNode>)[element]
    }
    const key = displayPath(path ?? [])
    if (path === undefined || !(node instanceof ConfigText) || this.resolving.has(key)) return undefined
    this.resolving.add(key)
    try {
      const value = resolvePlaceholders(node.text, this.env, this.setting).value
      return value === '' ? undefined : value
    } finally {
      this.resolving.delete(key)
    }
  }

  node (node: CanonicalNode, schema: SchemaNode | undefined, path: SettingPath): unknown {
    const kind = schema === undefined ? undefined : kindOf(schema)
    if (kind === 'free-form' || schema === undefined) return this.freeForm(node, path, schema === undefined)
    if (node instanceof ConfigText) {
      const text = this.resolve(node, path)
      if (kind === 'value') return coerceText(text, schema)
      return text === '' ? absent : text
    }
    if (Array.isArray(node)) {
      const list: unknown[] = []
      node.forEach((item, index) => {
        const value = this.node(item, kind === 'list' ? schema.items : undefined, [...path, index])
        if (value !== absent) list.push(value)
      })
      if (Object.keys(node).length < node.length) {
        this.problems.push(`${displayPath(path)}: items must be numbered from 0 without gaps (found ${Object.keys(node).join(', ')})`)
      }
      return list
    }
    const entries = node instanceof Map ? [...node] : Object.entries(node)
    const section = Object.create(null) as Record<string, unknown>
    for (const [key, child] of entries) {
      const value = this.node(child, kind === 'section' ? schema.properties?.[key] : undefined, [...path, key])
      if (value !== absent) section[key] = value
    }
    return section
  }

  /** A free-form setting (kept as YAML typed it) or an unknown key of a strict section (kept for the schema to name). */
  private freeForm (node: CanonicalNode, path: SettingPath, unknownKey: boolean): unknown {
    if (node instanceof ConfigText) {
      this.origins.set(displayPath(path), node.origin)
      if (unknownKey) return node.text
      if (node.typedValue !== undefined && typeof node.typedValue !== 'string') return node.typedValue
      const text = this.resolve(node, path)
      if (node.typedValue !== undefined) return text
      if (text === '' && path.length > 0) return absent
      try {
        return parseYaml(text) as unknown
      } catch {
        this.problems.push(`${displayPath(path)}: must be a JSON value (${node.origin})`)
        return absent
      }
    }
    if (Array.isArray(node)) return node.map((item, index) => this.freeForm(item, [...path, index], unknownKey))
    const entries = node instanceof Map ? [...node] : Object.entries(node)
    return Object.fromEntries(entries.map(([key, child]) => [key, this.freeForm(child, [...path, key], unknownKey)]))
  }

  private resolve (node: ConfigText, path: SettingPath): string {
    const where = displayPath(path)
    this.origins.set(where, node.origin)
    const result = resolvePlaceholders(node.text, this.env, this.setting)
    if (result.missing === undefined) return result.value
    this.unresolved.add(where)
    for (const name of result.missing) {
      this.problems.push(`${where}: placeholder \${${name}} has no value: environment variable ${name} is not set and no default is given (${node.origin})`)
    }
    return node.text
  }
}

function coerceText (text: string, schema: SchemaNode): unknown {
  const types = schema.type === undefined ? ['string'] : Array.isArray(schema.type) ? schema.type : [schema.type]
  const trimmed = text.trim()
  if (trimmed === '') return types.includes('string') ? text : absent
  const word = booleanWords[trimmed.toLowerCase()]
  // `1` / `0` are numbers where the setting also takes one (trust-proxy: a hop count).
  const numeric = trimmed === '1' || trimmed === '0'
  if (types.includes('boolean') && word !== undefined && !(numeric && (types.includes('integer') || types.includes('number')))) return word
  if ((types.includes('integer') || types.includes('number')) && /^[+-]?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed)
  const enumValue = schema.enum?.find(value => typeof value === 'string' && value.toLowerCase() === trimmed.toLowerCase())
  return enumValue ?? text
}
