// CMS SignedData (RFC 5652) with pkijs: the content attached, the signer's certificate chain included, signed attributes.
import { createHash, type webcrypto } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { pkijsCertificate, toArrayBuffer } from './pki.js'

const OID_DATA = '1.2.840.113549.1.7.1'
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2'
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3'
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4'
const OID_SIGNING_TIME = '1.2.840.113549.1.9.5'
const WEBCRYPTO_HASHES: Record<string, string> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' }

/** What to sign and with what. */
export interface CmsSignRequest {
  data: Uint8Array
  /** `sha256`, `sha384` or `sha512`. */
  hash: string
  privateKey: webcrypto.CryptoKey
  /** The signer's certificate first, then its chain (PEM). */
  certificates: string[]
}

/**
 * A DER ContentInfo holding SignedData over `data` (encapsulated, id-data), one SignerInfo identified by issuer
 * and serial number, with the content-type, signing-time and message-digest signed attributes (in DER order).
 */
export async function cmsSign (request: CmsSignRequest): Promise<Buffer> {
  const hashName = WEBCRYPTO_HASHES[request.hash]
  if (hashName === undefined) throw new Error(`unsupported hash ${request.hash}`)
  const [signer, ...chain] = request.certificates.map(pkijsCertificate)
  if (signer === undefined) throw new Error('a CMS signature needs the signer\'s certificate')
  const digest = createHash(request.hash).update(request.data).digest()
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: OID_DATA,
      eContent: new asn1js.OctetString({ valueHex: toArrayBuffer(request.data) })
    }),
    signerInfos: [new pkijs.SignerInfo({
      version: 1,
      sid: new pkijs.IssuerAndSerialNumber({ issuer: signer.issuer, serialNumber: signer.serialNumber }),
      signedAttrs: new pkijs.SignedAndUnsignedAttributes({
        type: 0,
        attributes: [
          new pkijs.Attribute({ type: OID_CONTENT_TYPE, values: [new asn1js.ObjectIdentifier({ value: OID_DATA })] }),
          new pkijs.Attribute({ type: OID_SIGNING_TIME, values: [new asn1js.UTCTime({ valueDate: new Date() })] }),
          new pkijs.Attribute({ type: OID_MESSAGE_DIGEST, values: [new asn1js.OctetString({ valueHex: toArrayBuffer(digest) })] })
        ]
      })
    })],
    certificates: [signer, ...chain]
  })
  await signedData.sign(request.privateKey, 0, hashName)
  const contentInfo = new pkijs.ContentInfo({ contentType: OID_SIGNED_DATA, content: signedData.toSchema(true) })
  return Buffer.from(contentInfo.toSchema().toBER(false))
}
