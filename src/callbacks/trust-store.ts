// Loads the extra CAs trusted for HTTPS callback targets: a PEM bundle or a PKCS#12 trust store.
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import forge from 'node-forge'

/** A trust store that cannot be used; the message names the file and the cause, never the password. */
export class TrustStoreError extends Error {
  override readonly name = 'TrustStoreError'
  readonly code = 'HERMOD_TRUST_STORE_INVALID'
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

function derToPem (der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`
}

function checkCertificate (pem: string, path: string, index: number): string {
  try {
    return new X509Certificate(pem).toString()
  } catch (err) {
    throw new TrustStoreError(`trust store ${path}: certificate #${index + 1} cannot be read (${(err as Error).message})`)
  }
}

/** The certificates of a PEM bundle (other PEM blocks, such as keys, are ignored). */
export function certificatesFromPem (text: string, path = 'PEM bundle'): string[] {
  const blocks = text.match(PEM_CERTIFICATE) ?? []
  if (blocks.length === 0) throw new TrustStoreError(`trust store ${path}: no PEM certificate found`)
  return blocks.map((block, i) => checkCertificate(block, path, i))
}

/**
 * The certificates of a PKCS#12 store, as a Java trust store holds them (certificate bags; keys are
 * not read). Certificates forge cannot parse itself (EC, Ed25519) are passed through as DER.
 */
export function certificatesFromPkcs12 (der: Buffer, password: string | undefined, path = 'PKCS#12 store'): string[] {
  let p12: forge.pkcs12.Pkcs12Pfx
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')))
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password ?? '')
  } catch (err) {
    const message = (err as Error).message ?? ''
    if (/mac could not be verified|invalid password/i.test(message)) {
      throw new TrustStoreError(`trust store ${path}: wrong password (the PKCS#12 integrity check failed)`)
    }
    throw new TrustStoreError(`trust store ${path}: not a readable PKCS#12 file (${message.replace(/\s+/g, ' ').slice(0, 120)})`)
  }
  const certBag = forge.pki.oids.certBag as string
  const bags = p12.getBags({ bagType: certBag })[certBag] ?? []
  const pems: string[] = []
  for (const bag of bags) {
    const asn1: forge.asn1.Asn1 | undefined = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1
    if (asn1 === undefined || asn1 === null) continue
    const pem = derToPem(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'))
    pems.push(checkCertificate(pem, path, pems.length))
  }
  if (pems.length === 0) throw new TrustStoreError(`trust store ${path}: no certificate found`)
  return pems
}

function looksLikePkcs12 (path: string, content: Buffer): boolean {
  if (/\.(p12|pfx|pkcs12)$/i.test(path)) return true
  // PEM is text starting (after optional whitespace or comments) with readable characters; PKCS#12 is DER (a SEQUENCE, 0x30).
  return content[0] === 0x30 && !content.includes('-----BEGIN')
}

/**
 * Loads a trust store file into PEM certificates: a PKCS#12 store (by extension `.p12`/`.pfx`/`.pkcs12`
 * or by content) opened with `password`, else a PEM bundle. Throws TrustStoreError with a clear message.
 */
export function loadTrustStore (path: string, password?: string): string[] {
  let content: Buffer
  try {
    content = readFileSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable')
    throw new TrustStoreError(`trust store ${path}: ${why}`)
  }
  if (looksLikePkcs12(path, content)) return certificatesFromPkcs12(content, password, path)
  return certificatesFromPem(content.toString('utf8'), path)
}
