// The broker's version, read once from the package.json above this file (source tree or dist/).
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findVersion (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'hermod-broker' && typeof pkg.version === 'string') return pkg.version
    } catch {}
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return '0.0.0'
}

/** The version in package.json, e.g. `0.1.0`. */
export const VERSION: string = findVersion()
