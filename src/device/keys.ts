// Device keys with Node's native crypto: what a keygen request asks for, generation, storage form, raw signatures.
import { createPrivateKey, createPublicKey, sign, webcrypto, type KeyObject } from 'node:crypto'

/** A key type the device can generate. */
export type KeySpec = { keytype: 'RSA', modulusLength: 2048 | 3072 | 4096 } | { keytype: 'EC', curve: 'P-256' | 'P-384' | 'P-521' }

/** A key as the profile stores it: PKCS#8 private key (PEM) and SPKI public key (base64 DER). */
export interface StoredKey {
  keytype: 'RSA' | 'EC'
  /** RSA modulus bits, or the EC curve. */
  size: number | string
  privateKeyPem: string
  publicKey: string
}

/** The hash every device signature uses, per PKCS#11 mechanism name the commands may give. */
const MECHANISM_HASHES: Record<string, { hash: string, keytype: 'RSA' | 'EC' }> = {
  CKM_SHA256_RSA_PKCS: { hash: 'sha256', keytype: 'RSA' },
  CKM_SHA384_RSA_PKCS: { hash: 'sha384', keytype: 'RSA' },
  CKM_SHA512_RSA_PKCS: { hash: 'sha512', keytype: 'RSA' },
  CKM_ECDSA_SHA256: { hash: 'sha256', keytype: 'EC' },
  CKM_ECDSA_SHA384: { hash: 'sha384', keytype: 'EC' },
  CKM_ECDSA_SHA512: { hash: 'sha512', keytype: 'EC' }
}

/** The supported mechanism names. */
export const MECHANISMS = Object.keys(MECHANISM_HASHES)

/**
 * The first `keytypeprios` entry the device supports (RSA 2048/3072/4096; EC or ECC with keylength 256/384/521 or a
 * curve name), or null. An entry without a keylength takes RSA 2048 or P-256.
 */
export function chooseKeySpec (prios: unknown): KeySpec | null {
  for (const prio of Array.isArray(prios) ? prios : []) {
    if (typeof prio !== 'object' || prio === null) continue
    const { keytype, keylength, curve } = prio as Record<string, unknown>
    const type = String(keytype ?? '').toUpperCase()
    const length = String(keylength ?? curve ?? '').toUpperCase().replace(/^(P-?|SECP)/, '').replace(/R1$/, '')
    if (type === 'RSA') {
      const bits = length === '' ? 2048 : Number(length)
      if (bits === 2048 || bits === 3072 || bits === 4096) return { keytype: 'RSA', modulusLength: bits }
    } else if (type === 'EC' || type === 'ECC' || type === 'ECDSA') {
      const curve = ({ '': 'P-256', 256: 'P-256', 384: 'P-384', 521: 'P-521' } as const)[length as '' | '256' | '384' | '521']
      if (curve !== undefined) return { keytype: 'EC', curve }
    }
  }
  return null
}

/** WebCrypto's algorithm for a key of this type, SHA-256 for RSA (pkijs picks the hash it signs with itself). */
function algorithmFor (spec: KeySpec): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  return spec.keytype === 'RSA'
    ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: spec.modulusLength, publicExponent: new Uint8Array([1, 0, 1]) }
    : { name: 'ECDSA', namedCurve: spec.curve }
}

/** Generates a key pair (native WebCrypto) and its stored form. */
export async function generateKey (spec: KeySpec): Promise<{ stored: StoredKey, pair: webcrypto.CryptoKeyPair }> {
  const pair = await webcrypto.subtle.generateKey(algorithmFor(spec), true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', pair.privateKey))
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', pair.publicKey))
  const privateKeyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString()
  const stored: StoredKey = {
    keytype: spec.keytype,
    size: spec.keytype === 'RSA' ? spec.modulusLength : spec.curve,
    privateKeyPem,
    publicKey: spki.toString('base64')
  }
  return { stored, pair }
}

/** The stored key back as a WebCrypto pair (for pkijs). */
export async function importKeyPair (stored: StoredKey): Promise<webcrypto.CryptoKeyPair> {
  const spec: KeySpec = stored.keytype === 'RSA'
    ? { keytype: 'RSA', modulusLength: stored.size as 2048 }
    : { keytype: 'EC', curve: stored.size as 'P-256' }
  const algorithm = algorithmFor(spec)
  const pkcs8 = createPrivateKey(stored.privateKeyPem).export({ format: 'der', type: 'pkcs8' })
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign'])
  const publicKey = await webcrypto.subtle.importKey('spki', Buffer.from(stored.publicKey, 'base64'), algorithm, true, ['verify'])
  return { privateKey, publicKey }
}

/** The private key as a native KeyObject. */
export function privateKeyObject (stored: StoredKey): KeyObject {
  return createPrivateKey(stored.privateKeyPem)
}

/** The SPKI (base64 DER) of a public key in PEM or KeyObject form, for comparing keys. */
export function spkiOf (key: KeyObject | string): string {
  const object = typeof key === 'string' ? createPublicKey(key) : key
  return object.export({ format: 'der', type: 'spki' }).toString('base64')
}

/** The hash a mechanism signs with; null for a mechanism the key type cannot do or the device does not know. */
export function mechanismHash (mechanism: string | undefined, keytype: 'RSA' | 'EC'): string | null {
  if (mechanism === undefined) return 'sha256'
  const known = MECHANISM_HASHES[mechanism]
  return known !== undefined && known.keytype === keytype ? known.hash : null
}

/** A raw signature: PKCS#1 v1.5 for RSA, DER-encoded ECDSA (what `openssl dgst -verify` takes). */
export function rawSignature (stored: StoredKey, hash: string, data: Uint8Array): Buffer {
  return sign(hash, data, privateKeyObject(stored))
}
