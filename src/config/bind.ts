// Binds a raw YAML tree to the schema's canonical names (relaxed binding), collecting ignored keys and double settings.
import { ConfigText, type RawMap, type RawNode } from './config-text.js'
import { displayPath, findSetting, isStrict, kindOf, splitDottedKey, uniformKey, type SettingPath } from './relaxed-names.js'
import { configSchema, hermodSectionName, hermodSectionSchema, type SchemaNode } from './schema.js'

/**
 * The configuration in canonical names, values still as written. Sections are null-prototype objects,
 * lists are arrays, settings are ConfigText; free-form settings and unknown keys of strict sections stay raw (Map).
 */
export type CanonicalTree = { [name: string]: CanonicalNode }
export type CanonicalNode = ConfigText | CanonicalTree | CanonicalNode[] | RawMap

/** The result of binding one YAML file. */
export interface BoundYaml {
  tree: CanonicalTree
  /** Keys the broker does not use, as written (`spring.datasource.url`). */
  ignored: string[]
  problems: string[]
}

/** A new empty section; null prototype so that a key named `__proto__` is just a key. */
export function emptySection (): CanonicalTree {
  return Object.create(null) as CanonicalTree
}

/** Binds a parsed file: any spelling of a known key lands on its canonical name; `hermod.*` lands on the top level. */
export function bindYaml (root: RawMap): BoundYaml {
  const binder = new YamlBinder()
  const tree = emptySection()
  binder.bindSection(root, configSchema, tree, [], '')
  return { tree, ignored: binder.ignored, problems: binder.problems }
}

/**
 * Sets one setting (from the environment or an override) at a canonical path, replacing what the file said.
 * List items merge by index: `ALLOWEDCLIENTS_0_KEY` replaces the key of the file's first client only.
 */
export function overrideSetting (tree: CanonicalTree, path: SettingPath, value: ConfigText): void {
  let node: CanonicalNode = tree
  for (let i = 0; i < path.length; i++) {
    const element = path[i] as string | number
    const next = path[i + 1]
    if (next === undefined) {
      setChild(node, element, value)
      return
    }
    let child = childOf(node, element)
    if (!isContainerFor(child, next)) {
      child = typeof next === 'number' ? [] : emptySection()
      setChild(node, element, child)
    }
    node = child as CanonicalNode
  }
}

function childOf (node: CanonicalNode, element: string | number): CanonicalNode | undefined {
  if (node instanceof ConfigText) return undefined
  if (node instanceof Map) return node.get(String(element))
  if (Array.isArray(node)) return typeof element === 'number' ? node[element] : undefined
  return node[String(element)]
}

function setChild (node: CanonicalNode, element: string | number, value: CanonicalNode): void {
  if (node instanceof ConfigText) return
  if (node instanceof Map) node.set(String(element), value as RawNode) // only ConfigText, arrays and sections reach a free-form map
  else if (Array.isArray(node)) node[Number(element)] = value
  else node[String(element)] = value
}

function isContainerFor (node: CanonicalNode | undefined, next: string | number): boolean {
  if (node === undefined || node instanceof ConfigText) return false
  return typeof next === 'number' ? Array.isArray(node) : !Array.isArray(node)
}

class YamlBinder {
  readonly ignored: string[] = []
  readonly problems: string[] = []
  /** Canonical path -> how it was first written, to name both spellings when a setting is given twice. */
  private readonly writtenAs = new Map<string, string>()

  bindSection (raw: RawMap, section: SchemaNode, target: CanonicalTree, path: SettingPath, written: string): void {
    for (const [key, value] of raw) this.bindEntry(splitDottedKey(key), value, section, target, path, written)
  }

  private bindEntry (
    elements: SettingPath, value: RawNode, section: SchemaNode, target: CanonicalTree, path: SettingPath, written: string
  ): void {
    const [first, ...rest] = elements
    if (first === undefined) return
    const key = String(first)
    const writtenHere = written === '' ? key : `${written}.${key}`
    const nested = rest.length > 0 ? nestRaw(rest, value) : value
    if (section === configSchema && uniformKey(key) === hermodSectionName) {
      if (nested instanceof Map) this.bindSection(nested, hermodSectionSchema, target, path, writtenHere)
      else this.ignore(writtenHere, nested)
      return
    }
    const setting = typeof first === 'string' ? findSetting(section, first) : undefined
    if (setting === undefined) {
      if (isStrict(section)) this.setOnce(target, key, nested, [...path, key], writtenHere)
      else this.ignore(writtenHere, nested)
      return
    }
    this.assign(setting.schema, target, setting.name, nested, [...path, setting.name], writtenHere)
  }

  private assign (schema: SchemaNode, target: CanonicalTree, name: string, value: RawNode, path: SettingPath, written: string): void {
    const kind = kindOf(schema)
    if (kind !== 'value' && value instanceof ConfigText && value.text === '') return
    if (kind === 'section' && value instanceof Map) {
      const existing = target[name]
      if (existing === undefined) target[name] = emptySection()
      const child = target[name]
      if (child instanceof ConfigText || child instanceof Map || Array.isArray(child) || child === undefined) {
        this.setOnce(target, name, value, path, written)
        return
      }
      this.bindSection(value, schema, child, path, written)
      return
    }
    if (kind === 'list' && Array.isArray(value) && schema.items !== undefined) {
      const items = schema.items
      const list: CanonicalNode[] = []
      value.forEach((item, index) => { list[index] = this.bindItem(items, item, [...path, index], `${written}[${index}]`) })
      this.setOnce(target, name, list, path, written)
      return
    }
    this.setOnce(target, name, value, path, written)
  }

  private bindItem (schema: SchemaNode, item: RawNode, path: SettingPath, written: string): CanonicalNode {
    if (kindOf(schema) !== 'section' || !(item instanceof Map)) return item
    const section = emptySection()
    this.bindSection(item, schema, section, path, written)
    return section
  }

  private setOnce (target: CanonicalTree, name: string, value: CanonicalNode, path: SettingPath, written: string): void {
    const canonical = displayPath(path)
    const earlier = this.writtenAs.get(canonical)
    if (earlier !== undefined || Object.hasOwn(target, name)) {
      this.problems.push(`${canonical}: set more than once (as ${earlier ?? canonical} and as ${written}); keep one`)
      return
    }
    this.writtenAs.set(canonical, written)
    target[name] = value
  }

  private ignore (written: string, value: RawNode): void {
    if (value instanceof Map && value.size > 0) {
      for (const [key, child] of value) this.ignore(`${written}.${key}`, child)
    } else if (Array.isArray(value) && value.length > 0) {
      value.forEach((child, index) => this.ignore(`${written}[${index}]`, child))
    } else {
      this.ignored.push(written)
    }
  }
}

/** `['a', 0, 'b']` with value v -> `{ a: [ { b: v } ] }` in raw form, for dotted YAML keys like `server.ssl.enabled`. */
function nestRaw (elements: SettingPath, value: RawNode): RawNode {
  let node = value
  for (let i = elements.length - 1; i >= 0; i--) {
    const element = elements[i] as string | number
    if (typeof element === 'number') {
      const list: RawNode[] = []
      list[element] = node
      node = list
    } else {
      node = new Map([[element, node]])
    }
  }
  return node
}
