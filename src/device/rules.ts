// Auto-answer rules, pure: which rule a command matches and what the device then does (approve, reject, ignore, ...).

/** What a rule does with a command it matches. `ignore`: never answer (the command times out). */
export type AutoAnswerAction = 'approve' | 'reject' | 'ignore' | 'malformed'

/** One rule, in the canonical form `parseAutoAnswerRules` returns. */
export interface AutoAnswerRule {
  name?: string
  /** Client ids the rule is for; never empty (a rule must name its clients: no catch-all). */
  client: string[]
  /** Command types (lower case); absent: any. */
  type?: string[]
  /** Client groups; absent: any. */
  group?: string[]
  /** Destination names (`@tmp` for temporary boxes); absent: any. */
  to?: string[]
  /** A glob on `externalId` (`*` any run, `?` one character); absent: any, also none. */
  externalId?: string
  action: AutoAnswerAction
  /** For approve: the realistic answer (real keys and signatures, the default), a canned one (cheap), or `response`. */
  answer: 'realistic' | 'canned' | 'given'
  /** The JSON to answer with when `answer` is `given` (approve or reject). */
  response?: unknown
  /** Wait this long before answering. */
  delayMs: number
  /** The chance, 0..1, that the rule fires when it matches; when it does not, the next rule is tried. */
  probability: number
}

/** The facts of a command a rule can match. */
export interface CommandFacts {
  /** Lower-case command type. */
  type: string
  client: string
  group: string
  /** The destination name (`@tmp` or a named box). */
  to: string
  externalId?: string
}

/** What to do: the rule (by index and name), and the answer to post (or none). */
export type AutoAnswerDecision =
  | { rule: number, name?: string, action: 'ignore' }
  | { rule: number, name?: string, action: 'approve' | 'reject' | 'malformed', status: 'OK' | 'REJECTED', answer: 'realistic' | 'canned' | 'given', response?: unknown, delayMs: number }

/**
 * The first rule that matches `facts` and whose probability draw (`random()` < probability) succeeds, as a
 * decision; null when none does (the command is left to other devices). Matching is exact for lists and
 * case-sensitive except for `type`.
 */
export function decideAutoAnswer (
  rules: readonly AutoAnswerRule[],
  facts: CommandFacts,
  random: () => number = Math.random
): AutoAnswerDecision | null {
  for (const [index, rule] of rules.entries()) {
    if (!matches(rule, facts)) continue
    if (rule.probability < 1 && !(random() < rule.probability)) continue
    const named = rule.name === undefined ? {} : { name: rule.name }
    if (rule.action === 'ignore') return { rule: index, ...named, action: 'ignore' }
    return {
      rule: index,
      ...named,
      action: rule.action,
      status: rule.action === 'reject' ? 'REJECTED' : 'OK',
      answer: rule.action === 'malformed' ? 'canned' : rule.answer,
      ...(rule.response === undefined ? {} : { response: rule.response }),
      delayMs: rule.delayMs
    }
  }
  return null
}

/** Whether every condition of `rule` holds for `facts`. */
export function matches (rule: AutoAnswerRule, facts: CommandFacts): boolean {
  if (!rule.client.includes(facts.client)) return false
  if (rule.type !== undefined && !rule.type.includes(facts.type.toLowerCase())) return false
  if (rule.group !== undefined && !rule.group.includes(facts.group)) return false
  if (rule.to !== undefined && !rule.to.includes(facts.to)) return false
  if (rule.externalId !== undefined && !globMatches(rule.externalId, facts.externalId ?? '')) return false
  return true
}

/** `*` matches any run of characters, `?` one; everything else itself. Linear time, no regular expression. */
export function globMatches (pattern: string, text: string): boolean {
  let p = 0
  let t = 0
  let star = -1
  let mark = 0
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++
      t++
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++ // remember the star; first let it match nothing
      mark = t
    } else if (star >= 0) {
      p = star + 1 // let the last star take one more character
      t = ++mark
    } else {
      return false
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++
  return p === pattern.length
}

const TYPES = ['provision', 'certificate', 'authenticate', 'sign', 'ping']
const ACTIONS: AutoAnswerAction[] = ['approve', 'reject', 'ignore', 'malformed']

/**
 * Rules from config (`broker.dev.auto-answer.rules`: kebab-case, lists as comma-separated text) or from the dev API
 * (camelCase, lists as arrays), with every problem named by its index. A rule without a client, or with `*` as a
 * client, is a problem: auto-answer never answers a client the rules do not name.
 */
export function parseAutoAnswerRules (input: unknown): { rules: AutoAnswerRule[], problems: string[] } {
  const problems: string[] = []
  const rules: AutoAnswerRule[] = []
  if (!Array.isArray(input)) return { rules, problems: ['rules must be a list'] }
  input.forEach((raw, index) => {
    const at = `rules[${index}]`
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) { problems.push(`${at}: must be an object`); return }
    const fields = new Map(Object.entries(raw).map(([key, value]) => [key.replace(/-/g, '').toLowerCase(), value]))
    const known = new Set(['name', 'client', 'type', 'group', 'to', 'externalid', 'action', 'answer', 'response', 'delayms', 'probability'])
    for (const key of fields.keys()) if (!known.has(key)) problems.push(`${at}: unknown field ${key}`)
    const client = list(fields.get('client'))
    if (client === undefined || client.length === 0) problems.push(`${at}.client: required (name the client ids the rule answers for)`)
    else if (client.includes('*')) problems.push(`${at}.client: "*" is not allowed: name the client ids (no catch-all)`)
    const type = list(fields.get('type'))?.map((t) => t.toLowerCase())
    for (const t of type ?? []) if (!TYPES.includes(t)) problems.push(`${at}.type: ${t} is not one of ${TYPES.join(', ')}`)
    const action = String(fields.get('action') ?? 'approve').toLowerCase() as AutoAnswerAction
    if (!ACTIONS.includes(action)) problems.push(`${at}.action: must be one of ${ACTIONS.join(', ')}`)
    const response = fields.get('response')
    const answer = String(fields.get('answer') ?? (response === undefined ? 'realistic' : 'given')).toLowerCase()
    if (answer !== 'realistic' && answer !== 'canned' && answer !== 'given') problems.push(`${at}.answer: must be realistic, canned or given`)
    if (answer === 'given' && response === undefined) problems.push(`${at}.response: required with answer: given`)
    const delayMs = Number(fields.get('delayms') ?? 0)
    if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > 3_600_000) problems.push(`${at}.delay-ms: an integer from 0 to 3600000`)
    const probability = Number(fields.get('probability') ?? 1)
    if (!(probability >= 0 && probability <= 1)) problems.push(`${at}.probability: a number from 0 to 1`)
    const externalId = fields.get('externalid')
    if (externalId !== undefined && typeof externalId !== 'string') problems.push(`${at}.external-id: must be text (a glob)`)
    const name = fields.get('name')
    const optional = (key: string, value: unknown): Record<string, unknown> => value === undefined ? {} : { [key]: value }
    rules.push({
      ...optional('name', name === undefined ? undefined : String(name)),
      client: client ?? [],
      ...optional('type', type),
      ...optional('group', list(fields.get('group'))),
      ...optional('to', list(fields.get('to'))),
      ...optional('externalId', externalId),
      action,
      answer: answer as AutoAnswerRule['answer'],
      ...optional('response', response),
      delayMs,
      probability
    } as AutoAnswerRule)
  })
  return { rules: problems.length === 0 ? rules : [], problems }
}

function list (value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',')
  return items.map((item) => item.trim()).filter((item) => item !== '')
}
