// Test helper: loads a YAML text through loadConfig from a file in the test's own temporary directory.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'
import { ConfigError, loadConfig, type LoadConfigOptions, type LoadedConfig } from '../../src/config/load.js'

const dirs = new WeakMap<Test, string>()
let files = 0

/** The test's temporary directory (created once per test, removed after it). */
export function testDir (t: Test): string {
  const dir = dirs.get(t) ?? t.testdir()
  dirs.set(t, dir)
  return dir
}

/** Writes `yaml` to a fresh file in the test's directory and loads it with an empty environment unless given. */
export async function loadYaml (t: Test, yaml: string, options: Omit<LoadConfigOptions, 'file'> = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? testDir(t)
  const file = join(testDir(t), `c${++files}.yml`)
  writeFileSync(file, yaml)
  return await loadConfig({ env: {}, ...options, cwd, file })
}

/** The problems of the ConfigError `loading` rejects with; fails loudly if it loads or throws something else. */
export async function problemsOf (loading: Promise<unknown>): Promise<string[]> {
  const error = await loading.then(() => new Error('expected a ConfigError, but the config loaded'), (e: unknown) => e)
  if (!(error instanceof ConfigError)) throw error
  return error.problems
}

/** Problems with the temporary file's path shortened: ` (/tmp/.../c3.yml:7)` -> ` (line 7)`. */
export function withLineNumbers (problems: string[]): string[] {
  return problems.map(problem => problem.replace(/ \([^()]*c\d+\.yml:(\d+)\)$/, ' (line $1)'))
}
