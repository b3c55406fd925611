// The error thrown when the configuration cannot be used: every problem at once, each as `path: reason`.

/** Start-up stops with this; `problems` lists every failing setting (values of secrets never appear). */
export class ConfigError extends Error {
  readonly code = 'HERMOD_CONFIG_INVALID'
  readonly problems: string[]

  constructor (problems: string[], source?: string) {
    const where = source === undefined ? 'configuration' : `configuration ${source}`
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`
    super(`Invalid ${where}, ${count}:\n${problems.map(problem => `  - ${problem}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}
