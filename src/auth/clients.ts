// The registry of allowed clients: looked up per request and per callback, swapped on reload.
import type { ClientConfig } from '../config/types.js'

/** Read access to the current `allowed-clients`; replaced as a whole on SIGHUP. */
export class ClientRegistry {
  private byId = new Map<string, ClientConfig>()

  constructor (clients: readonly ClientConfig[]) {
    this.replace(clients)
  }

  get (clientId: string): ClientConfig | undefined {
    return this.byId.get(clientId)
  }

  get size (): number { return this.byId.size }

  all (): ClientConfig[] { return [...this.byId.values()] }

  replace (clients: readonly ClientConfig[]): void {
    const next = new Map<string, ClientConfig>()
    for (const client of clients) next.set(client.clientId, client)
    this.byId = next
  }
}
