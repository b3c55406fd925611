// Settings from the environment (Spring's SERVER_SSL_KEYSTOREPASSWORD form) and from explicit overrides (dotted keys).
import { ConfigText } from './config-text.js'
import { findSetting, kindOf, splitDottedKey, uniformKey, type SettingPath } from './relaxed-names.js'
import { configSchema, hermodSectionName, hermodSectionSchema, type SchemaNode } from './schema.js'

/** One setting to apply over the file, at its canonical path. */
export interface SettingOverride {
  path: SettingPath
  value: ConfigText
}

/** Environment variables that name a setting, and the `BROKER_*` ones that name none (probably typos). */
export interface EnvironmentSettings {
  overrides: SettingOverride[]
  unmatchedBrokerVariables: string[]
}

/**
 * Reads settings from environment variables the way Spring does: upper case, `.` -> `_`, `-` removed, list
 * index as `_N_` (`SERVER_SERVLET_CONTEXTPATH`, `ALLOWEDCLIENTS_0_KEY`, `BROKER_REDIS_URL`). Underscores may also
 * stand for dashes (`BROKER_CALLBACKS_PER_CLIENT_CONCURRENCY`). Variables that name no setting are left alone,
 * since containers carry many (Kubernetes' `BROKER_PORT`, ...). A free-form setting takes a JSON object.
 */
export function readEnvironmentSettings (env: NodeJS.ProcessEnv): EnvironmentSettings {
  const overrides: SettingOverride[] = []
  const unmatchedBrokerVariables: string[] = []
  for (const name of Object.keys(env).sort()) {
    const text = env[name]
    if (text === undefined || name === 'HERMOD_CONFIG') continue
    const path = matchEnvironmentName(name.toLowerCase().split('_'), configSchema, true)
    if (path !== undefined) overrides.push({ path, value: new ConfigText(text, `environment variable ${name}`) })
    else if (/^BROKER_/i.test(name)) unmatchedBrokerVariables.push(name)
  }
  return { overrides, unmatchedBrokerVariables }
}

function matchEnvironmentName (segments: string[], schema: SchemaNode, atRoot: boolean): SettingPath | undefined {
  const kind = kindOf(schema)
  if (segments.length === 0) return kind === 'value' || kind === 'free-form' ? [] : undefined
  if (kind === 'list') {
    const [index, ...rest] = segments
    if (index === undefined || !/^\d+$/.test(index) || schema.items === undefined) return undefined
    const tail = matchEnvironmentName(rest, schema.items, false)
    return tail === undefined ? undefined : [Number(index), ...tail]
  }
  if (kind !== 'section') return undefined
  for (let take = 1; take <= segments.length; take++) {
    const candidate = segments.slice(0, take).join('')
    const rest = segments.slice(take)
    if (atRoot && candidate === hermodSectionName) {
      const tail = matchEnvironmentName(rest, hermodSectionSchema, false)
      if (tail !== undefined) return tail
    }
    const setting = findSetting(schema, candidate)
    if (setting === undefined) continue
    const tail = matchEnvironmentName(rest, setting.schema, false)
    if (tail !== undefined) return [setting.name, ...tail]
  }
  return undefined
}

/**
 * Reads explicit overrides (command-line flags): keys are dotted paths in any relaxed spelling
 * (`server.port`, `server.ssl.keyStorePassword`, `allowedClients[0].key`, `broker.redis.options.db`).
 * Keys that name no setting are problems, unlike unknown environment variables.
 */
export function readExplicitOverrides (overrides: Record<string, string>): { overrides: SettingOverride[], problems: string[] } {
  const result: SettingOverride[] = []
  const problems: string[] = []
  for (const [key, text] of Object.entries(overrides)) {
    const path = resolveDottedKey(splitDottedKey(key))
    if (path === undefined) problems.push(`${key}: no such setting (override)`)
    else result.push({ path, value: new ConfigText(text, `override ${key}`) })
  }
  return { overrides: result, problems }
}

/** The canonical path of a dotted key in any relaxed spelling (`allowedClients[0].key`); undefined when it names no setting. */
export function resolveDottedKey (elements: SettingPath): SettingPath | undefined {
  const path: SettingPath = []
  let schema: SchemaNode | undefined = configSchema
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i] as string | number
    if (schema === undefined) return undefined
    const kind = kindOf(schema)
    if (kind === 'free-form') return [...path, ...elements.slice(i).map(String)]
    if (kind === 'list' && typeof element === 'number') {
      path.push(element)
      schema = schema.items
      continue
    }
    if (kind !== 'section' || typeof element === 'number') return undefined
    if (i === 0 && uniformKey(element) === hermodSectionName) {
      schema = hermodSectionSchema
      continue
    }
    const setting = findSetting(schema, element)
    if (setting === undefined) return undefined
    path.push(setting.name)
    schema = setting.schema
  }
  if (schema === undefined) return undefined
  const kind = kindOf(schema)
  return kind === 'value' || kind === 'free-form' ? path : undefined
}
