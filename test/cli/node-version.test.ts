// The Node.js version check: the real minimum, equal to package.json engines, run by bin/hermod-broker.js before the CLI loads.
import t from 'tap'
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import ts from 'typescript'
import { MIN_NODE_VERSION, UNSUPPORTED_NODE_EXIT_CODE, nodeVersionProblem } from '../../src/cli/node-version.js'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url)

t.test('nodeVersionProblem refuses versions older than 20.18.1 with a clear message', async (t) => {
  t.equal(MIN_NODE_VERSION, '20.18.1', 'crypto.hash needs 20.12, undici 7 declares >= 20.18.1')
  for (const old of ['v18.20.4', 'v20.11.1', 'v20.12.0', 'v20.18.0', 'not a version']) {
    t.match(nodeVersionProblem(old), new RegExp(`needs Node\\.js 20\\.18\\.1 or newer; this is Node\\.js ${old}`), old)
  }
  for (const fine of ['v20.18.1', 'v20.20.2', 'v21.0.0', 'v22.11.0', 'v24.1.0', process.version]) t.equal(nodeVersionProblem(fine), undefined, fine)
})

t.test('package.json engines states the same minimum', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } }
  t.equal(pkg.engines.node, `>=${MIN_NODE_VERSION}`)
})

t.test('bin/hermod-broker.js checks the version before it loads the CLI', async (t) => {
  // A copy of the bin next to the compiled check and a stand-in CLI that says it was loaded.
  const dir = t.testdir({ 'package.json': '{"type":"module"}' })
  mkdirSync(join(dir, 'bin'))
  mkdirSync(join(dir, 'dist', 'src', 'cli'), { recursive: true })
  copyFileSync(new URL('bin/hermod-broker.js', root), join(dir, 'bin', 'hermod-broker.js'))
  const source = readFileSync(new URL('src/cli/node-version.ts', root), 'utf8')
  const compilerOptions = { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 }
  const compiled = ts.transpileModule(source, { compilerOptions }).outputText
  writeFileSync(join(dir, 'dist', 'src', 'cli', 'node-version.js'), compiled)
  writeFileSync(join(dir, 'dist', 'src', 'cli', 'main.js'), 'process.stdout.write("cli loaded\\n")\n')
  const bin = join(dir, 'bin', 'hermod-broker.js')

  const ok = await run(process.execPath, [bin])
  t.equal(ok.stdout, 'cli loaded\n', 'a supported Node.js runs the CLI')

  const pretend = 'data:text/javascript,Object.defineProperty(process,"version",{value:"v20.11.1"})'
  const old = await run(process.execPath, ['--import', pretend, bin]).then(() => undefined, (err: { code: number, stdout: string, stderr: string }) => err)
  t.ok(old !== undefined, 'an old Node.js exits non-zero')
  t.equal(old?.code, UNSUPPORTED_NODE_EXIT_CODE)
  t.equal(old?.stdout, '', 'the CLI was never loaded')
  t.match(old?.stderr, /hermod-broker needs Node\.js 20\.18\.1 or newer; this is Node\.js v20\.11\.1/)
})
