// Loads the broker configuration: YAML file, then environment, then overrides; validated, frozen, every problem at once.
import { readFile } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import { bindYaml, emptySection, overrideSetting, type CanonicalTree } from './bind.js'
import { buildBrokerConfig } from './build.js'
import { coerceSettings } from './coerce.js'
import { ConfigError } from './errors.js'
import { readEnvironmentSettings, readExplicitOverrides } from './override-sources.js'
import { configSchema } from './schema.js'
import type { BrokerConfig } from './types.js'
import { validateSettings } from './validate.js'
import { parseYamlConfig } from './yaml-source.js'

export { ConfigError } from './errors.js'
export { describeConfig } from './describe.js'

/** Where to read the configuration from; every field has a default taken from the process. */
export interface LoadConfigOptions {
  /** The YAML file; else `env.HERMOD_CONFIG`; else `<cwd>/config/application.yml` if it exists. */
  file?: string
  /** Environment for overrides and placeholders (default `process.env`). */
  env?: NodeJS.ProcessEnv
  /** Base of relative paths (default `process.cwd()`). */
  cwd?: string
  /** Highest-priority settings, keys as dotted paths in any relaxed spelling (`server.port`, `allowedClients[0].key`). */
  overrides?: Record<string, string>
}

/** The frozen config and the lines worth logging at start (ignored keys, missing files); notices never hold values. */
export interface LoadedConfig {
  config: BrokerConfig
  notices: string[]
}

/**
 * Loads the configuration. Sources, lowest first: built-in defaults, the YAML file, environment variables
 * (Spring's form), `overrides`. Keys bind in any Spring relaxed spelling; `${NAME:default}` placeholders come
 * from the environment; keys the broker does not use are ignored with one notice; the `broker:` section is strict.
 * @throws ConfigError listing every problem, each as `path: reason (origin)`
 */
export async function loadConfig (opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = opts.env ?? process.env
  const cwd = opts.cwd ?? process.cwd()
  const named = opts.file ?? env.HERMOD_CONFIG
  const file = resolve(cwd, named ?? 'config/application.yml')
  const problems: string[] = []
  const notices: string[] = []

  const source = await readConfigFile(file, named !== undefined)
  if (source.problem !== undefined) throw new ConfigError([source.problem], file)
  let tree: CanonicalTree = emptySection()
  if (source.text === undefined) {
    notices.push(`No configuration file at ${file}: using built-in defaults`)
  } else {
    const label = isAbsolute(named ?? '') ? file : (named ?? 'config/application.yml')
    const parsed = parseYamlConfig(source.text, label)
    if (parsed.problems.length > 0) throw new ConfigError(parsed.problems, file)
    if (parsed.root !== undefined) {
      const bound = bindYaml(parsed.root)
      tree = bound.tree
      problems.push(...bound.problems)
      if (bound.ignored.length > 0) notices.push(`Ignoring settings the broker does not use: ${bound.ignored.join(', ')}`)
    }
  }

  const environment = readEnvironmentSettings(env)
  const explicit = readExplicitOverrides(opts.overrides ?? {})
  problems.push(...explicit.problems)
  for (const { path, value } of [...environment.overrides, ...explicit.overrides]) overrideSetting(tree, path, value)
  if (environment.unmatchedBrokerVariables.length > 0) {
    notices.push(`Ignoring environment variables that name no broker setting: ${environment.unmatchedBrokerVariables.join(', ')}`)
  }

  const coerced = coerceSettings(tree, configSchema, env)
  problems.push(...coerced.problems)
  problems.push(...validateSettings(coerced.values, coerced.origins, coerced.unresolved))
  const configFile = source.text === undefined ? undefined : file
  if (problems.length > 0) throw new ConfigError(problems, configFile)

  const built = buildBrokerConfig(coerced.values, { cwd, ...(configFile === undefined ? {} : { configFile }) })
  notices.push(...built.notices)
  if (built.config.allowedClients.length === 0) notices.push('No allowed-clients configured: every command will be refused with 401')
  return { config: deepFreeze(built.config), notices }
}

async function readConfigFile (file: string, explicitlyNamed: boolean): Promise<{ text?: string, problem?: string }> {
  try {
    return { text: await readFile(file, 'utf8') }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && !explicitlyNamed) return {}
    if (code === 'ENOENT') return { problem: `${file}: file not found` }
    return { problem: `${file}: cannot be read (${code ?? String(error)})` }
  }
}

/** Freezes `value` and everything reachable from it. */
function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
