// Shared pieces of the callback tests: events, configs, a real receiver, a captured logger, test CAs.
import { once } from 'node:events'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import forge from 'node-forge'
import pino, { type Logger } from 'pino'
import { ClientRegistry } from '../../src/auth/clients.js'
import type { CallbackConfig, ClientConfig } from '../../src/config/types.js'
import type { CallbackEvent } from '../../src/mailbox/types.js'
import { callbackEventId } from '../../src/mailbox/types.js'

let counter = 0

/** The part of a tap test the helpers need. */
export interface WithTeardown {
  teardown: (fn: () => unknown) => void
}

/** A terminal SIGN event with a device response; overrides win. */
export function makeEvent (overrides: Partial<CallbackEvent> = {}): CallbackEvent {
  const commandId = overrides.commandId ?? String(++counter + 680)
  const createdAt = Date.UTC(2026, 0, 1, 10, 0, 0)
  return {
    id: callbackEventId(commandId, overrides.state ?? 'COMPLETED', createdAt),
    clientId: 'prime1',
    group: 'acme',
    commandId,
    type: 'sign',
    state: 'COMPLETED',
    externalId: 'order-17',
    destination: { to: '@tmp', bid: '11318956-2040-4360-941d-437e4ddd810c', mid: '14fc191a-a0a3-4ae3-929a-e37efafdb510' },
    response: '{"jws":"eyJhbGciOiJSUzI1NiJ9.e30.sig"}',
    createdAt,
    finishedAt: createdAt + 12_345,
    ...overrides
  }
}

/** Callback settings for tests: short delays, small budgets. */
export function makeConfig (overrides: Partial<CallbackConfig> = {}): CallbackConfig {
  return {
    timeoutMs: 2_000,
    attempts: 6,
    backoffBaseMs: 10,
    backoffMaxMs: 200,
    retryAfterMaxMs: 2_000,
    concurrency: 4,
    perClientConcurrency: 1,
    insecureSkipVerify: false,
    deadLetterMax: 100,
    lockDurationMs: 10_000,
    stalledIntervalMs: 5_000,
    ...overrides
  }
}

export function makeClient (overrides: Partial<ClientConfig> = {}): ClientConfig {
  return {
    clientId: 'prime1',
    key: '079b6a64d75b4e9585bd0c24f36a7deba0ad03498ecf4d69b5766f24fa02e045',
    group: 'acme',
    callbackMode: 'append',
    ...overrides
  }
}

export function registryOf (...clients: ClientConfig[]): ClientRegistry {
  return new ClientRegistry(clients)
}

export interface ReceivedRequest {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
  at: number
}

export type Handler = (req: ReceivedRequest, res: http.ServerResponse, index: number) => void

export interface Receiver {
  /** `http(s)://127.0.0.1:<port>` */
  url: string
  port: number
  requests: ReceivedRequest[]
  close: () => Promise<void>
}

/** A real HTTP (or, with `tls`, HTTPS) server on 127.0.0.1, port 0, recording every request. */
export async function startReceiver (handler: Handler, tls?: { key: string, cert: string }): Promise<Receiver> {
  const requests: ReceivedRequest[] = []
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() }
      requests.push(received)
      handler(received, res, requests.length - 1)
    })
  }
  const server = tls === undefined ? http.createServer(onRequest) : https.createServer(tls, onRequest)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    requests,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

/** A pino logger at debug level whose lines land in `lines` (parsed) and `text` (raw). */
export function captureLogger (): { logger: Logger, lines: Array<Record<string, unknown>>, text: () => string } {
  const raw: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, done) { raw.push(chunk.toString('utf8')); done() }
  })
  const logger = pino({ level: 'debug' }, stream)
  return {
    logger,
    get lines () { return raw.join('').split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>) },
    text: () => raw.join('')
  }
}

/** Polls until `check` is true or `timeoutMs` passes (then throws). */
export async function waitFor (check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

export interface TestPki {
  caPem: string
  caCert: forge.pki.Certificate
  serverKeyPem: string
  serverCertPem: string
}

function certificate (subject: string, publicKey: forge.pki.PublicKey, issuer: forge.pki.Certificate | undefined,
  signingKey: forge.pki.PrivateKey, extensions: object[]): forge.pki.Certificate {
  const cert = forge.pki.createCertificate()
  cert.publicKey = publicKey
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(8))}`
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000)
  cert.setSubject([{ name: 'commonName', value: subject }])
  cert.setIssuer(issuer === undefined ? [{ name: 'commonName', value: subject }] : issuer.subject.attributes)
  cert.setExtensions(extensions)
  cert.sign(signingKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create())
  return cert
}

/**
 * A fresh CA and a server certificate it signed for 127.0.0.1 / localhost.
 * @param options.clientAuth the certificate serves as a client certificate too (Redis Cluster nodes present theirs on the cluster bus)
 */
export function makeTestPki (options: { clientAuth?: boolean } = {}): TestPki {
  const caKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 })
  const caCert = certificate('hermod-broker test CA', caKeys.publicKey, undefined, caKeys.privateKey, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
  ])
  const serverKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 })
  const serverCert = certificate('127.0.0.1', serverKeys.publicKey, caCert, caKeys.privateKey, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true, ...(options.clientAuth === true ? { clientAuth: true } : {}) },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }
  ])
  return {
    caPem: forge.pki.certificateToPem(caCert),
    caCert,
    serverKeyPem: forge.pki.privateKeyToPem(serverKeys.privateKey),
    serverCertPem: forge.pki.certificateToPem(serverCert)
  }
}

/** A certificates-only PKCS#12 trust store holding `certs`, as DER bytes. */
export function pkcs12TrustStore (certs: forge.pki.Certificate[], password: string): Buffer {
  const asn1 = forge.pkcs12.toPkcs12Asn1(null, certs, password, { algorithm: '3des' })
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary')
}
