// The oldest Node.js the broker runs on, checked by bin/hermod-broker.js before the CLI is loaded.

/**
 * crypto.hash() needs 20.12 and undici 7 declares >= 20.18.1. Keep it equal to `engines.node` in
 * package.json (a test checks).
 */
export const MIN_NODE_VERSION = '20.18.1'

/** The exit code when this Node.js is too old (the same as for any other start-up failure). */
export const UNSUPPORTED_NODE_EXIT_CODE = 1

function parts (version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version)
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])]
}

/**
 * Why `version` (as in `process.version`, e.g. `v20.11.1`) cannot run the broker, or undefined when
 * it is at least `minimum`.
 */
export function nodeVersionProblem (version: string, minimum = MIN_NODE_VERSION): string | undefined {
  const have = parts(version)
  const need = parts(minimum)!
  const [major, minor, patch] = have ?? [0, 0, 0]
  const recent = major !== need[0] ? major > need[0] : minor !== need[1] ? minor > need[1] : patch >= need[2]
  if (recent) return undefined
  return `hermod-broker needs Node.js ${minimum} or newer; this is Node.js ${version}. Install a current Node.js 20 LTS (or newer) and run it again.`
}

/** Writes the problem to stderr and exits with UNSUPPORTED_NODE_EXIT_CODE when this Node.js is too old. */
export function exitUnlessSupportedNode (version = process.version): void {
  const problem = nodeVersionProblem(version)
  if (problem === undefined) return
  process.stderr.write(`${problem}\n`)
  process.exit(UNSUPPORTED_NODE_EXIT_CODE)
}
