// X.509 structures for the virtual device with pkijs on Node's WebCrypto: PEM/DER, names, PKCS#10 requests, certificates.
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'] }))

/** The short attribute names a subject is written with, and their OIDs (RFC 4519). */
const NAME_OIDS: Record<string, string> = {
  CN: '2.5.4.3',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  SERIALNUMBER: '2.5.4.5',
  E: '1.2.840.113549.1.9.1',
  UID: '0.9.2342.19200300.100.1.1'
}
const OID_NAMES = Object.fromEntries(Object.entries(NAME_OIDS).map(([name, oid]) => [oid, name]))

/** One attribute of a distinguished name, in order. */
export interface NameAttribute { type: string, value: string }

/** DER bytes wrapped as PEM with `label` (CERTIFICATE, CERTIFICATE REQUEST, ...). */
export function toPem (der: Uint8Array, label: string): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** DER bytes from PEM (any label) or from plain base64; null when it is neither. */
export function fromPemOrBase64 (text: string): Buffer | null {
  const body = text.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, '').replace(/\s+/g, '')
  if (body === '' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(body)) return null
  return Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
}

/** Every PEM block of `text`, in order. */
export function splitPem (text: string): string[] {
  return text.match(/-----BEGIN [A-Z0-9 ]+-----[\s\S]+?-----END [A-Z0-9 ]+-----\n?/g)?.map((pem) => pem.endsWith('\n') ? pem : `${pem}\n`) ?? []
}

function toArrayBuffer (bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

/** A Name with one attribute per RDN, as OpenSSL writes them (pkijs' constructor would put them all in one RDN). */
function buildName (attributes: NameAttribute[]): pkijs.RelativeDistinguishedNames {
  const sequence = new asn1js.Sequence({
    value: attributes.map(({ type, value }) => new asn1js.Set({
      value: [new pkijs.AttributeTypeAndValue({
        type: NAME_OIDS[type.toUpperCase()] ?? type,
        value: type.toUpperCase() === 'C' ? new asn1js.PrintableString({ value }) : new asn1js.Utf8String({ value })
      }).toSchema()]
    }))
  })
  return pkijs.RelativeDistinguishedNames.fromBER(sequence.toBER(false))
}

function readName (name: pkijs.RelativeDistinguishedNames): NameAttribute[] {
  return name.typesAndValues.map((tv) => ({
    type: OID_NAMES[tv.type] ?? tv.type,
    value: String((tv.value as { valueBlock: { value: unknown } }).valueBlock.value)
  }))
}

/** `CN=a, O=b` as OpenSSL and most tools print it. */
export function formatName (attributes: NameAttribute[]): string {
  return attributes.map(({ type, value }) => `${type}=${value}`).join(', ')
}

/** The subject of a PKCS#10 request (DER), or null when the bytes are not one. */
export function csrSubject (der: Uint8Array): NameAttribute[] | null {
  try {
    const csr = pkijs.CertificationRequest.fromBER(toArrayBuffer(der))
    return readName(csr.subject)
  } catch {
    return null
  }
}

/** A PKCS#10 request for `publicKey` with `subject`, signed by `privateKey` with SHA-256 (DER). */
export async function buildCsr (
  subject: NameAttribute[],
  publicKey: webcrypto.CryptoKey,
  privateKey: webcrypto.CryptoKey
): Promise<Buffer> {
  const csr = new pkijs.CertificationRequest()
  csr.version = 0
  csr.subject = buildName(subject)
  await csr.subjectPublicKeyInfo.importKey(publicKey)
  await csr.sign(privateKey, 'SHA-256')
  return Buffer.from(csr.toSchema(true).toBER())
}

/** What a certificate is for: a CA, or an end entity that signs (digitalSignature, nonRepudiation). */
export interface CertificateRequest {
  subject: NameAttribute[]
  /** The subject's public key (SPKI DER). */
  publicKeySpki: Uint8Array
  issuer: NameAttribute[]
  issuerKey: webcrypto.CryptoKey
  ca: boolean
  validDays: number
}

/**
 * Random bytes as a positive serial number in minimal DER: the first byte 0x01..0x7f. Clearing only the
 * top bit could leave a leading 0x00 before a byte below 0x80, which OpenSSL refuses ("illegal padding").
 */
export function serialNumberBytes (random: Buffer): Buffer {
  const serial = Buffer.from(random)
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01
  return serial
}

/** An X.509 v3 certificate (PEM) signed with SHA-256 by `issuerKey`, with a random 16-byte serial number. */
export async function issueCertificate (request: CertificateRequest): Promise<string> {
  const certificate = new pkijs.Certificate()
  certificate.version = 2
  const serial = serialNumberBytes(randomBytes(16))
  certificate.serialNumber = new asn1js.Integer({ valueHex: toArrayBuffer(serial) })
  certificate.issuer = buildName(request.issuer)
  certificate.subject = buildName(request.subject)
  const now = Date.now()
  certificate.notBefore.value = new Date(now - 60_000)
  certificate.notAfter.value = new Date(now + request.validDays * 86_400_000)
  certificate.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(toArrayBuffer(request.publicKeySpki))
  const keyUsageBits = request.ca ? 0x06 : 0xc0 // keyCertSign|cRLSign, or digitalSignature|nonRepudiation
  certificate.extensions = [
    new pkijs.Extension({
      extnID: '2.5.29.19',
      critical: true,
      extnValue: new pkijs.BasicConstraints({ cA: request.ca }).toSchema().toBER(false),
      parsedValue: new pkijs.BasicConstraints({ cA: request.ca })
    }),
    new pkijs.Extension({
      extnID: '2.5.29.15',
      critical: true,
      extnValue: new asn1js.BitString({ valueHex: new Uint8Array([keyUsageBits]).buffer, unusedBits: request.ca ? 1 : 6 }).toBER(false)
    })
  ]
  await certificate.sign(request.issuerKey, 'SHA-256')
  return toPem(new Uint8Array(certificate.toSchema(true).toBER()), 'CERTIFICATE')
}

/** A parsed certificate from PEM or base64 DER; null when it is not one. */
export function parseCertificate (text: string): X509Certificate | null {
  const der = text.includes('-----BEGIN') ? text : fromPemOrBase64(text)
  if (der === null) return null
  try {
    return new X509Certificate(der)
  } catch {
    return null
  }
}

/** pkijs' view of a certificate, for CMS. */
export function pkijsCertificate (pem: string): pkijs.Certificate {
  const der = fromPemOrBase64(pem)
  if (der === null) throw new Error('not a certificate')
  return pkijs.Certificate.fromBER(toArrayBuffer(der))
}

export { toArrayBuffer }
