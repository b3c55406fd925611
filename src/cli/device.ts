// `hermod-broker device`: stands in for scanning the QR code; reads messages over the public device API and answers them.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Agent, request, type Dispatcher } from 'undici'
import { parse as parseYaml } from 'yaml'
import type { DeviceAnswer, DeviceMessage } from '../device/answer.js'
import { answerForDecision } from '../device/canned.js'
import { DeviceDataDir, openProfile, type OpenDevice } from '../device/data-dir.js'
import { describeMessage } from '../device/describe.js'
import { parseDeviceLink, type DeviceLink } from '../device/links.js'
import { profilePems } from '../device/profile.js'
import { decideAutoAnswer, parseAutoAnswerRules, type AutoAnswerRule } from '../device/rules.js'

/** The `hermod-broker device --help` text. */
export const DEVICE_HELP = `hermod-broker device: answer commands like a Smart ID app, over the public device API

Usage:
  hermod-broker device <link> [--reject [--reason TEXT] | --response FILE] [options]
  hermod-broker device --watch <uri> [--rules FILE --client ID [--group G] [--to NAME]] [options]
  hermod-broker device ca | certificates [--profile FILE] [--data-dir DIR]

<link> is what PRIME shows: the plugout uri (com.nexusgroup.plugout:///?url=...&token=...: every pending
message of the box), the location (https://.../ms/<bid>/<mid>: that message) or a personal:// deep link.
The device prints what the user would see, then approves with the realistic answer (real keys, CSRs,
CMS signatures), or rejects (--reject), or posts FILE (--response: {"status","response"} or a bare response).

Options:
  --profile FILE     the device profile (keys, certificates); default <data-dir>/profiles/default.json
  --data-dir DIR     the test CA's directory; default $HERMOD_DEVICE_DIR, else ./.hermod/device
  --ca FILE          trust this PEM for the broker's HTTPS;  --insecure  trust any certificate
  --wait SECONDS     long-poll an empty box this long (default 0; --watch: 30)
  --watch            keep long-polling the box and answer each message by --rules (without: approve all)
  --rules FILE       YAML or JSON rules (a list, or {rules: [...]}), as broker.dev.auto-answer.rules;
                     --client/--group/--to say whose box this is, since the device API does not tell
  --print-answer     print each answer's JSON
  -h, --help
`

interface Options {
  dispatcher: Dispatcher
  opened: OpenDevice
  printAnswer: boolean
  chosen?: DeviceAnswer
}

/** Runs the device command; exit code 0 when every message was answered as asked, 1 otherwise. */
export async function runDevice (args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      profile: { type: 'string' },
      'data-dir': { type: 'string' },
      ca: { type: 'string' },
      insecure: { type: 'boolean' },
      reject: { type: 'boolean' },
      reason: { type: 'string' },
      response: { type: 'string' },
      wait: { type: 'string' },
      watch: { type: 'boolean' },
      rules: { type: 'string' },
      client: { type: 'string' },
      group: { type: 'string' },
      to: { type: 'string' },
      'print-answer': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true || positionals.length === 0) {
    process.stdout.write(DEVICE_HELP)
    return values.help === true ? 0 : 2
  }
  const dataDir = new DeviceDataDir(values['data-dir'])
  const profileFile = values.profile ?? join(dataDir.dir, 'profiles', 'default.json')
  const opened = await openProfile(profileFile, await dataDir.ca())
  const [first] = positionals as [string]
  if (first === 'ca') { process.stdout.write(opened.device.profile.caCertificatePem); return 0 }
  if (first === 'certificates') {
    const pems = profilePems(opened.device.profile)
    for (const [keyid, pem] of Object.entries(pems.certificates)) process.stdout.write(`# ${keyid}\n${pem}`)
    return 0
  }
  if (values.reject === true && values.response !== undefined) throw new Error('--reject and --response exclude each other')
  const wait = Number(values.wait ?? (values.watch === true ? 30 : 0))
  if (!Number.isInteger(wait) || wait < 0 || wait > 60) throw new Error('--wait is 0..60 seconds')
  const link = parseDeviceLink(first)
  const ca = values.ca === undefined ? undefined : await readFile(values.ca, 'utf8')
  const dispatcher = new Agent({ connect: { rejectUnauthorized: values.insecure !== true, ...(ca === undefined ? {} : { ca }) } })
  const options: Options = { dispatcher, opened, printAnswer: values['print-answer'] === true }
  if (values.reject === true) options.chosen = { status: 'REJECTED', response: { reason: values.reason ?? 'rejected by the user' } }
  if (values.response !== undefined) options.chosen = givenAnswer(JSON.parse(await readFile(values.response, 'utf8')))
  try {
    if (values.watch === true) {
      if (link.kind !== 'box') throw new Error('--watch needs the plugout uri (a box and its token), not a message location')
      const rules = values.rules === undefined ? undefined : await readRules(values.rules)
      if (rules !== undefined && values.client === undefined) throw new Error('--rules needs --client: rules only answer the clients they name')
      const facts = { client: values.client ?? '', group: values.group ?? '', to: values.to ?? '@tmp' }
      await watch(link, wait, options, rules, facts)
      return 0
    }
    const urls = link.kind === 'message' ? [link.messageUrl] : await pendingMessages(link, wait, options.dispatcher)
    if (urls.length === 0) process.stdout.write('no pending messages\n')
    let ok = true
    for (const url of urls) ok = await handle(url, options, options.chosen) && ok
    return ok ? 0 : 1
  } finally {
    await dispatcher.close()
  }
}

function givenAnswer (json: unknown): DeviceAnswer {
  const record = json as Partial<DeviceAnswer> | null
  if (record !== null && typeof record === 'object' && (record.status === 'OK' || record.status === 'REJECTED') && 'response' in record) return record as DeviceAnswer
  return { status: 'OK', response: json }
}

async function readRules (file: string): Promise<AutoAnswerRule[]> {
  const parsed = parseYaml(await readFile(file, 'utf8')) as unknown
  const list = Array.isArray(parsed) ? parsed : (parsed as { rules?: unknown } | null)?.rules
  const { rules, problems } = parseAutoAnswerRules(list)
  if (problems.length > 0) throw new Error(`${file}:\n  ${problems.join('\n  ')}`)
  return rules
}

async function call (url: string, dispatcher: Dispatcher, body?: unknown, signal?: AbortSignal): Promise<{ status: number, json: any }> {
  const res = await request(url, {
    method: body === undefined ? 'GET' : 'POST',
    dispatcher,
    ...(signal === undefined ? {} : { signal }),
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
  })
  const text = await res.body.text()
  let json: unknown = text
  try { json = JSON.parse(text) } catch {}
  return { status: res.statusCode, json }
}

async function pendingMessages (link: Extract<DeviceLink, { kind: 'box' }>, wait: number, dispatcher: Dispatcher, signal?: AbortSignal): Promise<string[]> {
  const url = new URL(link.boxUrl)
  url.searchParams.set('token', link.token)
  if (wait > 0) url.searchParams.set('wait', String(wait))
  const { status, json } = await call(url.toString(), dispatcher, undefined, signal)
  if (status !== 200) throw new Error(`the box answered ${status}: ${JSON.stringify(json)}`)
  return (json.messages as Array<{ mid: string }>).map((m) => `${link.boxUrl}/${m.mid}`)
}

/** Reads one message, prints it, answers it (with `chosen`, else the realistic answer); false when that failed. */
async function handle (url: string, options: Options, chosen: DeviceAnswer | undefined | null): Promise<boolean> {
  const read = await call(url, options.dispatcher)
  if (read.status !== 200) {
    process.stdout.write(`the message cannot be read (${read.status} ${String(read.json?.code ?? '')})\n`)
    return false
  }
  const message = read.json as DeviceMessage & { header?: Record<string, unknown> }
  process.stdout.write(`${describeMessage(message).join('\n')}\n`)
  const answer = chosen ?? await options.opened.device.answer(message)
  await options.opened.save()
  if (options.printAnswer) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`)
  const posted = await call(url, options.dispatcher, answer)
  const reason = answer.status === 'REJECTED' ? ` (${String((answer.response as { reason?: unknown } | null)?.reason ?? '')})` : ''
  if (posted.status === 200) process.stdout.write(`→ answered ${answer.status}${reason}: the command is ${String(posted.json.state)}\n`)
  else process.stdout.write(`→ the broker refused the answer: ${posted.status} ${String(posted.json?.code ?? '')} ${String(posted.json?.message ?? '')}\n`)
  return posted.status === 200
}

/** Long-polls the box until SIGINT/SIGTERM and answers each new message by the rules (all approved without rules). */
async function watch (link: Extract<DeviceLink, { kind: 'box' }>, wait: number, options: Options, rules: AutoAnswerRule[] | undefined,
  facts: { client: string, group: string, to: string }): Promise<void> {
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const seen = new Set<string>()
  const pending = new Set<Promise<unknown>>()
  process.stdout.write('watching the box (Ctrl-C stops)\n')
  try {
    while (!stop.signal.aborted) {
      let urls: string[]
      try {
        urls = await pendingMessages(link, Math.max(wait, 1), options.dispatcher, stop.signal)
      } catch (err) {
        if (stop.signal.aborted) break
        throw err
      }
      for (const url of urls.filter((u) => !seen.has(u))) {
        seen.add(url)
        const task = answerByRules(url, options, rules, facts).catch((err: Error) => process.stdout.write(`a message could not be answered: ${err.message}\n`))
        pending.add(task)
        void task.finally(() => pending.delete(task))
      }
      if (urls.every((u) => seen.has(u)) && urls.length > 0) await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await Promise.all(pending)
  }
}

async function answerByRules (
  url: string, options: Options, rules: AutoAnswerRule[] | undefined, facts: { client: string, group: string, to: string }
): Promise<void> {
  if (rules === undefined) { await handle(url, options, options.chosen); return }
  const read = await call(url, options.dispatcher)
  if (read.status !== 200) return
  const message = read.json as DeviceMessage & { header?: { externalId?: string } }
  const externalId = message.header?.externalId
  const decision = decideAutoAnswer(rules, {
    type: message.commandType.toLowerCase(),
    ...facts,
    ...(externalId === undefined ? {} : { externalId })
  })
  if (decision === null || decision.action === 'ignore') {
    process.stdout.write(`${message.commandType} ${externalId ?? ''}: ${decision === null ? 'no rule matches' : `rule ${decision.name ?? decision.rule}: never answered`}\n`)
    return
  }
  if (decision.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.delayMs))
  await handle(url, options, await answerForDecision(decision, message, options.opened.device))
}
