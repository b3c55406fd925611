// The listening server's TLS material from server.ssl.*: a PKCS#12 key store, PEM files, or a self-signed development certificate.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { ServerOptions } from 'node:https'
import { isIP } from 'node:net'
import { Duplex } from 'node:stream'
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls'
import forge from 'node-forge'
import { generate } from 'selfsigned'
import type { SslConfig } from '../config/types.js'
import { keptCertificatePaths, readKeptCertificate, saveKeptCertificate } from './self-signed-store.js'

/** A TLS setting that cannot be used; the message names the file and setting, never a password. */
export class TlsConfigError extends Error {
  readonly code = 'HERMOD_TLS_CONFIG_INVALID'

  constructor (message: string) {
    super(message)
    this.name = 'TlsConfigError'
  }
}

/** What `https.createServer` needs, plus the leaf certificate for logging and for trusting ourselves. */
export interface TlsMaterial {
  options: ServerOptions
  source: 'pkcs12' | 'pem' | 'self-signed'
  /** SHA-256 of the leaf certificate, colon-separated upper-case hex (as browsers and keytool show it). */
  fingerprint256: string
  /** The leaf certificate, PEM. */
  certificatePem: string
  /** Self-signed only: the folder it is kept in, whether it was reused from there, or why it could not be kept. */
  kept?: { dir: string, reused: boolean } | { problem: string }
}

/**
 * Loads the server's TLS material; null when `ssl.enabled` is false. TLS 1.2 is the minimum. A PKCS#12 key store
 * is handed to Node as `pfx`, unless OpenSSL 3 refuses its legacy algorithms (RC2-40 bundles from older keytool):
 * then node-forge decrypts it into PEM. With no key material configured, a self-signed certificate for localhost,
 * 127.0.0.1, ::1 and `opts.hostnames` is used: the one kept under `opts.dataDir` while it is valid and covers
 * those names, else a new one (valid one year), saved there (kept in memory only when the folder is not writable).
 * @throws TlsConfigError for a missing file, a wrong key-store password, an unreadable or mismatched key/certificate
 */
export async function loadTlsMaterial (ssl: SslConfig, opts: { hostnames?: string[], dataDir?: string } = {}): Promise<TlsMaterial | null> {
  if (!ssl.enabled) return null
  const base: ServerOptions = { minVersion: 'TLSv1.2', ...await clientAuthOptions(ssl) }
  let material: KeyMaterial
  if (ssl.keyStore !== undefined) {
    material = await loadKeyStore(ssl.keyStore, ssl.keyStoreType, ssl.keyStorePassword ?? '')
  } else if (ssl.certificate !== undefined || ssl.certificatePrivateKey !== undefined) {
    if (ssl.certificate === undefined || ssl.certificatePrivateKey === undefined) {
      throw new TlsConfigError('server.ssl.certificate and server.ssl.certificate-private-key must be set together')
    }
    const certificate = await readMaterial(ssl.certificate, 'server.ssl.certificate')
    const key = await readMaterial(ssl.certificatePrivateKey, 'server.ssl.certificate-private-key')
    material = pemMaterial(certificate.toString('utf8'), key.toString('utf8'), ssl.certificate, ssl.certificatePrivateKey)
  } else {
    material = await selfSignedMaterial(opts.hostnames ?? [], opts.dataDir)
  }
  return {
    options: { ...base, ...material.options },
    source: material.source,
    fingerprint256: material.leaf.fingerprint256,
    certificatePem: material.leaf.toString(),
    ...(material.kept === undefined ? {} : { kept: material.kept })
  }
}

interface KeyMaterial {
  options: ServerOptions
  source: TlsMaterial['source']
  leaf: X509Certificate
  kept?: TlsMaterial['kept']
}

async function readMaterial (path: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new TlsConfigError(`${setting}: file not found: ${path}`)
    throw new TlsConfigError(`${setting}: cannot read ${path} (${code ?? 'error'})`)
  }
}

async function clientAuthOptions (ssl: SslConfig): Promise<ServerOptions> {
  if (ssl.clientAuth === 'none') return {}
  if (ssl.trustCertificate === undefined) {
    throw new TlsConfigError(`server.ssl.client-auth is ${ssl.clientAuth} but server.ssl.trust-certificate (PEM bundle of client CAs) is not set`)
  }
  const ca = (await readMaterial(ssl.trustCertificate, 'server.ssl.trust-certificate')).toString('utf8')
  if (pemCertificates(ca).length === 0) {
    throw new TlsConfigError(`server.ssl.trust-certificate: ${ssl.trustCertificate} holds no PEM certificate`)
  }
  return { requestCert: true, rejectUnauthorized: ssl.clientAuth === 'need', ca }
}

type KeyStoreFormat = 'pkcs12' | 'pem'

async function loadKeyStore (path: string, declaredType: string | undefined, password: string): Promise<KeyMaterial> {
  const data = await readMaterial(path, 'server.ssl.key-store')
  const format = keyStoreFormat(path, declaredType, data)
  if (format === 'pem') {
    const text = data.toString('utf8')
    return pemMaterial(text, text, path, path)
  }
  return loadPkcs12(path, data, password)
}

/** The format to read: the file's content decides where it is unambiguous, then the declared key-store-type. */
function keyStoreFormat (path: string, declaredType: string | undefined, data: Buffer): KeyStoreFormat {
  const magic = data.subarray(0, 4).toString('hex')
  if (magic === 'feedfeed' || magic === 'cececece') {
    const kind = magic === 'feedfeed' ? 'Java KeyStore (JKS)' : 'Java JCEKS key store'
    throw new TlsConfigError(
      `server.ssl.key-store: ${path} is a ${kind}, which Node cannot read. Convert it to PKCS#12 once with ` +
      `keytool -importkeystore -srckeystore ${path} -destkeystore ${path.replace(/\.(jks|jceks|ks)$/i, '')}.p12 -deststoretype PKCS12 ` +
      '(keytool asks for both passwords), then set server.ssl.key-store to the .p12 file and server.ssl.key-store-type to PKCS12')
  }
  if (data.subarray(0, 64).toString('latin1').includes('-----BEGIN')) return 'pem'
  const type = declaredType?.trim().toUpperCase()
  if (type === undefined || ['PKCS12', 'P12', 'PFX', 'JKS'].includes(type)) return 'pkcs12'
  if (type === 'PEM') return 'pem'
  throw new TlsConfigError(`server.ssl.key-store-type: unsupported type '${declaredType ?? ''}' (use PKCS12 or PEM; convert JKS with keytool -importkeystore)`)
}

function loadPkcs12 (path: string, pfx: Buffer, passphrase: string): KeyMaterial {
  let context: SecureContext
  try {
    context = createSecureContext({ pfx, passphrase })
  } catch (error) {
    const { message, code } = error as NodeJS.ErrnoException
    if (/mac verify failure/i.test(message)) throw wrongPassword(path)
    if (code === 'ERR_CRYPTO_UNSUPPORTED_OPERATION' || /unsupported/i.test(message)) return legacyPkcs12(path, pfx, passphrase)
    throw new TlsConfigError(`server.ssl.key-store: ${path} is not a readable PKCS#12 file (${message})`)
  }
  return { options: { pfx, passphrase }, source: 'pkcs12', leaf: localCertificate(context, path) }
}

function wrongPassword (path: string): TlsConfigError {
  return new TlsConfigError(`wrong password for key store ${path} (check server.ssl.key-store-password)`)
}

/** The certificate a secure context would present, read through a server socket that never connects. */
function localCertificate (context: SecureContext, path: string): X509Certificate {
  const neverConnected = new Duplex({ read () {}, write (_chunk, _encoding, done) { done() } })
  const socket = new TLSSocket(neverConnected, { isServer: true, secureContext: context })
  try {
    const presented = socket.getCertificate()
    const raw = presented !== null && 'raw' in presented ? presented.raw : undefined
    if (raw === undefined) throw new TlsConfigError(`server.ssl.key-store: ${path} holds no certificate`)
    return new X509Certificate(raw)
  } finally {
    socket.destroy()
  }
}

/** Decrypts a PKCS#12 with algorithms OpenSSL 3 no longer enables (RC2-40, ...) into PEM key and chain. */
function legacyPkcs12 (path: string, pfx: Buffer, passphrase: string): KeyMaterial {
  let p12: forge.pkcs12.Pkcs12Pfx
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(pfx.toString('binary')), passphrase)
  } catch (error) {
    if (/password|MAC could not be verified/i.test((error as Error).message)) throw wrongPassword(path)
    throw new TlsConfigError(`server.ssl.key-store: ${path} is not a readable PKCS#12 file (${(error as Error).message})`)
  }
  const bags = (type: string): forge.pkcs12.Bag[] => p12.getBags({ bagType: type })[type] ?? []
  const keyBag = [...bags(forge.pki.oids.pkcs8ShroudedKeyBag as string), ...bags(forge.pki.oids.keyBag as string)][0]
  if (keyBag === undefined) throw new TlsConfigError(`server.ssl.key-store: ${path} holds no private key`)
  const key = createPrivateKey(keyBag.key === null || keyBag.key === undefined
    ? { key: derOf(keyBag.asn1), format: 'der', type: 'pkcs8' }
    : forge.pki.privateKeyToPem(keyBag.key))
  const certificates = bags(forge.pki.oids.certBag as string).map(bag =>
    new X509Certificate(bag.cert === null || bag.cert === undefined ? derOf(bag.asn1) : derOf(forge.pki.certificateToAsn1(bag.cert))))
  const { leaf, chainPem } = orderChain(certificates, key, `key store ${path}`)
  const keyPem = key.export({ format: 'pem', type: 'pkcs8' }).toString()
  return { options: { key: keyPem, cert: chainPem }, source: 'pkcs12', leaf }
}

function derOf (asn1: forge.asn1.Asn1 | undefined): Buffer {
  if (asn1 === undefined) throw new TlsConfigError('PKCS#12 bag without content')
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary')
}

/** Checks a PEM certificate chain and private key belong together; the leaf is the certificate of the key. */
function pemMaterial (certificateText: string, keyText: string, certificatePath: string, keyPath: string): KeyMaterial {
  const certificates = pemCertificates(certificateText).map(pem => {
    try {
      return new X509Certificate(pem)
    } catch {
      throw new TlsConfigError(`${certificatePath} holds a PEM certificate that cannot be parsed`)
    }
  })
  if (certificates.length === 0) throw new TlsConfigError(`${certificatePath} holds no PEM certificate`)
  let key: KeyObject
  try {
    key = createPrivateKey(keyText)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MISSING_PASSPHRASE' || /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyText)) {
      throw new TlsConfigError(`the private key in ${keyPath} is encrypted; decrypt it (openssl pkey -in key.pem -out key-plain.pem) or use a PKCS#12 key store`)
    }
    throw new TlsConfigError(`${keyPath} holds no readable PEM private key`)
  }
  const { leaf, chainPem } = orderChain(certificates, key, certificatePath === keyPath ? keyPath : `${certificatePath} / ${keyPath}`)
  const keyPem = key.export({ format: 'pem', type: 'pkcs8' }).toString()
  return { options: { key: keyPem, cert: chainPem }, source: 'pem', leaf }
}

/** Puts the certificate matching `key` first, the rest of the chain after it, in their original order. */
function orderChain (certificates: X509Certificate[], key: KeyObject, where: string): { leaf: X509Certificate, chainPem: string } {
  const leaf = certificates.find(certificate => certificate.checkPrivateKey(key))
  if (leaf === undefined) throw new TlsConfigError(`the private key does not match the certificate (${where})`)
  const chain = [leaf, ...certificates.filter(certificate => certificate !== leaf)]
  return { leaf, chainPem: chain.map(certificate => certificate.toString()).join('') }
}

function pemCertificates (text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
}

async function selfSignedMaterial (hostnames: string[], dataDir: string | undefined): Promise<KeyMaterial> {
  const names = [...new Set(['localhost', '127.0.0.1', '::1', ...hostnames.map(name => name.trim())])]
    .filter(name => isIP(name) !== 0 || /^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name))
  if (dataDir === undefined) return generateSelfSigned(names)
  const kept = await readKeptCertificate(dataDir)
  const reused = kept === undefined ? undefined : usableKept(kept.certificatePem, kept.keyPem, names)
  if (reused !== undefined) return { ...reused, kept: { dir: keptCertificatePaths(dataDir).dir, reused: true } }
  const generated = await generateSelfSigned(names)
  try {
    const dir = await saveKeptCertificate(dataDir, { certificatePem: generated.leaf.toString(), keyPem: String(generated.options.key) })
    return { ...generated, kept: { dir, reused: false } }
  } catch (error) {
    return { ...generated, kept: { problem: `cannot write ${dataDir} (${(error as NodeJS.ErrnoException).code ?? String(error)})` } }
  }
}

/** The kept certificate as material when it matches its key, is valid for another day and covers every name. */
function usableKept (certificatePem: string, keyPem: string, names: string[]): KeyMaterial | undefined {
  let material: KeyMaterial
  try {
    material = pemMaterial(certificatePem, keyPem, 'kept certificate', 'kept key')
  } catch {
    return undefined
  }
  const { leaf } = material
  const now = Date.now()
  if (Date.parse(leaf.validFrom) > now || Date.parse(leaf.validTo) < now + 24 * 3600 * 1000) return undefined
  const covers = names.every(name => isIP(name) === 0 ? leaf.checkHost(name) !== undefined : leaf.checkIP(name) !== undefined)
  return covers ? { ...material, source: 'self-signed' } : undefined
}

async function generateSelfSigned (names: string[]): Promise<KeyMaterial> {
  const notBeforeDate = new Date(Date.now() - 60_000)
  const notAfterDate = new Date(notBeforeDate.getTime() + 365 * 24 * 3600 * 1000)
  const generated = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map(name => isIP(name) === 0 ? { type: 2, value: name } : { type: 7, ip: name }) }
    ]
  })
  return { options: { key: generated.private, cert: generated.cert }, source: 'self-signed', leaf: new X509Certificate(generated.cert) }
}
