// The .cpuprofile summary: self time per function and per package from samples and time deltas.
import t from 'tap'
import { packageOf, summarizeProfile } from '../../bench/profile-summary.js'

t.test('self time is charged to the sampled node and grouped by package', async (t) => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9 })
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4] },
      { id: 2, callFrame: frame('_parse', 'file:///app/node_modules/secure-json-parse/index.js') },
      { id: 3, callFrame: frame('accept', 'file:///app/dist/src/mailbox/memory-store.js') },
      { id: 4, callFrame: frame('(idle)', '') }
    ],
    startTime: 0,
    endTime: 10_000,
    samples: [2, 2, 3, 4, 2],
    timeDeltas: [1000, 1000, 2000, 5000, 1000]
  }
  const summary = summarizeProfile(profile, 10)
  t.equal(summary.totalMs, 10)
  t.same(summary.functions.map((f) => [f.name, f.ms, f.share]), [['(idle)', 5, 50], ['_parse', 3, 30], ['accept', 2, 20]])
  t.equal(summary.functions[1]!.where, 'node_modules/secure-json-parse/index.js:10')
  t.same(summary.packages.map((p) => p.name), ['(idle)', 'secure-json-parse', 'src/mailbox/memory-store.ts'])
})

t.test('packageOf', async (t) => {
  t.equal(packageOf('file:///x/node_modules/@fastify/swagger/index.js', 'f'), '@fastify/swagger')
  t.equal(packageOf('node:internal/streams/readable', 'f'), 'node:streams')
  t.equal(packageOf('', 'writev'), '(native)')
  t.equal(packageOf('', '(garbage collector)'), '(garbage collector)')
})
