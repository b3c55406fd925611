// Reads application.yml into a raw tree whose scalars keep their source text and line (ConfigText).
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node as YamlNode } from 'yaml'
import { ConfigText, type RawMap, type RawNode } from './config-text.js'

/** The file's mapping (undefined for an empty file) and every problem found while reading it. */
export interface ParsedYaml {
  root: RawMap | undefined
  problems: string[]
}

const maxNodes = 100_000

/**
 * Parses a Spring-style YAML file. Scalars keep their text as written, so `key-store-password: 0123` is `0123`,
 * not 123; aliases and `<<` merge keys are expanded. Error messages carry `label:line` but never the line's text.
 */
export function parseYamlConfig (source: string, label: string): ParsedYaml {
  const lineCounter = new LineCounter()
  const list = [...parseAllDocuments(source, { lineCounter, prettyErrors: false, uniqueKeys: true })]
  const problems: string[] = []
  const where = (offset: number | undefined): string => `${label}:${offset === undefined ? '?' : lineCounter.linePos(offset).line}`
  for (const document of list) {
    for (const error of document.errors) problems.push(`${where(error.pos[0])}: ${firstLine(error.message)}`)
  }
  const withContent = list.filter(document => document.contents !== null)
  if (withContent.length > 1) {
    problems.push(`${label}: holds ${withContent.length} YAML documents; profile documents (---) are not supported, merge them into one`)
  }
  const document = withContent[0]
  if (problems.length > 0 || document === undefined) return { root: undefined, problems }
  const converter = new RawTreeConverter(document, where)
  const root = converter.convert(document.contents, 0)
  problems.push(...converter.problems)
  if (!(root instanceof Map)) {
    if (!(root instanceof ConfigText && root.text === '')) problems.push(`${label}: must be a YAML mapping of keys to values`)
    return { root: undefined, problems }
  }
  return { root, problems }
}

class RawTreeConverter {
  readonly problems: string[] = []
  private nodes = 0

  constructor (private readonly document: Document.Parsed, private readonly where: (offset: number | undefined) => string) {}

  convert (node: unknown, depth: number): RawNode {
    if (++this.nodes > maxNodes || depth > 64) {
      if (this.problems.length === 0) this.problems.push(`${this.where(undefined)}: too deeply nested or too many aliases`)
      return new ConfigText('', 'yaml')
    }
    if (isAlias(node)) return this.convert(node.resolve(this.document), depth + 1)
    if (isSeq(node)) return node.items.map(item => this.convert(item, depth + 1))
    if (isMap(node)) {
      const map: RawMap = new Map()
      const merged: RawNode[] = []
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
        const value = this.convert(pair.value, depth + 1)
        if (key === '<<') merged.push(...(Array.isArray(value) ? value : [value]))
        else map.set(key, value)
      }
      for (const source of merged) {
        if (!(source instanceof Map)) continue
        for (const [key, value] of source) if (!map.has(key)) map.set(key, value)
      }
      return map
    }
    if (isScalar(node)) {
      const { value } = node
      const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : node.source ?? String(value)
      return new ConfigText(text, this.where(node.range?.[0]), value)
    }
    return new ConfigText('', this.where((node as YamlNode | null)?.range?.[0]))
  }
}

function firstLine (message: string): string {
  return message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? message
}
