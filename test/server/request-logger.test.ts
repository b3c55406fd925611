// LazyRequestLogger: the request's pino child is built on the first line written, with the same output.
import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '../../src/server/logger.js'
import { LazyRequestLogger } from '../../src/server/request-logger.js'

function capture (
  level: string
): { logger: ReturnType<typeof createLogger>, lines: () => Array<Record<string, unknown>>, children: () => number } {
  const chunks: string[] = []
  const logger = createLogger({ level, pretty: false }, new Writable({ write (c: Buffer, _e, done) { chunks.push(c.toString()); done() } }))
  let children = 0
  const child = logger.child
  logger.child = function (this: typeof logger, ...args: Parameters<typeof child>) {
    children++
    return child.apply(this, args)
  } as typeof logger.child
  return { logger, lines: () => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)), children: () => children }
}

t.test('nothing logged below the level: no child is built', async (t) => {
  const { logger, lines, children } = capture('warn')
  const log = new LazyRequestLogger(logger, { reqId: 'r-1' })
  log.info({ a: 1 }, 'quiet')
  log.debug('quieter')
  t.equal(children(), 0)
  t.same(lines(), [])
  t.equal(log.level, 'warn')
  t.equal(log.isLevelEnabled('info'), false)
})

t.test('a line at the level is written by the child, with its bindings and redaction', async (t) => {
  const { logger, lines, children } = capture('info')
  const log = new LazyRequestLogger(logger, { reqId: 'r-2' })
  log.info({ commandId: '7', req: { headers: { 'x-api-key': 'secret' } } }, 'command accepted')
  log.warn('again')
  t.equal(children(), 1, 'built once')
  log.child({ sub: 1 }).info('from a child')
  const [first, second, third] = lines()
  t.match(first, { reqId: 'r-2', commandId: '7', msg: 'command accepted', req: { headers: { 'x-api-key': '[redacted]' } } })
  t.match(second, { reqId: 'r-2', msg: 'again' })
  t.match(third, { reqId: 'r-2', sub: 1, msg: 'from a child' }, 'a child of it keeps the request id')
})
