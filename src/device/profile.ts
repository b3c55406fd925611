// The device profile: attestation key, default test identity, provisioned keys and certificates; kept in a JSON file.
import { mkdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKey, type StoredKey } from './keys.js'
import { issueTestCertificate, writePrivateFile, type TestCa } from './test-ca.js'

/** A key the device holds, with the certificates installed on it (leaf first, then its chain). */
export interface DeviceKey extends StoredKey {
  keyid: string
  usage?: string
  keystate?: string
  /** PEM; the first one certifies this key. */
  certificates: string[]
  /** `test-ca`: issued by the device's own test CA; `delivered`: installed by a certificate command. */
  certificateSource: 'test-ca' | 'delivered'
}

/** Everything the device keeps between commands. */
export interface DeviceProfile {
  version: 1
  /** The test CA's certificate (PEM) that issued the attestation and test certificates. */
  caCertificatePem: string
  /** Signs provisioning answers (`responsesignaturekey: ATTESTATION`). */
  attestation: DeviceKey
  /** Signs when nothing is provisioned, or nothing provisioned matches the filter. */
  identity: DeviceKey
  userid?: string
  profileName?: string
  servername?: string
  /** Keys from provisioning commands, in the order they were generated. */
  keys: DeviceKey[]
}

/** The default identity's key id. */
export const TEST_IDENTITY_KEYID = 'test-identity'

/** A fresh profile: an attestation key and a default test identity (RSA 2048), both certified by `ca`. */
export async function createProfile (ca: TestCa, name = 'default'): Promise<DeviceProfile> {
  const attestation = await certifiedKey(ca, 'attestation', 'ATTESTATION', [{ type: 'CN', value: `Hermod virtual device ${name} attestation` }])
  const identity = await certifiedKey(ca, TEST_IDENTITY_KEYID, 'SIG', [{ type: 'CN', value: `Hermod virtual device ${name} test identity` }])
  return { version: 1, caCertificatePem: ca.certificatePem, attestation, identity, keys: [] }
}

async function certifiedKey (
  ca: TestCa,
  keyid: string,
  usage: string,
  subject: Array<{ type: string, value: string }>
): Promise<DeviceKey> {
  const { stored } = await generateKey({ keytype: 'RSA', modulusLength: 2048 })
  const certificate = await issueTestCertificate(ca, subject, stored.publicKey)
  return { ...stored, keyid, usage, certificates: [certificate, ca.certificatePem], certificateSource: 'test-ca' }
}

/** Reads a profile file; null when it does not exist. */
export async function readProfileFile (file: string): Promise<DeviceProfile | null> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  const profile = JSON.parse(text) as DeviceProfile
  if (profile.version !== 1 || typeof profile.attestation !== 'object' || !Array.isArray(profile.keys)) {
    throw new Error(`${file}: not a device profile`)
  }
  return profile
}

/** Writes a profile file atomically, readable by the user only (it holds private keys). */
export async function writeProfileFile (file: string, profile: DeviceProfile): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  await writePrivateFile(file, `${JSON.stringify(profile, null, 2)}\n`)
}

/** The profile's file, else a new profile written there (certified by `ca`). */
export async function loadOrCreateProfile (file: string, ca: TestCa, name?: string): Promise<DeviceProfile> {
  const existing = await readProfileFile(file)
  if (existing !== null) return existing
  const profile = await createProfile(ca, name)
  await writeProfileFile(file, profile)
  return profile
}

/** The public PEMs of a profile, for integrators: the CA, and every key's certificates by key id. */
export function profilePems (profile: DeviceProfile): { ca: string, certificates: Record<string, string> } {
  const certificates: Record<string, string> = {}
  for (const key of [profile.attestation, profile.identity, ...profile.keys]) certificates[key.keyid] = key.certificates.join('')
  return { ca: profile.caCertificatePem, certificates }
}
