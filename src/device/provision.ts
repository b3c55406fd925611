// The provisioning answer: a key per keygen request, a PKCS#10 request for it, all in the response format asked for.
import { chooseKeySpec, generateKey } from './keys.js'
import { buildCsr, csrSubject, formatName, fromPemOrBase64, type NameAttribute } from './pki.js'
import type { DeviceKey, DeviceProfile } from './profile.js'
import { issueTestCertificate, type TestCa } from './test-ca.js'
import { signJws } from './jws.js'
import { rejected, type DeviceAnswer } from './answer.js'

/** One generated key as the answer reports it. */
export interface ProvisionedKeyReport {
  keyid: string
  usage?: string
  keytype: 'RSA' | 'EC'
  /** RSA modulus bits or the EC curve. */
  keylength: number | string
  responsemechanism?: string
  storage?: string
  keystate?: string
  /** The new PKCS#10 request, base64 DER. */
  certreq: string
  /** The new public key, base64 SPKI DER. */
  publickey: string
  subject: string
  /** `certreq`: the subject of the dummy request; `userid`: the dummy did not parse, CN=userid. */
  subjectSource: 'certreq' | 'userid'
}

/** What the JWS payload (or the `result` of a `json` answer) holds. */
export interface ProvisionResult {
  nonce?: string
  userid?: string
  profile?: string
  servername?: string
  keys: ProvisionedKeyReport[]
  notes: string[]
  /** Seconds since the epoch. */
  iat: number
}

type Json = Record<string, unknown>
const text = (value: unknown): string | undefined => typeof value === 'string' && value !== '' ? value : undefined

/**
 * Answers a `provCommand`: generates the keys, rebuilds each dummy `certreq` with the new key, keeps the keys in
 * `profile` (replacing keys of the same keyid), and answers `{responseformat: 'jws', jws}` (signed by the attestation
 * key, or by a new key the `responsesignaturekey` names) or `{responseformat: 'json', result}`.
 */
export async function answerProvision (command: Json, profile: DeviceProfile, ca: TestCa): Promise<DeviceAnswer> {
  const userid = text(command.userid)
  const profileSection = (typeof command.profile === 'object' && command.profile !== null ? command.profile : {}) as Json
  const requests = Array.isArray(profileSection.keygenrequests) ? profileSection.keygenrequests as unknown[] : []
  if (requests.length === 0) return rejected('provCommand.profile.keygenrequests is empty: nothing to provision')
  const notes: string[] = []
  const reports: ProvisionedKeyReport[] = []
  const keys: DeviceKey[] = []
  for (const [index, entry] of requests.entries()) {
    const request = (typeof entry === 'object' && entry !== null ? entry : {}) as Json
    const keyid = text(request.keyid) ?? `key${index + 1}`
    const spec = chooseKeySpec(request.keytypeprios)
    if (spec === null) {
      return rejected(`keygenrequests[${index}] (${keyid}): no key type in keytypeprios the device supports (RSA 2048/3072/4096, EC P-256/P-384/P-521)`)
    }
    const { stored, pair } = await generateKey(spec)
    const dummy = text(request.certreq)
    const dummyDer = dummy === undefined ? null : fromPemOrBase64(dummy)
    let subject: NameAttribute[] | null = dummyDer === null ? null : csrSubject(dummyDer)
    let subjectSource: ProvisionedKeyReport['subjectSource'] = 'certreq'
    if (subject === null || subject.length === 0) {
      subject = [{ type: 'CN', value: userid ?? keyid }]
      subjectSource = 'userid'
      notes.push(`keygenrequests[${index}] (${keyid}): the dummy certreq ${dummy === undefined ? 'is missing' : 'is not a PKCS#10 request'}; the new request has subject CN=${userid ?? keyid}`)
    }
    const certreq = await buildCsr(subject, pair.publicKey, pair.privateKey)
    const prio = (request.keytypeprios as Json[]).find((p) => String(p?.keytype ?? '').toUpperCase().startsWith(spec.keytype))
    const usage = text(request.usage)
    const keystate = text(request.keystate)
    const storage = Array.isArray(request.storageprios) ? text(request.storageprios[0]) : undefined
    const responsemechanism = text(prio?.responsemechanism)
    reports.push({
      keyid,
      ...(usage === undefined ? {} : { usage }),
      keytype: stored.keytype,
      keylength: stored.size,
      ...(responsemechanism === undefined ? {} : { responsemechanism }),
      ...(storage === undefined ? {} : { storage }),
      ...(keystate === undefined ? {} : { keystate }),
      certreq: certreq.toString('base64'),
      publickey: stored.publicKey,
      subject: formatName(subject),
      subjectSource
    })
    const testCertificate = await issueTestCertificate(ca, subject, stored.publicKey)
    keys.push({
      ...stored,
      keyid,
      ...(usage === undefined ? {} : { usage }),
      ...(keystate === undefined ? {} : { keystate }),
      certificates: [testCertificate, ca.certificatePem],
      certificateSource: 'test-ca'
    })
  }
  const nonce = command.nonce === undefined ? undefined : String(command.nonce)
  const result: ProvisionResult = {
    ...(nonce === undefined ? {} : { nonce }),
    ...(userid === undefined ? {} : { userid }),
    ...(text(profileSection.name) === undefined ? {} : { profile: text(profileSection.name) }),
    ...(text(profileSection.servername) === undefined ? {} : { servername: text(profileSection.servername) }),
    keys: reports,
    notes,
    iat: Math.floor(Date.now() / 1000)
  }
  keepKeys(profile, keys, userid, result)
  if (String(command.responseformat ?? 'jws').toLowerCase() !== 'jws') return { status: 'OK', response: { responseformat: 'json', result } }
  const signatureKeyName = text(command.responsesignaturekey) ?? 'ATTESTATION'
  let signer = profile.attestation
  if (signatureKeyName.toUpperCase() !== 'ATTESTATION') {
    const named = keys.find((key) => key.keyid === signatureKeyName)
    if (named !== undefined) signer = named
    else result.notes.push(`responsesignaturekey ${signatureKeyName} names no generated key: signed with the attestation key`)
  }
  return { status: 'OK', response: { responseformat: 'jws', jws: signJws(result, signer) } }
}

function keepKeys (profile: DeviceProfile, keys: DeviceKey[], userid: string | undefined, result: ProvisionResult): void {
  const newIds = new Set(keys.map((key) => key.keyid))
  profile.keys = [...profile.keys.filter((key) => !newIds.has(key.keyid)), ...keys]
  if (userid !== undefined) profile.userid = userid
  if (result.profile !== undefined) profile.profileName = result.profile
  if (result.servername !== undefined) profile.servername = result.servername
}
