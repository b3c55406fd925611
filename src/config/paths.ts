// Resolves file paths named in the config (key stores, PEM files, trust stores) the way a Hermod install lays them out.
import { existsSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'

/** An absolute path, and the places looked at when none of them exists. */
export interface ResolvedPath {
  path: string
  /** Set when the file exists nowhere; the first entry is the path used. */
  tried?: string[]
}

/**
 * Resolves a configured path: absolute as is; else relative to the working directory, then to the config
 * file's directory, then to its parent (Hermod ships `config/application.yml` next to `certificates/`).
 * The first that exists wins; if none does, the working-directory path is kept so TLS loading names it.
 * Spring's `file:` prefix is accepted; `classpath:` is read as a relative path.
 */
export function resolveConfiguredPath (configured: string, cwd: string, configFile?: string): ResolvedPath {
  const name = configured.replace(/^file:(\/\/(?=\/))?/, '').replace(/^classpath:\/?/, '')
  if (isAbsolute(name)) return existsSync(name) ? { path: name } : { path: name, tried: [name] }
  const bases = [cwd]
  if (configFile !== undefined) bases.push(dirname(configFile), dirname(dirname(configFile)))
  const candidates = [...new Set(bases.map(base => resolve(base, name)))]
  const found = candidates.find(candidate => existsSync(candidate))
  return found === undefined ? { path: candidates[0] as string, tried: candidates } : { path: found }
}
