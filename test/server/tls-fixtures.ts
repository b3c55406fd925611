// Test helpers for TLS: certificates made at test time, PKCS#12 bundles, a real https server and raw TLS clients.
import { createServer, type ServerOptions } from 'node:https'
import type { AddressInfo } from 'node:net'
import { connect, type ConnectionOptions } from 'node:tls'
import forge from 'node-forge'
import { generate } from 'selfsigned'
import type { Test } from 'tap'

/** An RSA certificate for `commonName` (also its DNS SAN); with `asCa`, a CA that also issued a client certificate. */
export async function makeCertificate (commonName: string, asCa = false): Promise<Awaited<ReturnType<typeof generate>>> {
  return await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: asCa },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: asCa },
      { name: 'subjectAltName', altNames: [{ type: 2, value: commonName }] }
    ],
    ...(asCa ? { clientCertificate: { cn: 'client.example', algorithm: 'sha256' } } : {})
  })
}

/** A PKCS#12 bundle as node-forge writes it (AES key bag, SHA-1 MAC): one OpenSSL 3 reads natively. */
export function pkcs12WithForge (pems: { private: string, cert: string }, password: string): Buffer {
  const asn1 = forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(pems.private), [forge.pki.certificateFromPem(pems.cert)], password, { algorithm: 'aes256' })
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary')
}

/** A listening https server answering `ok`, closed after the test. */
export async function serve (t: Test, options: ServerOptions): Promise<{ port: number }> {
  const server = createServer(options, (_request, response) => { response.end('ok') })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  return { port: (server.address() as AddressInfo).port }
}

/** Completes a TLS handshake (verification off unless `ca` is given) and reports it; rejects on a handshake error. */
export async function connectTls (port: number, options: ConnectionOptions): Promise<{ authorized: boolean, protocol: string | null }> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: options.ca !== undefined, ...options }, () => {
      resolve({ authorized: socket.authorized, protocol: socket.getProtocol() })
      socket.destroy()
    })
    socket.once('error', reject)
  })
}

/** Sends one HTTP request over TLS: `ok` when the server answers, else the error that ended the connection. */
export async function requestOverTls (port: number, options: ConnectionOptions): Promise<string> {
  return await new Promise(resolve => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    })
    let received = ''
    socket.on('data', (chunk: Buffer) => { received += chunk.toString() })
    socket.once('error', (error: NodeJS.ErrnoException) => { resolve(`error ${error.code ?? error.message}`) })
    socket.once('close', () => { resolve(received.endsWith('ok') ? 'ok' : `closed ${received}`) })
  })
}
