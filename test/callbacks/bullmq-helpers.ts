// The BullMQ callback tests' harness: a started queue on a given Redis, with its settled events, attempts and log.
import type { ClientRegistry } from '../../src/auth/clients.js'
import { BullmqCallbackQueue, type BullmqCallbackQueueOptions } from '../../src/callbacks/bullmq-queue.js'
import { CallbackDeliverer } from '../../src/callbacks/deliverer.js'
import type { AttemptReport, SettledResult } from '../../src/callbacks/memory-queue.js'
import type { CallbackConfig } from '../../src/config/types.js'
import type { CallbackEvent } from '../../src/mailbox/types.js'
import { captureLogger, type WithTeardown } from './helpers.js'

let prefixes = 0
/** A key prefix no other test (or test process) uses. */
export const freshPrefix = (): string => `cbq${process.pid}t${++prefixes}`

export interface BullmqHarness {
  queue: BullmqCallbackQueue
  prefix: string
  settled: Array<{ event: CallbackEvent, result: SettledResult }>
  attempts: Array<{ event: CallbackEvent, report: AttemptReport }>
  log: ReturnType<typeof captureLogger>
}

export type BullmqHarnessExtra = Partial<BullmqCallbackQueueOptions> & { prefix?: string, url?: string }

/** A harness factory for the Redis at `redisUrl`: each call starts a queue (worker included unless role api), closed at teardown. */
export function bullmqHarness (redisUrl: string) {
  return async function harness (
    t: WithTeardown, clients: ClientRegistry, config: CallbackConfig, extra: BullmqHarnessExtra = {}
  ): Promise<BullmqHarness> {
    const log = captureLogger()
    const deliverer = new CallbackDeliverer({ clients, config, logger: log.logger })
    const settled: BullmqHarness['settled'] = []
    const attempts: BullmqHarness['attempts'] = []
    const { prefix = freshPrefix(), url = redisUrl, ...rest } = extra
    const queue = new BullmqCallbackQueue({
      redis: { url, prefix, options: {} },
      deliverer,
      config,
      logger: log.logger,
      onAttempt: (event, report) => attempts.push({ event, report }),
      onSettled: (event, result) => settled.push({ event, result }),
      ...rest
    })
    t.teardown(async () => {
      await queue.close()
      await deliverer.close()
    })
    queue.start()
    await queue.waitUntilReady()
    return { queue, prefix, settled, attempts, log }
  }
}
