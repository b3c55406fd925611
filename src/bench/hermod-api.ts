// The three roles' requests against the Hermod API: a server system's accept, a device's read and answer.
import { BenchClient, HttpStatusError } from './http-client.js'

/** Where the broker under test is and who the bench posts as. */
export interface BenchTarget {
  /** `https://127.0.0.1:20400` */
  origin: string
  /** context-path + uri-base, e.g. `/hermod/rest` (may be empty). */
  prefix: string
  /** The X-Api-Key of a client whose callback-url points at the bench's receiver (round trips). */
  apiKey: string
}

/** The payload of the documented Hermod sign command, minified (what a device reads back). */
export const SIGN_PAYLOAD = JSON.stringify({
  signCommand: {
    params: {
      description: [{ content_encoding: 'base64', content_type: 'text/plain', data: 'UGVyc29uYWw=', description: 'Signing request from', key: 'requester', visible: true }],
      filter: { op: 'eq', param: 'key.type', value: 'RSA' },
      format: 'pkcs7',
      mechanism: 'CKM_SHA256_RSA_PKCS',
      tbs: [{ content_encoding: 'base64', content_type: 'text/plain', data: 'VHJhbnNmZXIgNTAwIFVTRCBmcm9tIENheW1hbiBJc2xhbmQgdG8gSG9sZWJyb29rIEx0ZC4=', description: 'Text to sign', key: 'tbs', visible: true }]
    }
  }
})

/** Bytes of the payload the broker stores per command (the body without commandHeader). */
export const SIGN_PAYLOAD_BYTES = Buffer.byteLength(SIGN_PAYLOAD)

/** A device's answer with a 256-byte signature (base64), as the round trips send it. */
export const DEVICE_ANSWER = JSON.stringify({ status: 'OK', response: { signature: Buffer.alloc(256, 0x5a).toString('base64') } })

/** The JSON text of a sign command: the documented payload under a header with these times (seconds). */
export function signCommandBody (timeoutSeconds: number, lifespanSeconds = timeoutSeconds): string {
  return `{"commandHeader":{"timeout":${timeoutSeconds},"lifespan":${lifespanSeconds},"to":["@tmp"]},${SIGN_PAYLOAD.slice(1)}`
}

/** What a round trip needs from an accept answer. */
export interface Accepted {
  commandId: string
  bid: string
  mid: string
}

/** The Hermod API as the bench drives it; every method throws HttpStatusError on an unexpected status. */
export class HermodApi {
  private readonly headers: Record<string, string>

  constructor (readonly client: BenchClient, readonly target: BenchTarget) {
    this.headers = { 'x-api-key': target.apiKey }
  }

  /** POSTs a sign command; the answer is checked for 200 and not parsed. */
  async acceptOnly (body: string): Promise<void> {
    const res = await this.client.send('POST', `${this.target.prefix}/command/sign`, this.headers, body)
    if (res.status !== 200) throw new HttpStatusError(res.status, res.body)
  }

  /** POSTs a sign command and returns its id and first destination. */
  async accept (body: string): Promise<Accepted> {
    const res = await this.client.send('POST', `${this.target.prefix}/command/sign`, this.headers, body)
    if (res.status !== 200) throw new HttpStatusError(res.status, res.body)
    const parsed = JSON.parse(res.body) as { commandId: string, destinations: Array<{ bid: string, mid: string }> }
    const d = parsed.destinations[0]!
    return { commandId: parsed.commandId, bid: d.bid, mid: d.mid }
  }

  /** The device reads its message (GET ms/{bid}/{mid}). */
  async read (bid: string, mid: string): Promise<void> {
    const res = await this.client.send('GET', `${this.target.prefix}/ms/${bid}/${mid}`, {})
    if (res.status !== 200) throw new HttpStatusError(res.status, res.body)
  }

  /** The device answers it (POST ms/{bid}/{mid}). */
  async answer (bid: string, mid: string, body: string = DEVICE_ANSWER): Promise<void> {
    const res = await this.client.send('POST', `${this.target.prefix}/ms/${bid}/${mid}`, {}, body)
    if (res.status !== 200) throw new HttpStatusError(res.status, res.body)
  }
}
