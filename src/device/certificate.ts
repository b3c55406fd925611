// The certificate answer: install delivered certificates on the held key with the same public key.
import type { X509Certificate } from 'node:crypto'
import { rejected, type DeviceAnswer } from './answer.js'
import { spkiOf } from './keys.js'
import { parseCertificate } from './pki.js'
import type { DeviceKey, DeviceProfile } from './profile.js'

/** A certificate found in the command, with the key id written next to it (if any). */
interface Delivered { certificate: X509Certificate, keyid?: string, path: string }

/** One installed certificate as the answer reports it. */
export interface InstalledCertificate {
  keyid: string
  subject: string
  issuer: string
  serialNumber: string
  notAfter: string
  fingerprint256: string
}

const MAX_DEPTH = 8

/**
 * Answers a certificate command. Every string in the command that is a certificate (base64 DER or PEM, at any depth,
 * so `certificates: [...]`, `{keyid, certificate}` items and the like all work) is matched to a held key by its public
 * key; a CA certificate that matches no key becomes the chain of the installed ones. A `keyid` next to a certificate
 * must name the key it matches. REJECTED (nothing installed) when there is no certificate, or one matches no held key.
 */
export function answerCertificate (command: Record<string, unknown>, profile: DeviceProfile): DeviceAnswer {
  const delivered: Delivered[] = []
  collect(command, undefined, 'certCommand', 0, delivered)
  if (delivered.length === 0) return rejected('the command holds no certificate (base64 DER or PEM)')
  const held = [...profile.keys, profile.identity]
  const leaves: Array<{ key: DeviceKey, item: Delivered }> = []
  const chain: X509Certificate[] = []
  for (const item of delivered) {
    const spki = spkiOf(item.certificate.publicKey)
    const key = held.find((k) => k.publicKey === spki)
    if (key === undefined) {
      if (item.certificate.ca) { chain.push(item.certificate); continue }
      return rejected(`${item.path}: the certificate's public key (subject ${oneLine(item.certificate.subject)}) matches no key this device holds`)
    }
    if (item.keyid !== undefined && item.keyid !== key.keyid) {
      return rejected(`${item.path}: the certificate is for key ${key.keyid}, not for keyid ${item.keyid}`)
    }
    leaves.push({ key, item })
  }
  if (leaves.length === 0) return rejected('the command holds only CA certificates, none for a key this device holds')
  const installed: InstalledCertificate[] = []
  for (const { key, item } of leaves) {
    key.certificates = [item.certificate.toString(), ...chain.map((c) => c.toString())]
    key.certificateSource = 'delivered'
    installed.push({
      keyid: key.keyid,
      subject: oneLine(item.certificate.subject),
      issuer: oneLine(item.certificate.issuer),
      serialNumber: item.certificate.serialNumber,
      notAfter: new Date(item.certificate.validTo).toISOString(),
      fingerprint256: item.certificate.fingerprint256
    })
  }
  return { status: 'OK', response: { installed } }
}

function collect (value: unknown, keyid: string | undefined, path: string, depth: number, out: Delivered[]): void {
  if (depth > MAX_DEPTH) return
  if (typeof value === 'string') {
    if (value.length < 200) return
    const certificate = parseCertificate(value)
    if (certificate !== null) out.push({ certificate, path, ...(keyid === undefined ? {} : { keyid }) })
    return
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => collect(item, keyid, `${path}[${index}]`, depth + 1, out))
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>
    const ownKeyid = typeof record.keyid === 'string' ? record.keyid : keyid
    for (const [name, member] of Object.entries(record)) collect(member, ownKeyid, `${path}.${name}`, depth + 1, out)
  }
}

function oneLine (name: string): string {
  return name.split('\n').join(', ')
}
