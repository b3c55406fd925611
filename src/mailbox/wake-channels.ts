// Long-poll wake-ups over Redis pub/sub: one broadcast channel (standalone), or a sharded channel per group (Cluster).
import { Cluster } from 'ioredis'
import type { RedisKeys } from './keys.js'

/**
 * `broadcast`: every wake-up goes to `<prefix>:wake` (PUBLISH / SUBSCRIBE); on a Cluster every node
 * forwards every message to every other one. `sharded`: each group has its channel
 * `<group base>wake` in the group's slot (keys.ts; SPUBLISH / SSUBSCRIBE, Redis 7), served by the
 * group's master alone, and an instance subscribes only to the groups it has long polls on.
 */
export type WakeSignalMode = 'broadcast' | 'sharded'

/** The mode for a connection: `sharded` on a Cluster, `broadcast` on a standalone (or Sentinel) Redis. */
export function wakeSignalModeFor (client: unknown): WakeSignalMode {
  return client instanceof Cluster ? 'sharded' : 'broadcast'
}

/**
 * After the subscriber is subscribed again (`subscribersReady` on a Cluster, `ready` after a reconnect otherwise), the
 * waited boxes are woken this much later, once for a burst of them (a failover fires dozens in a second while the slot
 * map settles), ms.
 */
const RESUBSCRIBED_WAKE_DELAY_MS = 250

/** Longest a long poll waits for its group's subscription before it lists anyway (Redis away or hung), ms. */
const SUBSCRIBE_WAIT_MS = 1_000

/**
 * What the channels need of the subscriber connection: classic and sharded subscriptions (ioredis Redis and Cluster both
 * have them), on a Cluster its `subscribersReady` event (its sharded subscribers were set up again for a new slot map),
 * otherwise its `ready` (connected again, the channel subscribed again: ioredis's autoResubscribe).
 */
interface Subscriber {
  subscribe: (...channels: string[]) => Promise<unknown>
  ssubscribe: (...channels: string[]) => Promise<unknown>
  sunsubscribe: (...channels: string[]) => Promise<unknown>
  on: ((event: 'message' | 'smessage', listener: (channel: string, message: string) => void) => unknown) &
  ((event: 'subscribersReady' | 'ready', listener: () => void) => unknown)
}

/**
 * The channel names, and the subscriber's side: `watchGroup(group)` resolves once wake-ups of that
 * group arrive here (at once in broadcast mode, where the one channel is always subscribed), and
 * returns the release; the last release of a group unsubscribes its sharded channel.
 */
export class WakeChannels {
  /** Per watched group: its long polls, the boxes they wait on (count per box), the SSUBSCRIBE. */
  private readonly groups = new Map<string, { watchers: number, boxes: Map<string, number>, subscribed: Promise<void> }>()
  /** Broadcast mode: the boxes long polls wait on (count per box), woken after a reconnection. */
  private readonly waitedBoxes = new Map<string, number>()
  private resubscribedWake: NodeJS.Timeout | undefined

  constructor (
    readonly mode: WakeSignalMode,
    private readonly keys: RedisKeys,
    private readonly subscriber: Subscriber,
    private readonly onWake: (bid: string) => void,
    private readonly onError: (err: Error) => void
  ) {}

  /** Starts listening; in broadcast mode also subscribes the one channel (the promise the store waits for at start). */
  async start (): Promise<void> {
    const broadcast = this.keys.wakeChannel()
    if (this.mode === 'broadcast') {
      this.subscriber.on('message', (channel: string, bid: string) => { if (channel === broadcast) this.onWake(bid) })
      // A reconnection (Redis restarted, a Sentinel failover): what was published while the subscriber was away
      // reached nobody. The first `ready` (before the subscription below) finds no box waited on.
      this.subscriber.on('ready', () => this.wakeWaitedSoon())
      await this.subscriber.subscribe(broadcast)
    } else {
      this.subscriber.on('smessage', (channel: string, bid: string) => { if (this.isGroupChannel(channel)) this.onWake(bid) })
      // A slot that changed master (CLUSTER FAILOVER, a dead master replaced, a migration): ioredis subscribes its channels
      // on the new master once it has the new slot map, but what was published in between reached nobody.
      this.subscriber.on('subscribersReady', () => this.wakeWaitedSoon())
    }
  }

  /**
   * Wakes every box waited on, RESUBSCRIBED_WAKE_DELAY_MS from now, once per burst: its long polls list it again, for
   * what was published while the subscription was away (a spurious wake-up only costs a listing).
   */
  private wakeWaitedSoon (): void {
    if (this.resubscribedWake !== undefined) return
    this.resubscribedWake = setTimeout(() => {
      this.resubscribedWake = undefined
      for (const bid of this.waitedBoxes.keys()) this.onWake(bid)
      for (const entry of this.groups.values()) for (const bid of entry.boxes.keys()) this.onWake(bid)
    }, RESUBSCRIBED_WAKE_DELAY_MS)
    this.resubscribedWake.unref()
  }

  /** The channel the accept of a message for a named box of `group` announces its box id on. */
  channelFor (group: string): string {
    return this.mode === 'sharded' ? this.keys.groupWakeChannel(group) : this.keys.wakeChannel()
  }

  /**
   * Makes sure wake-ups of `group` reach this instance; resolves once they do, or after at most a second
   * (the subscriber queues the SSUBSCRIBE while Redis is away and sends it on reconnect; the listing then
   * answers for itself). A subscription that fails is reported to onError: the long poll ends at its deadline.
   * @param bid the box the long poll waits on: woken when the group's subscription had to move to another node
   * @returns the release: call it once when the long poll ends
   */
  async watchGroup (group: string, bid?: string): Promise<() => void> {
    if (this.mode === 'broadcast') return () => {}
    let entry = this.groups.get(group)
    if (entry === undefined) {
      const subscribed = this.subscriber.ssubscribe(this.keys.groupWakeChannel(group)).then(() => {}, (err: Error) => this.onError(err))
      entry = { watchers: 0, boxes: new Map(), subscribed }
      this.groups.set(group, entry)
    }
    entry.watchers++
    if (bid !== undefined) entry.boxes.set(bid, (entry.boxes.get(bid) ?? 0) + 1)
    const watched = entry
    let timer: NodeJS.Timeout | undefined
    await Promise.race([watched.subscribed, new Promise<void>((resolve) => { timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS) })])
    clearTimeout(timer)
    let released = false
    return () => {
      if (released) return
      released = true
      if (bid !== undefined) {
        const left = (watched.boxes.get(bid) ?? 1) - 1
        if (left > 0) watched.boxes.set(bid, left)
        else watched.boxes.delete(bid)
      }
      if (--watched.watchers > 0 || this.groups.get(group) !== watched) return
      this.groups.delete(group)
      // Commands on one connection run in order: a new SSUBSCRIBE of the group issued after this one wins.
      this.subscriber.sunsubscribe(this.keys.groupWakeChannel(group)).catch((err: Error) => this.onError(err))
    }
  }

  /**
   * Broadcast mode: counts a long poll on `bid` (the one channel is always subscribed), so that a reconnection wakes it;
   * returns the release, to call once when the long poll ends.
   */
  watchBroadcast (bid: string): () => void {
    this.waitedBoxes.set(bid, (this.waitedBoxes.get(bid) ?? 0) + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.waitedBoxes.get(bid) ?? 1) - 1
      if (left > 0) this.waitedBoxes.set(bid, left)
      else this.waitedBoxes.delete(bid)
    }
  }

  /** Groups with a sharded subscription now (tests, metrics). */
  get watchedGroups (): number { return this.groups.size }

  private isGroupChannel (channel: string): boolean {
    // `{prefix}:{g:<group>}:wake`, or `{prefix}:{gb:<b>:<salt>}:g:<group>:wake` in the Cluster layout (keys.ts).
    return channel.startsWith(`${this.keys.prefix}:{g`) && channel.endsWith(':wake')
  }
}
