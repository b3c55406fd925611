// The Redis mailbox store: each state change is one Lua script on its group's slot; N broker instances share it.
import { Cluster } from 'ioredis'
import type { Logger } from 'pino'
import { MIN_PURGE_GRACE_MS } from '../config/schema.js'
import type { RedisConfig } from '../config/types.js'
import { closeConnection } from '../redis/connection.js'
import { ReplicationShortError, writeAndWait, type ReplicaWait } from '../redis/replica-wait.js'
import { createRedisClient, duplicateClient, type RedisClient } from '../redis/topology.js'
import { ThrottledLog } from '../redis/throttled-log.js'
import { GROUP_KEY_SUFFIX, RedisKeys, decodeBoxRef, type BoxRef } from './keys.js'
import { layoutConflict } from './layout-check.js'
import { RedisAcceptor } from './redis-accept.js'
import {
  BoxRefCache, CommandIds, GenerationCache, SUBSCRIBER_OVERRIDES, apiConnectionOptions, evictionPolicyWarning
} from './redis-connection.js'
import {
  decodeAnswer, decodeCancel, decodeClaim, decodeGetCommand, decodeList, decodeOutbox, decodeRead, toStoreError, type OutboxEntry
} from './redis-replies.js'
import { RedisCommandPeeker } from './redis-peek.js'
import { MailboxScripts, scriptsDirectory } from './redis-scripts.js'
import { StoreSignals } from './store-signals.js'
import { WakeChannels, wakeSignalModeFor, type WakeSignalMode } from './wake-channels.js'
import type { DeviceAnswer, MailboxStore, PeekedCommand, PeekOptions } from './store.js'
import type {
  AcceptRequest, AcceptResult, AnswerResult, BoxMessage, CallbackEvent, CancelResult, CommandRecord, ReadResult
} from './types.js'
import { isUuid } from './uuid.js'

/** How to build a RedisMailboxStore. Give `config` (the broker's), or `client` and `prefix` (tests). */
export interface RedisMailboxStoreOptions {
  /** `broker.redis`: URL, key prefix and extra ioredis options. */
  config?: RedisConfig
  /** An ioredis client to use as the API connection instead (it should fail fast, see apiConnectionOptions). The store closes it. */
  client?: RedisClient
  /** Key prefix with `client` (default: config.prefix). */
  prefix?: string
  logger?: Logger
  /**
   * How long an IN_PROGRESS record outlives its lifespan, so its TIMEOUT is still written when no sweeper
   * ran in time (`broker.purgeGraceMs`). Default 1 h, at least MIN_PURGE_GRACE_MS.
   */
  purgeGraceMs?: number
  /** Called with the number of deadlines a sweep found without their record (no TIMEOUT could be written): the metric. */
  onDeadlinesWithoutRecord?: (count: number) => void
  /** Bytes of command meta one sweep script re-packs before it yields to other clients (it goes on in another). Default 1 MiB. */
  sweepBudgetBytes?: number
  /** How long a terminal record, a box and its index outlive the lifespan (reads say 404 already). Default 5 s. */
  terminalSlackMs?: number
  /** Box ids whose group this instance remembers (bounded LRU). Default 10 000. */
  boxCacheSize?: number
  /** Command ids taken from the global sequence at once (1: one INCR per accept). Default 50. */
  idBlockSize?: number
  /** Where the Lua scripts are read from (default: scriptsDirectory(); the key guard test passes an instrumented copy). */
  scriptsDirectory?: string
  /** Time budget of one Redis call on the API connection, ms (config path only). Default 2000. */
  commandTimeoutMs?: number
  /** Long-poll wake-ups: one broadcast channel, or sharded channels per group (wake-channels.ts). Default: sharded on a Cluster. */
  signals?: WakeSignalMode
  /**
   * The key layout (keys.ts): undefined for group tags (standalone, Sentinel), B for the Cluster layout of B group
   * buckets. Default: `config.cluster.groupBuckets` (64) on a Cluster, group tags otherwise.
   */
  groupBuckets?: number
  /** How often every registered group with work is re-entered in the index of work due, ms; 0: only at connect. Default 10 min. */
  reindexIntervalMs?: number
}

const ACK_CHUNK = 500
/** Buckets of the Cluster layout when the config names none (`broker.redis.cluster.group-buckets`). */
const DEFAULT_GROUP_BUCKETS = 64
/** Groups a re-index checks at once. */
const REINDEX_CHUNK = 200

/** The MailboxStore on Redis (>= 7.0). Build it with `RedisMailboxStore.connect(options)`. */
export class RedisMailboxStore implements MailboxStore {
  readonly name = 'redis' as const
  readonly keys: RedisKeys
  private readonly redis: RedisClient
  private readonly subscriber: RedisClient
  private readonly scripts: MailboxScripts
  private readonly scriptsDir: string
  private readonly wait: ReplicaWait | undefined
  private readonly acceptor: RedisAcceptor
  private readonly ids: CommandIds
  private readonly boxes: BoxRefCache
  /** Message id -> keys its read or answer had to add (they never change): the next call passes them up front. */
  private readonly messageKeyHints: GenerationCache<string[]>
  /** Group -> named boxes' pending index keys its sweeps needed (the box names of a group recur). */
  private readonly sweepKeyHints = new GenerationCache<string[]>(1_000)
  private readonly graceMs: number
  private readonly slackMs: number
  private readonly sweepBudgetBytes: number
  private readonly onDeadlinesWithoutRecord: ((count: number) => void) | undefined
  private readonly logger: Logger | undefined
  private readonly registeredGroups = new Set<string>()
  private readonly ackHints = new Map<string, string>()
  private readonly signals = new StoreSignals((err) => this.logger?.error({ err }, 'store listener failed'))
  private readonly subscribed: Promise<unknown>
  private readonly wake: WakeChannels
  private currentWarnings: string[] = []
  private policyCheck: Promise<void> | undefined
  private peeker: RedisCommandPeeker | undefined
  private readonly connectionLog: ThrottledLog
  private readonly lostDeadlineLog: ThrottledLog
  private reindexTimer: NodeJS.Timeout | undefined
  private reindexing: Promise<void> | undefined

  /**
   * Connects (in the background: use `connect()` to wait for Redis) and defines the scripts.
   * @throws when neither `config` nor `client` is given, the prefix is invalid or the purge grace below its minimum
   */
  constructor (options: RedisMailboxStoreOptions) {
    const prefix = options.prefix ?? options.config?.prefix
    if (prefix === undefined) throw new Error('RedisMailboxStore needs a key prefix (config.prefix or prefix)')
    const clustered = options.client instanceof Cluster || (options.client === undefined && options.config?.cluster !== undefined)
    const buckets = options.groupBuckets ?? (clustered ? options.config?.cluster?.groupBuckets ?? DEFAULT_GROUP_BUCKETS : undefined)
    this.keys = new RedisKeys(prefix, buckets)
    const graceMs = options.purgeGraceMs ?? 3_600_000
    if (!(graceMs >= MIN_PURGE_GRACE_MS)) throw new RangeError(`purgeGraceMs must be at least ${MIN_PURGE_GRACE_MS} ms, got ${graceMs}`)
    if (options.client !== undefined) {
      this.redis = options.client
    } else if (options.config !== undefined) {
      this.redis = createRedisClient(options.config, apiConnectionOptions(options.commandTimeoutMs ?? 2000, options.config.options))
    } else {
      throw new Error('RedisMailboxStore needs config or client')
    }
    this.logger = options.logger?.child({ component: 'redis-store' })
    this.connectionLog = new ThrottledLog(this.logger, 'redis connection problem')
    this.lostDeadlineLog = new ThrottledLog(this.logger, 'deadlines found without their command record: no TIMEOUT event was written (no sweep ran within lifespan + broker.purge-grace-ms)', 60_000)
    this.graceMs = graceMs
    this.slackMs = Math.max(1, options.terminalSlackMs ?? 5_000)
    this.sweepBudgetBytes = Math.max(1, options.sweepBudgetBytes ?? 1_048_576)
    this.onDeadlinesWithoutRecord = options.onDeadlinesWithoutRecord
    this.boxes = new BoxRefCache(options.boxCacheSize ?? 10_000)
    this.messageKeyHints = new GenerationCache(options.boxCacheSize ?? 10_000)
    this.ids = new CommandIds(this.redis, this.keys.sequence(), Math.max(1, options.idBlockSize ?? 50))
    this.scriptsDir = options.scriptsDirectory ?? scriptsDirectory()
    const waitReplicas = options.config?.waitReplicas ?? 0
    const wait = waitReplicas > 0 ? { replicas: waitReplicas, timeoutMs: options.config?.waitTimeoutMs ?? 500 } : undefined
    this.wait = wait
    this.scripts = new MailboxScripts(this.redis, this.scriptsDir, wait)
    this.acceptor = new RedisAcceptor({
      redis: this.redis,
      keys: this.keys,
      scripts: this.scripts,
      ids: this.ids,
      timing: { graceMs: this.graceMs, slackMs: this.slackMs },
      registeredGroups: this.registeredGroups,
      wait,
      remember: (bid, ref) => this.boxes.set(bid, ref),
      notifyOutbox: () => this.notifyOutbox(),
      wake: { channelFor: (group) => this.wake.channelFor(group), sharded: () => this.wake.mode === 'sharded' },
      logger: this.logger
    })
    this.subscriber = duplicateClient(this.redis, SUBSCRIBER_OVERRIDES)
    this.redis.on('error', (err: Error) => this.connectionLog.error('api connection', err))
    this.subscriber.on('error', (err: Error) => this.connectionLog.error('subscriber', err))
    this.redis.on('close', () => { this.ids.discard(); this.registeredGroups.clear() })
    this.redis.on('ready', () => { this.policyCheck = this.checkEvictionPolicy(); this.reindexInBackground() })
    if (this.redis.status === 'ready') { this.policyCheck = this.checkEvictionPolicy(); this.reindexInBackground() }
    const reindexMs = options.reindexIntervalMs ?? options.config?.reindexIntervalMs ?? 600_000
    if (reindexMs > 0) this.reindexTimer = setInterval(() => this.reindexInBackground(), reindexMs).unref()
    const onError = (err: Error): void => this.connectionLog.error('subscriber', err)
    const mode = options.signals ?? wakeSignalModeFor(this.redis)
    this.wake = new WakeChannels(mode, this.keys, this.subscriber, (bid) => this.announce(bid), onError)
    this.subscribed = this.wake.start().catch(onError)
  }

  /**
   * Builds a store and waits up to `waitMs` for Redis (connection, subscription, maxmemory-policy check).
   * When Redis is not there yet it still resolves: calls fail with StoreUnavailableError and ping()
   * rejects until it is, and the store reconnects by itself.
   */
  static async connect (options: RedisMailboxStoreOptions, waitMs = 3000): Promise<RedisMailboxStore> {
    const store = new RedisMailboxStore(options)
    const ready = (async () => {
      if (store.redis.status !== 'ready') await new Promise((resolve) => store.redis.once('ready', resolve))
      await store.subscribed
      await store.policyCheck
      return true
    })()
    const timer = new Promise<boolean>((resolve) => setTimeout(resolve, waitMs, false).unref())
    if (!await Promise.race([ready, timer])) store.logger?.warn('redis is not reachable yet; the store keeps reconnecting')
    return store
  }

  /** Start-up findings an operator should see (e.g. a maxmemory-policy other than noeviction). */
  get warnings (): readonly string[] { return this.currentWarnings }

  async accept (req: AcceptRequest, now: number): Promise<AcceptResult> {
    return await this.guard(() => this.acceptor.accept(req, now))
  }

  async getCommand (group: string, commandId: string, now: number): Promise<CommandRecord | null> {
    if (!/^\d{1,20}$/.test(commandId)) return null
    const reply = await this.guard(() => this.scripts.run('get-command-2', this.commandKeys(group, commandId), [commandId, now, group, this.slackMs]))
    return this.emitting(decodeGetCommand(reply, group, commandId))
  }

  async cancel (group: string, commandId: string, now: number): Promise<CancelResult> {
    if (!/^\d{1,20}$/.test(commandId)) return { kind: 'not-found' }
    const reply = await this.guard(() => this.scripts.run('cancel-2', this.commandKeys(group, commandId), [commandId, now, group, this.slackMs]))
    return this.emitting(decodeCancel(reply, group, commandId))
  }

  async listBox (bid: string, token: string, now: number): Promise<BoxMessage[] | null> {
    return await this.guard(async () => {
      const ref = isUuid(token) ? await this.resolveBox(bid) : null
      if (ref === null) return null
      const keys = this.boxKeys(ref).slice(0, 2)
      keys.push(ref.kind === 'tmp' ? keys[1]! : this.keys.namedBoxPending(ref.group, ref.name))
      return decodeList(await this.scripts.run('list-box-3', keys, [...refArgs(ref), bid, token, now]))
    })
  }

  async readMessage (bid: string, mid: string, now: number): Promise<ReadResult> {
    const reply = await this.guard(async () => {
      const ref = isUuid(mid) ? await this.resolveBox(bid) : null
      if (ref === null) return null
      return await this.scripts.run('read-message-2', this.messageKeys(ref, mid), [...refArgs(ref), bid, mid, now, ref.group, this.slackMs], this.learner(mid))
    })
    return reply === null ? { kind: 'not-found' } : this.emitting(decodeRead(reply, bid, mid))
  }

  async answer (bid: string, mid: string, answer: DeviceAnswer, now: number): Promise<AnswerResult> {
    const reply = await this.guard(async () => {
      const ref = isUuid(mid) ? await this.resolveBox(bid) : null
      if (ref === null) return null
      const args = [...refArgs(ref), bid, mid, now, ref.group, this.slackMs, answer.status, answer.response]
      return await this.scripts.run('answer-2', this.messageKeys(ref, mid), args, this.learner(mid))
    })
    return reply === null ? { kind: 'not-found' } : this.emitting(decodeAnswer(reply))
  }

  async claimDue (now: number, limit: number): Promise<number> {
    if (limit <= 0) return 0
    const claimed = await this.guard(async () => {
      // The index says which groups may have a deadline due: one read per bucket, whatever the number of groups.
      const buckets = await Promise.all(this.buckets().map((b) => this.redis.zrangebyscore(this.keys.dueGroups(b), '-inf', now, 'LIMIT', 0, limit)))
      let total = 0
      for (const group of buckets.flat()) {
        if (total >= limit) break
        // One script per byte budget: Redis serves other clients between them. Each declares the command
        // keys of the deadlines due now (the script asks for any it finds besides them: includes/declared.lua).
        // A group with nothing due (its entry was lower than its earliest deadline) is set right by the script.
        for (let more = true; more && total < limit;) {
          const ids = await this.redis.zrangebyscore(this.keys.deadlines(group), '-inf', now, 'LIMIT', 0, limit - total)
          const keys = [this.keys.groupBase(group), this.keys.deadlines(group), this.keys.outbox(group), this.keys.outboxOrder(group),
            ...this.keys.groupIndexKeys(group), ...ids.map((id) => this.keys.command(group, id)), ...(this.sweepKeyHints.get(group) ?? [])]
          const learn = (added: string[]): void => { this.rememberSweepKeys(group, added) }
          const reply = decodeClaim(await this.scripts.run('claim-due-2', keys, [now, limit - total, group, this.slackMs, this.sweepBudgetBytes], learn))
          total += reply.timedOut
          if (reply.withoutRecord > 0) this.reportDeadlinesWithoutRecord(group, reply.withoutRecord)
          more = reply.stoppedAtBudget
        }
      }
      return total
    })
    if (claimed > 0) this.notifyOutbox()
    return claimed
  }

  async readOutbox (limit: number): Promise<CallbackEvent[]> {
    if (limit <= 0) return []
    return await this.guard(async () => {
      const groups = await this.outboxGroups()
      const replies = await Promise.all(groups.map((g) => this.scripts.run('read-outbox-2', [this.keys.outboxOrder(g), this.keys.outbox(g)], [limit])))
      const entries: Array<OutboxEntry & { group: string }> = []
      const decoded = replies.map((reply) => decodeOutbox(reply))
      // A group in the index whose outbox is empty (acknowledged by an instance of an older version) leaves it.
      const quiet = groups.filter((_g, i) => decoded[i]!.length === 0)
      await Promise.all(quiet.map((g) => this.scripts.run('ack-outbox-3', this.ackKeys(g), [g])))
      const replicated = await Promise.all(groups.map(async (g, i) => decoded[i]!.length === 0 || await this.outboxReplicated(g)))
      decoded.forEach((list, i) => { if (replicated[i] === true) for (const entry of list) entries.push({ ...entry, group: groups[i]! }) })
      entries.sort((a, b) => a.at - b.at || a.event.id.localeCompare(b.event.id))
      const oldest = entries.slice(0, limit)
      if (this.ackHints.size > 100_000) this.ackHints.clear()
      for (const entry of oldest) this.ackHints.set(entry.event.id, entry.group)
      return oldest.map((entry) => entry.event)
    })
  }

  /**
   * Enters every registered group that has work in the index (`reindex-group-4`): for data the index does not
   * describe, written before it existed or by an instance of an older version during a rolling upgrade. Run
   * at start and every `broker.redis.reindex-interval-ms`; returns how many groups had work.
   */
  async reindex (): Promise<number> {
    return await this.guard(async () => {
      const groups = await this.redis.smembers(this.keys.groups())
      let withWork = 0
      for (let i = 0; i < groups.length; i += REINDEX_CHUNK) {
        const replies = await Promise.all(groups.slice(i, i + REINDEX_CHUNK).map(async (g) => await this.scripts.run('reindex-group-4',
          [this.keys.deadlines(g), this.keys.outboxOrder(g), ...this.keys.groupIndexKeys(g)], [g]) as [number, number]))
        withWork += replies.filter(([deadlines, events]) => deadlines === 1 || events === 1).length
      }
      return withWork
    })
  }

  /**
   * With wait-replicas: whether what the group's master holds (the outbox events just read among it) has
   * reached the replicas. WAIT counts up to the caller's own last write, so a fence write comes first; its
   * offset is past every earlier write of that master. Not yet: the events are left for a later read, so no
   * callback goes out for a state a failover could still drop (the old master's answer, its timeout).
   */
  private async outboxReplicated (group: string): Promise<boolean> {
    if (this.wait === undefined) return true
    try {
      await writeAndWait(this.redis, this.wait, (pipeline) => pipeline.set(this.keys.replicationFence(group), '1', 'PX', 60_000))
      return true
    } catch (err) {
      if (err instanceof ReplicationShortError) return false
      throw err
    }
  }

  async ackOutbox (ids: string[]): Promise<void> {
    if (ids.length === 0) return
    await this.guard(async () => {
      // The group of an event this instance read is known; any other id is removed from every outbox the index names.
      const everyGroup = ids.some((id) => !this.ackHints.has(id)) ? await this.outboxGroups() : []
      const byGroup = new Map<string, string[]>()
      for (const id of ids) {
        const hinted = this.ackHints.get(id)
        for (const group of hinted === undefined ? everyGroup : [hinted]) {
          const list = byGroup.get(group)
          if (list === undefined) byGroup.set(group, [id])
          else list.push(id)
        }
      }
      const acks: Array<Promise<unknown>> = []
      for (const [group, groupIds] of byGroup) {
        for (let i = 0; i < groupIds.length; i += ACK_CHUNK) {
          acks.push(this.scripts.run('ack-outbox-3', this.ackKeys(group), [group, ...groupIds.slice(i, i + ACK_CHUNK)]))
        }
      }
      await Promise.all(acks)
      for (const id of ids) this.ackHints.delete(id)
    })
  }

  onBoxActivity (listener: (bid: string) => void): () => void {
    return this.signals.onBoxActivity(listener)
  }

  onOutbox (listener: () => void): () => void {
    return this.signals.onOutbox(listener)
  }

  /**
   * Subscribes the sharded channel of the box's group while a long poll waits; in broadcast mode counts the box, so that
   * the subscriber's reconnection wakes it (what was published while it was away reached nobody).
   */
  async watchBox (bid: string): Promise<() => void> {
    if (this.wake.mode === 'broadcast') return this.wake.watchBroadcast(bid)
    const ref = await this.resolveBox(bid).catch(() => null)
    return ref === null ? () => {} : await this.wake.watchGroup(ref.group, bid)
  }

  /** How wake-ups travel (broadcast or sharded channels). */
  get signalMode (): WakeSignalMode { return this.wake.mode }

  /** The dev listing (redis-peek.ts): read-only, built on first use. */
  async peekCommands (options: PeekOptions, now: number): Promise<PeekedCommand[]> {
    this.peeker ??= new RedisCommandPeeker(this.redis, this.keys, this.scriptsDir)
    const peeker = this.peeker
    return await this.guard(() => peeker.peek(options, now))
  }

  async ping (): Promise<void> {
    await this.guard(() => this.redis.ping())
  }

  /**
   * Why this instance must not use the data under its prefix (written in another key layout: layout-check.ts), or
   * undefined; also undefined when Redis does not answer (checked again at the next start).
   */
  async layoutConflict (): Promise<string | undefined> {
    try { return await layoutConflict(this.redis, this.keys) } catch { return undefined }
  }

  /** Quits both connections (the API connection and the subscriber). */
  async close (): Promise<void> {
    clearInterval(this.reindexTimer)
    await this.reindexing
    this.signals.clear()
    await Promise.all([closeConnection(this.redis), closeConnection(this.subscriber)])
  }

  /** Box id -> where it leads: from the LRU (one round trip per device call), else the global index. */
  private async resolveBox (bid: string): Promise<BoxRef | null> {
    if (!isUuid(bid)) return null
    const cached = this.boxes.get(bid)
    if (cached !== undefined) return cached
    const raw = await this.redis.get(this.keys.boxIndex(bid))
    const ref = raw === null ? null : decodeBoxRef(raw)
    if (ref !== null) this.boxes.set(bid, ref)
    return ref
  }

  /** KEYS of the scripts on a box: the group base, the box, and the keys a terminal step writes (deadlines, outbox). */
  private boxKeys (ref: BoxRef): string[] {
    const target = ref.kind === 'tmp' ? this.keys.command(ref.group, ref.commandId) : this.keys.namedBox(ref.group, ref.name)
    const keys = [this.keys.groupBase(ref.group), target, ...this.finishKeys(ref.group)]
    if (ref.kind === 'named') keys.push(this.keys.namedBoxPending(ref.group, ref.name))
    return keys
  }

  /**
   * KEYS of read and answer: boxKeys, plus what an earlier call on this message had to add (a named box's
   * message leads to a command key the caller cannot know, and to the command's other named boxes).
   */
  private messageKeys (ref: BoxRef, mid: string): string[] {
    const keys = this.boxKeys(ref)
    return ref.kind === 'named' ? [...keys, ...(this.messageKeyHints.get(mid) ?? [])] : keys
  }

  private learner (mid: string): (added: string[]) => void {
    return (added) => { this.messageKeyHints.set(mid, [...(this.messageKeyHints.get(mid) ?? []), ...added]) }
  }

  /** The named boxes' pending indexes a group's sweeps had to add lately (the most recent 256): passed up front next time. */
  private rememberSweepKeys (group: string, added: string[]): void {
    const pending = added.filter((key) => key.startsWith(this.keys.groupBase(group) + GROUP_KEY_SUFFIX.namedBoxPending))
    if (pending.length === 0) return
    const known = new Set([...(this.sweepKeyHints.get(group) ?? []), ...pending])
    this.sweepKeyHints.set(group, [...known].slice(-256))
  }

  /** KEYS of the scripts on one command: base, command, deadlines, outbox (its named boxes' indexes are asked for). */
  private commandKeys (group: string, commandId: string): string[] {
    return [this.keys.groupBase(group), this.keys.command(group, commandId), ...this.finishKeys(group)]
  }

  /** What a terminal step writes besides the command: deadlines, outbox, and the bucket's set of groups with outbox events. */
  private finishKeys (group: string): string[] {
    return [this.keys.deadlines(group), this.keys.outbox(group), this.keys.outboxOrder(group), this.keys.groupIndexKeys(group)[1]]
  }

  private ackKeys (group: string): string[] {
    return [this.keys.outboxOrder(group), this.keys.outbox(group), this.keys.groupIndexKeys(group)[1]]
  }

  /** Every bucket of the index: [0] on a standalone Redis, 0..B-1 on a Cluster. */
  private buckets (): number[] {
    return Array.from({ length: this.keys.bucketCount }, (_v, b) => b)
  }

  /** The groups whose outbox may hold events: one SMEMBERS per bucket. */
  private async outboxGroups (): Promise<string[]> {
    return (await Promise.all(this.buckets().map((b) => this.redis.smembers(this.keys.outboxGroups(b))))).flat()
  }

  private emitting<T> (decoded: { result: T, emitted: boolean }): T {
    if (decoded.emitted) this.notifyOutbox()
    return decoded.result
  }

  private notifyOutbox (): void { this.signals.outboxAppended() }

  private announce (bid: string): void { this.signals.boxActivity(bid) }

  private async guard<T> (fn: () => Promise<T>): Promise<T> {
    try { return await fn() } catch (err) { throw toStoreError(err) }
  }

  /** One re-index at a time, its failures logged (Redis away: the next connect or interval does it). */
  private reindexInBackground (): void {
    if (this.reindexing !== undefined) return
    this.reindexing = this.reindex()
      .then((withWork) => { if (withWork > 0) this.logger?.debug({ groups: withWork }, 'groups with work re-entered in the index') })
      .catch((err: Error) => this.connectionLog.error('re-index', err))
      .finally(() => { this.reindexing = undefined })
  }

  private async checkEvictionPolicy (): Promise<void> {
    const warning = await evictionPolicyWarning(this.redis)
    this.currentWarnings = warning === undefined ? [] : [warning]
    if (warning !== undefined) this.logger?.warn(warning)
  }

  /** Counted every time, logged at most once a minute per group. */
  private reportDeadlinesWithoutRecord (group: string, count: number): void {
    this.onDeadlinesWithoutRecord?.(count)
    this.lostDeadlineLog.warn(group, 'lost', { group, count })
  }
}

/** The first two ARGV of the device scripts: the kind of box and, for `@tmp`, its command id. */
function refArgs (ref: BoxRef): [string, string] {
  return ref.kind === 'tmp' ? ['t', ref.commandId] : ['n', '']
}
