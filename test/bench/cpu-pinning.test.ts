// CPU layout of the bench's processes, and the taskset command lines that apply it.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { cpuLayout, pinnedCommand } from '../../src/bench/cpu-pinning.js'
import { CpuMeter, machineCpuSeconds } from '../../src/bench/process-stats.js'

const canPin = process.platform === 'linux' && spawnSync('taskset', ['-V']).status === 0

t.test('one CPU cannot be split', async (t) => {
  t.equal(cpuLayout(1), null)
})

t.test('two CPUs: load generator and Redis on 0, the server alone on 1; more: the server gets the rest', { skip: canPin ? false : 'needs Linux with taskset' }, async (t) => {
  t.same(cpuLayout(2), { client: '0', server: '1', redis: '0' })
  t.same(cpuLayout(3), { client: '0', server: '2', redis: '1' })
  t.same(cpuLayout(8), { client: '0', server: '2-7', redis: '1' })
})

t.test('pinnedCommand wraps in taskset only when given CPUs', async (t) => {
  t.same(pinnedCommand(undefined, 'node', ['a.js']), { command: 'node', args: ['a.js'] })
  t.same(pinnedCommand('1', 'node', ['--cpu-prof', 'a.js']), { command: 'taskset', args: ['-c', '1', 'node', '--cpu-prof', 'a.js'] })
})

t.test('CpuMeter reports this process and, on Linux, the rest of the machine', async (t) => {
  const meter = new CpuMeter({})
  meter.start()
  const until = Date.now() + 50
  while (Date.now() < until) Math.sqrt(Math.random())
  const { cores, cpuSeconds } = meter.stop()
  t.ok(cpuSeconds.client! > 0)
  t.type(cores.client, 'number')
  if (machineCpuSeconds() !== null) t.type(cores.others, 'number')
})
