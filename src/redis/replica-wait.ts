// `broker.redis.wait-replicas`: a write followed by WAIT on the node that took it, and what a short count means.
import type { ChainableCommander } from 'ioredis'
import { StoreUnavailableError } from '../mailbox/store.js'
import type { RedisClient } from './topology.js'

/** How many replicas must have a state change, and how long one WAIT may take (ms). */
export interface ReplicaWait { replicas: number, timeoutMs: number }

/**
 * The change was written on the master but fewer replicas than `broker.redis.wait-replicas` confirmed
 * it in time: a failover now may lose it. Answered 503 HERMOD_STORE_NOT_REPLICATED; the change may be
 * stored (a retry with the same Idempotency-Key finds it, an answer's retry reads as already decided).
 */
export class ReplicationShortError extends StoreUnavailableError {
  override name = 'ReplicationShortError'
  constructor (readonly confirmed: number, readonly wanted: number) {
    super(`the change reached ${confirmed} of ${wanted} replicas in time; it may be lost if the master fails now`)
  }
}

/**
 * Runs the commands `build` queues as one pipeline followed by `WAIT replicas timeoutMs`: the pipeline
 * goes to one node (on a Cluster, the one serving the commands' slot), so WAIT counts the replicas of
 * the node that took the writes. Resolves with the first command's reply.
 * @throws the first command's error, or ReplicationShortError when WAIT counts fewer replicas
 */
export async function writeAndWait (
  client: RedisClient, wait: ReplicaWait, build: (pipeline: ChainableCommander) => unknown
): Promise<unknown> {
  const pipeline = client.pipeline()
  build(pipeline)
  pipeline.call('WAIT', wait.replicas, wait.timeoutMs)
  const results = await pipeline.exec()
  if (results === null) throw new StoreUnavailableError('the store is unavailable: the pipeline was discarded')
  const first = results[0]
  if (first?.[0] !== null && first?.[0] !== undefined) throw first[0]
  const waited = results[results.length - 1]!
  if (waited[0] !== null) throw waited[0]
  const confirmed = Number(waited[1])
  if (confirmed < wait.replicas) throw new ReplicationShortError(confirmed, wait.replicas)
  return first?.[1]
}
