// ClientParking and parkDelayMs on their own: which parked job a freed slot wakes, under interleavings Redis makes rare.
import t from 'tap'
import { ClientParking, parkDelayMs } from '../../src/callbacks/bullmq-parking.js'

/** A promoter whose answers the test releases one by one, recording what it was asked to promote. */
function controlledPromoter () {
  const asked: string[] = []
  const pending: Array<(promoted: boolean) => void> = []
  const promote = async (jobId: string): Promise<boolean> => {
    asked.push(jobId)
    return await new Promise<boolean>(resolve => pending.push(resolve))
  }
  return { asked, promote, answer: (promoted: boolean) => { pending.shift()?.(promoted) } }
}

t.test('a job parked while a wake-up is in flight is not forgotten when the woken job is taken first', async t => {
  const parking = new ClientParking()
  const promoter = controlledPromoter()
  parking.usePromoter(promoter.promote)
  parking.park('c', 'a')
  const waking = parking.wake('c') // asks Redis to promote a
  parking.taken('c', 'a') // the worker takes a before the promote reply is read
  parking.park('c', 'b') // and parks b meanwhile
  promoter.answer(true)
  await waking
  t.equal(parking.count('c'), 1, 'b is still parked')
  const next = parking.wake('c')
  promoter.answer(true)
  await next
  t.same(promoter.asked, ['a', 'b'], 'the next slot wakes b')
  t.equal(parking.count(), 0)
})

t.test('wake skips jobs no longer delayed and promotes the oldest one that is; parked again moves to the back', async t => {
  const parking = new ClientParking()
  const promoter = controlledPromoter()
  parking.usePromoter(promoter.promote)
  for (const id of ['a', 'b', 'c']) parking.park('x', id)
  parking.park('y', 'other')
  parking.park('x', 'a') // a came back and parked again
  const waking = parking.wake('x')
  promoter.answer(false) // b: already back by its own delay
  await new Promise(resolve => setImmediate(resolve))
  promoter.answer(true) // c
  await waking
  t.same(promoter.asked, ['b', 'c'])
  t.same([parking.count('x'), parking.count('y')], [1, 1], 'a of x and the other client\'s job stay parked')
})

t.test('a promoter that fails (Redis away) stops the wake-up; the job is left to its fallback delay', async t => {
  const parking = new ClientParking()
  parking.usePromoter(async () => { throw new Error('redis down') })
  parking.park('x', 'a')
  parking.park('x', 'b')
  await parking.wake('x')
  t.equal(parking.count('x'), 1, 'one attempt per wake-up, b still parked')
})

t.test('parkDelayMs: twice the attempt budget plus a second, capped at 5 minutes, jittered ±25 %, never growing', async t => {
  t.equal(parkDelayMs(15_000, () => 0.5), 31_000)
  t.equal(parkDelayMs(15_000, () => 0), 23_250)
  t.equal(parkDelayMs(15_000, () => 0.999999), 38_750)
  t.equal(parkDelayMs(600_000, () => 0.5), 300_000, 'capped')
})
