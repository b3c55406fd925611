// The broker's auto-answering device: ordered rules decide, for each newly accepted command, whether the virtual device answers it and how.
import type { Logger } from 'pino'
import type { DeviceDataDir } from '../device/data-dir.js'
import { answerForDecision } from '../device/canned.js'
import { decideAutoAnswer, type AutoAnswerDecision, type AutoAnswerRule } from '../device/rules.js'
import type { Clock } from '../mailbox/clock.js'
import type { MailboxStore } from '../mailbox/store.js'
import type { CommandRecord, Destination } from '../mailbox/types.js'

/** What `GET dev/api/auto-answer` shows. */
export interface AutoAnswerState {
  enabled: boolean
  rules: AutoAnswerRule[]
  /** Answers this instance posted (by outcome) since it started. */
  counts: { answered: number, tooLate: number, failed: number, ignored: number }
}

/** Options of the AutoAnswerer. */
export interface AutoAnswerOptions {
  store: MailboxStore
  clock: Clock
  devices: DeviceDataDir
  /** The device profile realistic answers come from. */
  profile: string
  enabled: boolean
  rules: AutoAnswerRule[]
  logger?: Logger
}

/**
 * Called by the instance that accepted a command, once per new command (never for an idempotent replay).
 * Every command is accepted by exactly one instance, so on the Redis store too it is decided and answered
 * once; the answer is the store's own atomic `answer`, the same operation the device API performs, so a
 * device that answers first wins and the auto-answer finds it decided. Rules name their clients: a command
 * of a client no rule names is left alone.
 */
export class AutoAnswerer {
  private enabled: boolean
  private rules: AutoAnswerRule[]
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly counts = { answered: 0, tooLate: 0, failed: 0, ignored: 0 }
  private closed = false

  constructor (private readonly options: AutoAnswerOptions) {
    this.enabled = options.enabled
    this.rules = options.rules
    this.announce()
  }

  /** Whether a new command can be answered at all (checked on the accept path before anything else). */
  get active (): boolean {
    return this.enabled && this.rules.length > 0 && !this.closed
  }

  /** The rules and counters. */
  state (): AutoAnswerState {
    return { enabled: this.enabled, rules: this.rules, counts: { ...this.counts } }
  }

  /** Replaces the rules (the dev API); commands already scheduled keep their decision. */
  configure (enabled: boolean, rules: AutoAnswerRule[]): void {
    this.enabled = enabled
    this.rules = rules
    this.announce()
  }

  /** A command was accepted here; `body` is the posted JSON (commandHeader and payload). */
  accepted (command: CommandRecord, body: Record<string, unknown>): void {
    if (!this.active) return
    const { commandHeader: _header, ...payload } = body
    for (const destination of command.destinations) {
      const facts = { type: command.type, client: command.clientId, group: command.group, to: destination.to }
      const decision = decideAutoAnswer(this.rules, command.externalId === undefined ? facts : { ...facts, externalId: command.externalId })
      if (decision === null) continue
      if (decision.action === 'ignore') {
        this.counts.ignored++
        return
      }
      this.schedule(decision, command, destination, payload)
      return
    }
  }

  /** Cancels answers not yet posted. */
  close (): void {
    this.closed = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }

  private schedule (decision: Exclude<AutoAnswerDecision, { action: 'ignore' }>, command: CommandRecord, destination: Destination, payload: Record<string, unknown>): void {
    const run = (): void => {
      this.answer(decision, command, destination, payload).catch((err: unknown) => {
        this.counts.failed++
        this.options.logger?.warn({ commandId: command.commandId, err }, 'auto-answer failed')
      })
    }
    if (decision.delayMs === 0) {
      setImmediate(run)
      return
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      run()
    }, decision.delayMs)
    timer.unref()
    this.timers.add(timer)
  }

  private async answer (
    decision: AutoAnswerDecision,
    command: CommandRecord,
    destination: Destination,
    payload: Record<string, unknown>
  ): Promise<void> {
    if (this.closed) return
    const { devices, profile, store, clock } = this.options
    let opened: Awaited<ReturnType<DeviceDataDir['open']>> | undefined
    const answer = await answerForDecision(decision, { commandType: command.type, command: payload }, async () => {
      opened = await devices.open(profile)
      return opened.device
    })
    if (answer === null) return
    // Provision and certificate change the profile: keep it for the next command (and the CLI).
    if (opened !== undefined) await opened.save()
    const posted = { status: answer.status, response: JSON.stringify(answer.response ?? null) }
    const result = await store.answer(destination.bid, destination.mid, posted, clock.now())
    if (result.kind === 'ok') this.counts.answered++
    else this.counts.tooLate++
  }

  private announce (): void {
    if (!this.enabled || this.rules.length === 0) return
    const clients = [...new Set(this.rules.flatMap((rule) => rule.client))].join(', ')
    this.options.logger?.warn(`AUTO-ANSWER IS ON: ${this.rules.length} rule(s) answer commands of client(s) ${clients} as the virtual device`)
  }
}
