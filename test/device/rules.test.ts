// The auto-answer rule matcher: order, conditions, probability, actions, and no catch-all.
import t from 'tap'
import { Ajv } from 'ajv'
import { parse as parseYaml } from 'yaml'
import { autoAnswerSchema } from '../../src/config/schema.js'
import { answerForDecision, cannedAnswer, malformedAnswer } from '../../src/device/canned.js'
import { decideAutoAnswer, globMatches, parseAutoAnswerRules, type CommandFacts } from '../../src/device/rules.js'
import type { VirtualDevice } from '../../src/device/device.js'

const facts: CommandFacts = { type: 'sign', client: 'prime', group: 'acme', to: '@tmp', externalId: 'order-17' }

function rules (input: unknown[]): ReturnType<typeof parseAutoAnswerRules>['rules'] {
  const parsed = parseAutoAnswerRules(input)
  if (parsed.problems.length > 0) throw new Error(parsed.problems.join('; '))
  return parsed.rules
}

t.test('the first matching rule decides; later rules are not consulted', async (t) => {
  const list = rules([
    { name: 'logins', client: 'prime', type: 'authenticate', action: 'reject' },
    { name: 'orders', client: 'prime, hag', type: 'sign', 'external-id': 'order-*', action: 'approve', 'delay-ms': 250 },
    { name: 'rest', client: 'prime', action: 'ignore' }
  ])
  t.match(decideAutoAnswer(list, facts), { rule: 1, name: 'orders', action: 'approve', status: 'OK', answer: 'realistic', delayMs: 250 })
  t.match(decideAutoAnswer(list, { ...facts, type: 'authenticate' }), { rule: 0, action: 'reject', status: 'REJECTED' })
  t.match(decideAutoAnswer(list, { ...facts, externalId: 'invoice-3' }), { rule: 2, action: 'ignore' })
  t.match(decideAutoAnswer(list, { ...facts, type: 'SIGN' }), { rule: 1 }, 'type in any case')
})

t.test('every condition must hold: client, type, group, to, externalId', async (t) => {
  const list = rules([{ client: ['prime'], type: ['sign', 'ping'], group: 'acme', to: ['@tmp', 'john.doe'], externalId: 'order-??' }])
  t.ok(decideAutoAnswer(list, facts))
  t.equal(decideAutoAnswer(list, { ...facts, client: 'hag' }), null, 'another client')
  t.equal(decideAutoAnswer(list, { ...facts, type: 'provision' }), null, 'another type')
  t.equal(decideAutoAnswer(list, { ...facts, group: 'globex' }), null, 'another group')
  t.equal(decideAutoAnswer(list, { ...facts, to: 'jane' }), null, 'another box')
  t.equal(decideAutoAnswer(list, { ...facts, externalId: 'order-170' }), null, 'externalId glob')
  const { externalId: _unused, ...withoutExternalId } = facts
  t.equal(decideAutoAnswer(list, withoutExternalId), null, 'no externalId does not match a pattern')
})

t.test('no catch-all: a rule must name its clients, and "*" is refused', async (t) => {
  t.match(parseAutoAnswerRules([{ action: 'approve' }]).problems, [/rules\[0\]\.client: required/])
  t.match(parseAutoAnswerRules([{ client: '*' }]).problems, [/"\*" is not allowed/])
  t.match(parseAutoAnswerRules([{ client: ' , ' }]).problems, [/client: required/])
  t.equal(decideAutoAnswer(rules([{ client: 'prime' }]), { ...facts, client: 'other' }), null, 'an unnamed client is never answered')
  t.same(decideAutoAnswer([], facts), null, 'no rules, no answers')
})

t.test('probability: a rule that does not fire passes the command to the next rule', async (t) => {
  const list = rules([{ client: 'prime', action: 'reject', probability: 0.1 }, { client: 'prime', action: 'approve', answer: 'canned' }])
  t.match(decideAutoAnswer(list, facts, () => 0.05), { rule: 0, action: 'reject' })
  t.match(decideAutoAnswer(list, facts, () => 0.1), { rule: 1, action: 'approve', answer: 'canned' }, 'the draw must be below the probability')
  t.equal(decideAutoAnswer(rules([{ client: 'prime', probability: 0 }]), facts, () => 0), null, 'probability 0 never fires')
  let draws = 0
  decideAutoAnswer(rules([{ client: 'prime' }]), facts, () => { draws++; return 0.99 })
  t.equal(draws, 0, 'probability 1 needs no draw')
})

t.test('actions: given JSON, malformed, canned; bad rules are reported with their paths, all at once', async (t) => {
  const given = rules([{ client: 'prime', action: 'reject', response: { reason: 'card blocked' } }])
  t.match(decideAutoAnswer(given, facts), { action: 'reject', status: 'REJECTED', answer: 'given', response: { reason: 'card blocked' } })
  const device = { answer: async () => ({ status: 'OK', response: 'realistic' }) } as unknown as VirtualDevice
  const message = { commandType: 'SIGN', command: {} }
  t.same(await answerForDecision(decideAutoAnswer(given, facts)!, message, device), { status: 'REJECTED', response: { reason: 'card blocked' } })
  t.same(await answerForDecision(decideAutoAnswer(rules([{ client: 'prime', action: 'malformed' }]), facts)!, message, device), malformedAnswer('sign'))
  t.same(await answerForDecision(decideAutoAnswer(rules([{ client: 'prime', answer: 'canned' }]), facts)!, message, device), cannedAnswer('sign'))
  t.same(await answerForDecision(decideAutoAnswer(rules([{ client: 'prime' }]), facts)!, message, device), { status: 'OK', response: 'realistic' })
  t.equal(await answerForDecision(decideAutoAnswer(rules([{ client: 'prime', action: 'ignore' }]), facts)!, message, device), null)
  const { problems, rules: none } = parseAutoAnswerRules([
    { client: 'prime', action: 'explode', probability: 2, 'delay-ms': -1, type: 'fax', colour: 'red' },
    { client: 'prime', answer: 'given' }
  ])
  t.same(none, [], 'no rules when any is wrong')
  t.match(problems, [/unknown field colour/, /type: fax/, /action/, /delay-ms/, /probability/, /rules\[1\]\.response: required/])
  t.match(parseAutoAnswerRules({}).problems, ['rules must be a list'])
})

t.test('globMatches: * and ? only, linear on hostile patterns', async (t) => {
  t.ok(globMatches('order-*', 'order-17'))
  t.ok(globMatches('*-17', 'order-17'))
  t.ok(globMatches('o?der*7', 'order-17'))
  t.ok(globMatches('*', ''))
  t.notOk(globMatches('order', 'order-17'))
  t.notOk(globMatches('a.c', 'abc'), 'a dot is a dot, not a regular expression')
  t.notOk(globMatches('*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)), 'no backtracking blow-up')
})

t.test('broker.dev.auto-answer in YAML: the config schema fills defaults, refuses a catch-all, and the parser takes its output', async (t) => {
  // Nested as the broker.dev block will nest it, and compiled with the config loader's ajv options.
  const compiled = new Ajv({ allErrors: true, useDefaults: true, allowUnionTypes: true, strict: true })
    .compile({ type: 'object', properties: { 'auto-answer': autoAnswerSchema } })
  const validate = Object.assign((section: unknown): boolean => compiled({ 'auto-answer': section }), { get errors () { return compiled.errors } })
  const section = parseYaml(`
enabled: true
rules:
  - name: load test
    client: prime, hag
    type: sign
    external-id: "load-*"
    answer: canned
    probability: 0.99
  - client: prime
    action: reject
    response: { reason: card blocked }
    delay-ms: 500
`)
  t.ok(validate(section), JSON.stringify(validate.errors))
  t.match(section, { enabled: true, profile: 'default', rules: [{ action: 'approve', 'delay-ms': 0 }, { action: 'reject' }] })
  const { rules: parsed, problems } = parseAutoAnswerRules(section.rules)
  t.same(problems, [])
  t.match(parsed, [
    { name: 'load test', client: ['prime', 'hag'], type: ['sign'], externalId: 'load-*', action: 'approve', answer: 'canned', probability: 0.99, delayMs: 0 },
    { client: ['prime'], action: 'reject', answer: 'given', response: { reason: 'card blocked' }, delayMs: 500, probability: 1 }
  ])
  t.notOk(validate({ rules: [{ action: 'approve' }] }), 'a rule without a client')
  t.notOk(validate({ rules: [{ client: '*' }] }), 'a catch-all client')
  t.notOk(validate({ rules: [{ client: 'prime', colour: 'red' }] }), 'an unknown key')
  t.same(validate({}) && {}, {}, 'an empty section is valid')
})
