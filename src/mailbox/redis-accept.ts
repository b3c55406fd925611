// Accept on Redis: box index entries first, then the one accept script; retries the rare races it reports.
import type { ChainableCommander } from 'ioredis'
import { writeAndWait, type ReplicaWait } from '../redis/replica-wait.js'
import type { RedisClient } from '../redis/topology.js'
import type { Logger } from 'pino'
import { encodeBoxRef, type BoxRef, type RedisKeys } from './keys.js'
import { GenerationCache, type CommandIds } from './redis-connection.js'
import { decodeAccept } from './redis-replies.js'
import { acceptArgs, type MailboxScripts, type SentDestination } from './redis-scripts.js'
import { IdempotencyConflictError, StoreUnavailableError } from './store.js'
import type { AcceptRequest, AcceptResult } from './types.js'
import { randomUuid } from './uuid.js'

/** What the acceptor borrows from its store. */
export interface AcceptorContext {
  redis: RedisClient
  keys: RedisKeys
  scripts: MailboxScripts
  ids: CommandIds
  timing: { graceMs: number, slackMs: number }
  /** Groups this connection already registered in the global group set (cleared on reconnect). */
  registeredGroups: Set<string>
  /** `broker.redis.wait-replicas`: every index write is followed by WAIT on its node too. */
  wait?: ReplicaWait | undefined
  /** Remembers where a new box id leads (the store's LRU). */
  remember: (bid: string, ref: BoxRef) => void
  notifyOutbox: () => void
  /** Long-poll wake-ups (wake-channels.ts): the channel of a group; sharded: announced here after the script, with SPUBLISH. */
  wake: { channelFor: (group: string) => string, sharded: () => boolean }
  logger?: Logger | undefined
}

type Attempt =
  | { kind: 'done', result: AcceptResult }
  | { kind: 'id-taken' }
  | { kind: 'box-moved', name: string, bid: string }
  | { kind: 'no-live-box', name: string }

interface PreWrite { bid: string, write: () => Promise<unknown> }

const MAX_ATTEMPTS = 5

/** Named boxes remembered (group, name -> box id), so that a named accept usually skips the read before the script. */
const NAMED_BOXES_KEPT = 10_000

/**
 * Accepts commands. Round trips: one (pipelined index writes + the script) for `@tmp` destinations and for
 * named boxes this instance saw lately (a stale one costs a second run: -5 or -7), plus one read of the other
 * named boxes' current ids, plus one INCRBY per id block.
 */
export class RedisAcceptor {
  /** (group, name) -> the box id this instance last saw the name have. Unlike the box refs it can go stale (the box
   * expired, another instance made a new one): the script then answers -7 or -5 and the next attempt corrects it. */
  private readonly namedBoxes = new GenerationCache<string>(NAMED_BOXES_KEPT)

  constructor (private readonly ctx: AcceptorContext) {}

  async accept (req: AcceptRequest, now: number): Promise<AcceptResult> {
    const { redis, keys } = this.ctx
    const expected = new Map<string, string>()
    const names = [...new Set(req.to.filter((to) => to !== '@tmp'))]
    for (const name of names) {
      const bid = this.namedBoxes.get(namedBoxKey(req.group, name))
      if (bid !== undefined) expected.set(name, bid)
    }
    const unknown = names.filter((name) => !expected.has(name))
    if (unknown.length > 0) { // the usual '@tmp'-only command, and names seen lately, skip this round trip
      const boxes = await Promise.all(unknown.map((name) => redis.hmget(keys.namedBox(req.group, name), 'i', 'e')))
      boxes.forEach(([bid, expiresAt], i) => { if (typeof bid === 'string' && Number(expiresAt) > now) expected.set(unknown[i]!, bid) })
    }
    let commandId = await this.ctx.ids.take()
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const outcome = await this.attempt(req, now, commandId, expected)
      if (outcome.kind === 'done') return outcome.result
      if (outcome.kind === 'id-taken') {
        this.ctx.ids.discard()
        commandId = await this.ctx.ids.take()
      } else if (outcome.kind === 'no-live-box') {
        expected.delete(outcome.name) // next attempt: a candidate, indexed before the script
      } else {
        await redis.pexpire(keys.boxIndex(outcome.bid), this.indexTtl(req), 'GT')
        expected.set(outcome.name, outcome.bid)
      }
    }
    throw new StoreUnavailableError('accept kept racing with concurrent writers; try again')
  }

  /**
   * One attempt. The box index entries (global keys, other slots) and the group registration go in
   * the same pipeline *before* the script: no device can hold a box id that the index lacks.
   */
  private async attempt (req: AcceptRequest, now: number, commandId: string, expected: Map<string, string>): Promise<Attempt> {
    const { redis, keys, scripts, timing } = this.ctx
    const { group } = req
    // A name whose live box is expected gets no candidate (''): if that box is gone the script answers -7 and the next
    // attempt sends one, indexed before the script, so that no device can ever hold a box id the index lacks.
    const candidates = new Map<string, { bid: string, token: string }>()
    const sent: SentDestination[] = req.to.map((to) => {
      if (to === '@tmp') return { to, bid: randomUuid(), mid: randomUuid(), token: randomUuid() }
      let candidate = candidates.get(to)
      if (candidate === undefined) {
        candidate = expected.has(to) ? { bid: '', token: '' } : { bid: randomUuid(), token: randomUuid() }
        candidates.set(to, candidate)
      }
      return { to, mid: randomUuid(), ...candidate }
    })
    const preWrites = this.preWrites(req, commandId, sent, candidates, expected)
    const pending = preWrites.map((p) => p.write())
    const commandKey = keys.command(group, commandId)
    const scriptKeys = [
      keys.groupBase(group), commandKey, keys.deadlines(group),
      req.idempotencyKey === undefined ? commandKey : keys.idempotency(group, req.clientId, req.idempotencyKey),
      keys.outbox(group), keys.outboxOrder(group), ...keys.groupIndexKeys(group),
      ...[...candidates.keys()].flatMap((name) => [keys.namedBox(group, name), keys.namedBoxPending(group, name)])
    ]
    const channel = this.ctx.wake.channelFor(group)
    const script = scripts.run('accept-4', scriptKeys, acceptArgs(req, now, commandId, sent, expected, { ...timing, channel }))
    const [scriptResult, ...preResults] = await Promise.allSettled([script, ...pending])
    if (scriptResult.status === 'rejected') throw scriptResult.reason
    const reply = decodeAccept(scriptResult.value, group, commandId, { req, now, destinations: sent })
    const used = new Set(reply.kind === 'created' ? reply.command.destinations.map((d) => d.bid) : [])
    const indexed = new Set(preWrites.map((p) => p.bid))
    const unused = [...new Set(sent.map((d) => d.bid))].filter((bid) => bid !== '' && !used.has(bid) && indexed.has(bid))
    if (unused.length > 0) redis.del(...unused.map((bid) => keys.boxIndex(bid))).catch(() => {})
    switch (reply.kind) {
      case 'conflict': throw new IdempotencyConflictError('Idempotency-Key reused with a different request')
      case 'id-taken': return { kind: 'id-taken' }
      case 'box-moved': return { kind: 'box-moved', name: req.to[reply.index]!, bid: reply.bid }
      case 'no-live-box': return { kind: 'no-live-box', name: req.to[reply.index]! }
      case 'replayed':
        if (reply.emitted) this.ctx.notifyOutbox()
        return { kind: 'done', result: { command: reply.command, replayed: true } }
    }
    const failed = preWrites.filter((p, i) => preResults[i]!.status === 'rejected' && (p.bid === '' || used.has(p.bid)))
    await this.repair(failed, commandId)
    if (preWrites.some((p) => p.bid === '')) this.ctx.registeredGroups.add(group)
    if (this.ctx.wake.sharded()) this.announceSharded(channel, reply.command.destinations)
    for (const d of reply.command.destinations) {
      if (d.to !== '@tmp') this.namedBoxes.set(namedBoxKey(group, d.to), d.bid)
      this.ctx.remember(d.bid, d.to === '@tmp' ? { group, kind: 'tmp', commandId } : { group, kind: 'named', name: d.to })
    }
    return { kind: 'done', result: { command: reply.command, replayed: false } }
  }

  /** Index entries for fresh box ids, longer TTLs for the live named boxes, the group registration (bid ''). */
  private preWrites (
    req: AcceptRequest, commandId: string, sent: SentDestination[],
    candidates: Map<string, { bid: string }>, expected: Map<string, string>
  ): PreWrite[] {
    const { keys } = this.ctx
    const ttl = this.indexTtl(req)
    const write = this.writeOf()
    const index = (bid: string, ref: BoxRef): PreWrite => this.indexWrite(req, bid, ref)
    const writes = sent.filter((d) => d.to === '@tmp').map((d) => index(d.bid, { group: req.group, kind: 'tmp', commandId }))
    // A name with a live box (read just before, or reported by the script) keeps that box: no candidate index (SET, then DEL).
    for (const [name, c] of candidates) if (!expected.has(name)) writes.push(index(c.bid, { group: req.group, kind: 'named', name }))
    for (const bid of expected.values()) writes.push({ bid, write: write((r) => r.pexpire(keys.boxIndex(bid), ttl, 'GT')) })
    if (!this.ctx.registeredGroups.has(req.group)) writes.push({ bid: '', write: write((r) => r.sadd(keys.groups(), req.group)) })
    return writes
  }

  /** The index entry of a fresh box id. */
  private indexWrite (req: AcceptRequest, bid: string, ref: BoxRef): PreWrite {
    const { keys } = this.ctx
    return { bid, write: this.writeOf()((r) => r.set(keys.boxIndex(bid), encodeBoxRef(ref), 'PX', this.indexTtl(req))) }
  }

  /** One write; with wait-replicas, followed by WAIT on the node of its key (a global key's slot is not the group's). */
  private writeOf (): (queue: (pipeline: ChainableCommander) => unknown) => () => Promise<unknown> {
    const { redis, wait } = this.ctx
    return (queue) => wait === undefined
      ? async () => await (queue(redis as unknown as ChainableCommander) as Promise<unknown>)
      : async () => await writeAndWait(redis, wait, queue)
  }

  /** Redoes pre-writes that failed while the script succeeded (memory freed in between): never leave a box unreachable. */
  private async repair (failed: PreWrite[], commandId: string): Promise<void> {
    for (const p of failed) {
      let lastError: unknown
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await p.write()
          lastError = undefined
          break
        } catch (err) {
          lastError = err
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
      if (lastError !== undefined) {
        this.ctx.logger?.error({ commandId, err: { message: (lastError as Error).message } }, 'command stored but its box index could not be written')
        throw lastError
      }
    }
  }

  /**
   * The script PUBLISHes each named box's id on `channel` (classic pub/sub, which SSUBSCRIBE does not see), so in
   * sharded mode the wake-ups go out here, on the same connection right after it. Not awaited: a lost wake-up only
   * lets a long poll run to its deadline.
   */
  private announceSharded (channel: string, destinations: ReadonlyArray<{ to: string, bid: string }>): void {
    for (const d of destinations) {
      if (d.to !== '@tmp') this.ctx.redis.spublish(channel, d.bid).catch(() => {})
    }
  }

  /** Index entries live as long as the box can be read (lifespan) plus the slack. */
  private indexTtl (req: AcceptRequest): number { return req.lifespanSeconds * 1000 + this.ctx.timing.slackMs }
}

/** The key of a named box in the acceptor's memory: unambiguous whatever the two names hold. */
function namedBoxKey (group: string, name: string): string { return `${group.length}:${group}${name}` }
