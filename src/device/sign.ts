// The sign and authenticate answers: the key the filter selects signs each item as CMS SignedData or a raw signature.
import { rejected, type DeviceAnswer } from './answer.js'
import { cmsSign } from './cms.js'
import { importKeyPair, mechanismHash, rawSignature } from './keys.js'
import { fromPemOrBase64 } from './pki.js'
import type { DeviceKey, DeviceProfile } from './profile.js'

type Json = Record<string, unknown>

/** One signature as the answer reports it. */
export interface SignatureReport {
  /** The `key` of the tbs item (or `challenge`). */
  key: string
  keyid: string
  format: 'pkcs7' | 'raw'
  mechanism: string
  /** base64: DER ContentInfo(SignedData) for pkcs7, the bare signature for raw. */
  signature: string
}

/**
 * Whether `key` passes a command's `filter`: `{op: eq|ne, param, value}` on `key.type` (RSA, EC), `key.id`
 * (or `keyid`), `key.usage`, `key.state`, `cert.subject` (substring); `{op: and|or, args: [...]}`,
 * `{op: not, arg}`. No filter passes every key; an unknown param or op passes none.
 */
export function filterAccepts (filter: unknown, key: DeviceKey): boolean {
  if (filter === undefined || filter === null) return true
  if (typeof filter !== 'object') return false
  const f = filter as Json
  const op = String(f.op ?? 'eq').toLowerCase()
  const args = (Array.isArray(f.args) ? f.args : Array.isArray(f.filters) ? f.filters : []) as unknown[]
  switch (op) {
    case 'and': return args.every((arg) => filterAccepts(arg, key))
    case 'or': return args.some((arg) => filterAccepts(arg, key))
    case 'not': return !filterAccepts(f.arg ?? args[0], key)
    case 'eq': case 'ne': {
      const actual = keyParam(String(f.param ?? ''), key)
      if (actual === undefined) return false
      const wanted = String(f.value ?? '')
      const equal = String(f.param) === 'cert.subject' ? actual.includes(wanted) : actual.toUpperCase() === wanted.toUpperCase()
      return op === 'eq' ? equal : !equal
    }
    default: return false
  }
}

function keyParam (param: string, key: DeviceKey): string | undefined {
  switch (param) {
    case 'key.type': return key.keytype
    case 'key.id': case 'keyid': return key.keyid
    case 'key.usage': return key.usage ?? ''
    case 'key.state': return key.keystate ?? 'ACTIVE'
    case 'cert.subject': return key.certificates[0] ?? ''
    default: return undefined
  }
}

/** The provisioned keys first (newest last provisioned first), then the default test identity. */
function selectKey (profile: DeviceProfile, filter: unknown, mechanism: string | undefined): DeviceKey | undefined {
  const candidates = [...profile.keys].reverse().concat(profile.identity)
  return candidates.find((key) => filterAccepts(filter, key) && mechanismHash(mechanism, key.keytype) !== null)
}

/** The bytes of an item: `data` decoded by `content_encoding` (base64, else UTF-8), or a bare base64 string. */
function itemBytes (item: unknown): Buffer | null {
  if (typeof item === 'string') return fromPemOrBase64(item)
  if (typeof item !== 'object' || item === null) return null
  const { data, content_encoding: encoding } = item as Json
  if (typeof data !== 'string') return null
  return String(encoding ?? '').toLowerCase() === 'base64' ? fromPemOrBase64(data) ?? Buffer.alloc(0) : Buffer.from(data, 'utf8')
}

async function signItem (key: DeviceKey, format: 'pkcs7' | 'raw', mechanism: string | undefined, data: Buffer): Promise<Buffer> {
  const hash = mechanismHash(mechanism, key.keytype) as string
  if (format === 'raw') return rawSignature(key, hash, data)
  const { privateKey } = await importKeyPair(key)
  return await cmsSign({ data, hash, privateKey, certificates: key.certificates })
}

/** `pkcs7` (also `cms`, `p7s`; the default) or `raw`; null for anything else. */
function parseFormat (value: unknown): 'pkcs7' | 'raw' | null {
  if (value === undefined) return 'pkcs7'
  const format = String(value).toLowerCase()
  if (format === 'pkcs7' || format === 'cms' || format === 'p7s') return 'pkcs7'
  return format === 'raw' ? 'raw' : null
}

const defaultMechanism = (key: DeviceKey): string => key.keytype === 'RSA' ? 'CKM_SHA256_RSA_PKCS' : 'CKM_ECDSA_SHA256'

/**
 * Answers a `signCommand`: each `params.tbs` item (an array of `{key, data, content_encoding}` or one base64 string)
 * signed by the selected key. OK: `{signatures: [...], signature, keyid, certificate}` (`signature` is the first
 * item's, `certificate` the signer's, base64 DER). REJECTED when no key matches, or the format, mechanism or data
 * cannot be used.
 */
export async function answerSign (command: Json, profile: DeviceProfile): Promise<DeviceAnswer> {
  const params = (typeof command.params === 'object' && command.params !== null ? command.params : command) as Json
  const items = Array.isArray(params.tbs) ? params.tbs as unknown[] : params.tbs === undefined ? [] : [params.tbs]
  if (items.length === 0) return rejected('signCommand.params.tbs is empty: nothing to sign')
  const prepared = items.map((item, index) => ({ key: keyOf(item, `tbs[${index}]`), data: itemBytes(item) }))
  const unreadable = prepared.findIndex((item) => item.data === null)
  if (unreadable >= 0) return rejected(`tbs[${unreadable}]: no data to sign`)
  return await signAll(params, profile, prepared as Array<{ key: string, data: Buffer }>, {})
}

/**
 * Answers an `authCommand`: the challenge (`params.challenge`, else `params.nonce`, as an item or a string; a string
 * is signed as its UTF-8 bytes) signed like a sign command; without either, the JSON text of `params`. OK:
 * `{signatures: [...], signature, keyid, certificate, signedData}` (`signedData`: what was signed, base64).
 */
export async function answerAuthenticate (command: Json, profile: DeviceProfile): Promise<DeviceAnswer> {
  const params = (typeof command.params === 'object' && command.params !== null ? command.params : command) as Json
  const challenge = params.challenge ?? params.nonce
  const data = challenge === undefined
    ? Buffer.from(JSON.stringify(params), 'utf8')
    : typeof challenge === 'string' ? Buffer.from(challenge, 'utf8') : itemBytes(challenge)
  if (data === null) return rejected('params.challenge: no data to sign')
  return await signAll(params, profile, [{ key: 'challenge', data }], { signedData: data.toString('base64') })
}

async function signAll (
  params: Json,
  profile: DeviceProfile,
  items: Array<{ key: string, data: Buffer }>,
  extra: Json
): Promise<DeviceAnswer> {
  const format = parseFormat(params.format)
  if (format === null) return rejected(`format ${String(params.format)} is not supported (pkcs7, raw)`)
  const mechanism = typeof params.mechanism === 'string' ? params.mechanism : undefined
  const key = selectKey(profile, params.filter, mechanism)
  if (key === undefined) return rejected(`no key of this device matches the filter${mechanism === undefined ? '' : ` and mechanism ${mechanism}`}`)
  const signatures: SignatureReport[] = []
  for (const item of items) {
    const signature = await signItem(key, format, mechanism, item.data)
    signatures.push({ key: item.key, keyid: key.keyid, format, mechanism: mechanism ?? defaultMechanism(key), signature: signature.toString('base64') })
  }
  const certificate = key.certificates[0] === undefined ? undefined : fromPemOrBase64(key.certificates[0])?.toString('base64')
  return {
    status: 'OK',
    response: {
      signatures,
      signature: signatures[0]?.signature,
      keyid: key.keyid,
      ...(certificate === undefined ? {} : { certificate }),
      ...extra
    }
  }
}

function keyOf (item: unknown, fallback: string): string {
  return typeof item === 'object' && item !== null && typeof (item as Json).key === 'string' ? (item as Json).key as string : fallback
}
