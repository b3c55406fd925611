// `--help` on every command and subcommand: usage on stdout, exit 0; the top-level usage lists every command.
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname
const run = promisify(execFile)
// Ten process starts under tsx: slow on a loaded machine, whatever the broker does.
t.setTimeout(400_000)

const COMMANDS = [['start'], ['generate-client'], ['dlq'], ['dlq', 'list'], ['dlq', 'replay'], ['healthcheck'], ['version'], ['bench']]

t.test('every command and subcommand answers --help with its usage and exit 0', async (t) => {
  for (const command of COMMANDS) {
    for (const flag of command[0] === 'start' ? ['-h'] : ['--help']) {
      const result = await run(process.execPath, ['--import', 'tsx', MAIN, ...command, flag]).catch((err: { code: number, stderr: string }) => err)
      const { stdout } = result as { stdout?: string }
      t.equal((result as { code?: number }).code ?? 0, 0, `${command.join(' ')} ${flag}: exit 0 (${(result as { stderr?: string }).stderr ?? ''})`)
      t.match(stdout, new RegExp(`^hermod-broker ${command.join(' ')}: `), `${command.join(' ')} ${flag}: its own usage`)
      t.match(stdout, new RegExp(`Usage:\\n {2}hermod-broker ${command.join(' ')}`))
    }
  }
  const viaHelp = await run(process.execPath, ['--import', 'tsx', MAIN, 'help', 'dlq', 'replay'])
  t.match(viaHelp.stdout, /^hermod-broker dlq replay: /, 'help <command> works too')
})

t.test('the top-level usage lists every command and how to get its help', async (t) => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', MAIN, '--help'])
  for (const command of COMMANDS) t.match(stdout, new RegExp(`\\n {2}hermod-broker ${command.join(' ')}\\b`), command.join(' '))
  t.match(stdout, /<command> --help/)
})
