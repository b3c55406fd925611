// `npm start`'s script: the shell npm spawns becomes the broker (exec), so npm's forwarded SIGTERM reaches it
// and the logged pid is the one to signal.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'

const root = new URL('../../', import.meta.url)
const script: string = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts.start

t.test('the start script execs the broker: the process npm signals is the broker, and it logs that pid', async (t) => {
  t.match(script, /^npm run build --silent && /, 'it still builds first')
  // The script as npm runs it (sh -c), with the build replaced by `true` and the installed command by the sources.
  const command = script.replace('npm run build --silent', 'true')
    .replace('node bin/hermod-broker.js', `"${process.execPath}" --import tsx src/cli/main.ts`)
  const child = spawn('sh', ['-c', `${command} --port 0 --set server.ssl.enabled=false --set broker.log.pretty=false`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString() })
  for (const deadline = Date.now() + 60_000; !out.includes('"msg":"hermod-broker listening"');) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`did not start:\n${out}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const listening = JSON.parse(out.split('\n').find((l) => l.includes('"msg":"hermod-broker listening"'))!) as { pid: number }
  t.equal(listening.pid, child.pid, 'the shell npm started is the broker itself (no shell in between to swallow signals)')
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.equal(code, 0, 'SIGTERM to that process: a graceful exit')
  t.match(out, /"signal":"SIGTERM","msg":"shutting down"/)
})
