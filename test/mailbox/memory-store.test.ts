// The store contract on the embedded (memory) driver.
import t from 'tap'
import { MemoryMailboxStore } from '../../src/mailbox/memory-store.js'
import { storeContract } from './store-contract.js'

storeContract(t, async () => {
  const store = new MemoryMailboxStore()
  return { store, peer: store, close: () => store.close() }
})
