// JWS compact serialisation (RFC 7515) with native crypto: the header names the key and carries its certificate chain.
import { sign } from 'node:crypto'
import { privateKeyObject } from './keys.js'
import { fromPemOrBase64 } from './pki.js'
import type { DeviceKey } from './profile.js'

const EC_ALGORITHMS: Record<string, { alg: string, hash: string }> = {
  'P-256': { alg: 'ES256', hash: 'sha256' },
  'P-384': { alg: 'ES384', hash: 'sha384' },
  'P-521': { alg: 'ES512', hash: 'sha512' }
}

/**
 * `payload` as a compact JWS signed by `key`: RS256 for RSA keys, ES256/384/512 for EC keys (raw r||s signatures,
 * RFC 7518 section 3.4). The protected header holds `alg`, `typ: JWT`, `kid` (the key id) and `x5c` (the key's
 * certificate, then its chain, base64 DER), so a verifier can check the chain against the test CA.
 */
export function signJws (payload: unknown, key: DeviceKey): string {
  const ec = key.keytype === 'EC' ? EC_ALGORITHMS[String(key.size)] : undefined
  if (key.keytype === 'EC' && ec === undefined) throw new Error(`no JWS algorithm for curve ${String(key.size)}`)
  const { alg, hash } = ec ?? { alg: 'RS256', hash: 'sha256' }
  const x5c = key.certificates.map((pem) => fromPemOrBase64(pem)?.toString('base64')).filter((der) => der !== undefined)
  const header = { alg, typ: 'JWT', kid: key.keyid, x5c }
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`
  const signature = sign(hash, Buffer.from(signingInput), { key: privateKeyObject(key), dsaEncoding: 'ieee-p1363' })
  return `${signingInput}.${signature.toString('base64url')}`
}

function base64url (text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}
