// The proposed lean accept reply (bench/accept-script-edits.ts LEAN_REPLY): the store's whole contract holds with it,
// and an accept gives the same record as with the shipped script. Lets the coordinator apply the Lua edit knowing the TS side reads it.
import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import t from 'tap'
import { LEAN_REPLY, editedScriptsDir } from '../../bench/accept-script-edits.js'
import { loadScript } from '../../src/mailbox/redis-scripts.js'
import { T0, adminClient, freshPrefix, openStore, request, storeFor } from '../helpers/redis-store-fixtures.js'
import { startRedis } from '../helpers/redis-server.js'
import { storeContract } from './store-contract.js'

const redis = await startRedis()
t.teardown(async () => { await redis.destroy() })
const leanDir = editedScriptsDir(LEAN_REPLY)
t.teardown(() => { rmSync(leanDir, { recursive: true, force: true }) })

t.test('the store contract with the lean accept reply', async (t) => {
  storeContract(t, async () => {
    const prefix = freshPrefix()
    const store = await openStore(redis.url, prefix, { scriptsDirectory: leanDir })
    const peer = await openStore(redis.url, prefix, { scriptsDirectory: leanDir })
    return { store, peer, close: async () => { await Promise.all([store.close(), peer.close()]) } }
  })
})

t.test('the lean reply gives the record the shipped script gives, and the record read back', async (t) => {
  const admin = adminClient(t, redis.url)
  const lean = await storeFor(t, redis.url, freshPrefix(), { scriptsDirectory: leanDir })
  const shipped = await storeFor(t, redis.url, freshPrefix())
  const req = request({ to: ['@tmp', 'desk', '@tmp'], externalId: 'order-17' })
  const a = (await lean.accept(req, T0)).command
  const b = (await shipped.accept(req, T0)).command
  const leanSha = createHash('sha1').update(loadScript(leanDir, 'accept-4')).digest('hex')
  t.same(await admin.script('EXISTS', leanSha), [1], 'the edited script ran')
  const shape = (c: typeof a): unknown => ({ ...c, commandId: '', destinations: c.destinations.map((d) => ({ to: d.to })) })
  t.same(shape(a), shape(b), 'the same fields and values but the fresh ids')
  t.same(await lean.getCommand('acme', a.commandId, T0), a, 'what accept answered is what was stored')
  t.equal(a.destinations.length, 3)
  // A second accept to the live named box: the box's id and token come from the script.
  const again = (await lean.accept(request({ to: ['desk'] }), T0 + 1)).command
  t.equal(again.destinations[0]!.bid, a.destinations[1]!.bid)
  t.equal(again.destinations[0]!.token, a.destinations[1]!.token)
  t.same(await lean.getCommand('acme', again.commandId, T0 + 1), again)
})
