// The filter syntax the dev API and the console share: parsing, errors, matching.
import t from 'tap'
import { FilterSyntaxError, matchesCommand, parseCommandFilter, parseDuration } from '../../src/dev/filter.js'
import type { PeekedCommand } from '../../src/mailbox/store.js'

const NOW = Date.UTC(2026, 0, 1, 12)
const command = (over: Partial<PeekedCommand> = {}): PeekedCommand => ({
  commandId: '17',
  type: 'sign',
  group: 'acme',
  clientId: 'prime-server1',
  externalId: 'order-17',
  state: 'TIMEOUT',
  timeoutSeconds: 60,
  lifespanSeconds: 120,
  createdAt: NOW - 90_000,
  timeoutAt: NOW - 30_000,
  expiresAt: NOW + 30_000,
  destinations: [{ to: 'john.doe', bid: 'b1', mid: 'm1', token: 't1' }],
  payload: '{}',
  ...over
})

t.test('the issue\'s example parses into one criterion per key', async (t) => {
  const filter = parseCommandFilter('type:sign state:timeout client:prime-server1 ext:order-17')
  t.same(filter.types, ['sign'])
  t.same(filter.states, ['TIMEOUT'])
  t.same(filter.clients, ['prime-server1'])
  t.ok(matchesCommand(filter, command(), NOW))
  t.notOk(matchesCommand(filter, command({ externalId: 'order-170' }), NOW), 'ext: matches the whole externalId')
  t.notOk(matchesCommand(filter, command({ type: 'authenticate' }), NOW))
})

t.test('alternatives, aliases, globs, boxes, ages and bare words', async (t) => {
  t.same(parseCommandFilter('type:auth,CERT state:in_progress,ok').types, ['authenticate', 'certificate'])
  t.same(parseCommandFilter('state:pending,ok').states, ['IN_PROGRESS', 'COMPLETED'])
  t.ok(matchesCommand(parseCommandFilter('ext:order-*'), command(), NOW))
  t.notOk(matchesCommand(parseCommandFilter('ext:order-*'), command({ externalId: undefined }), NOW), 'no externalId never matches ext:')
  t.ok(matchesCommand(parseCommandFilter('ext:a.b'), command({ externalId: 'a.b' }), NOW))
  t.notOk(matchesCommand(parseCommandFilter('ext:a.b'), command({ externalId: 'axb' }), NOW), 'only * is special')
  t.ok(matchesCommand(parseCommandFilter('box:john.doe'), command(), NOW))
  t.ok(matchesCommand(parseCommandFilter('box:b1 group:acme'), command(), NOW))
  t.ok(matchesCommand(parseCommandFilter('age:<2m'), command(), NOW))
  t.notOk(matchesCommand(parseCommandFilter('age:<1m'), command(), NOW))
  t.ok(matchesCommand(parseCommandFilter('age:>1m'), command(), NOW))
  t.ok(matchesCommand(parseCommandFilter('17'), command(), NOW), 'a bare word is a command id')
  t.ok(matchesCommand(parseCommandFilter('order-1*'), command(), NOW), '... or an externalId glob')
  t.ok(matchesCommand(parseCommandFilter('   '), command(), NOW), 'an empty filter matches everything')
  t.equal(parseDuration('250ms'), 250)
  t.equal(parseDuration('1.5h'), 5_400_000)
  t.equal(parseDuration('30'), 30_000)
})

t.test('bad filters are FilterSyntaxErrors that name the token', async (t) => {
  t.throws(() => parseCommandFilter('colour:red'), new FilterSyntaxError('unknown filter key "colour" (known: type, state, group, client, ext, box, age)'))
  t.throws(() => parseCommandFilter('type:fax'), /unknown command type "fax"/)
  t.throws(() => parseCommandFilter('state:sleeping'), /unknown state "sleeping"/)
  t.throws(() => parseCommandFilter('age:<soon'), /not a duration: "soon"/)
  t.throws(() => parseCommandFilter('client:'), /"client:" needs a value/)
})
