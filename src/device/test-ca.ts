// The virtual device's test CA: generated once, persisted in a data directory, issues the device's test certificates.
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKey, importKeyPair, type StoredKey } from './keys.js'
import { issueCertificate, type NameAttribute } from './pki.js'

/** The CA as it is stored: its certificate and its key. Never served: only `certificatePem` leaves the device. */
export interface TestCa {
  certificatePem: string
  subject: NameAttribute[]
  key: StoredKey
}

const CA_FILE = 'test-ca.json'
const CA_VALID_DAYS = 3650
const LEAF_VALID_DAYS = 825

/** The data directory the broker and `hermod-broker device` share when nothing else is given. */
export function defaultDataDir (): string {
  return process.env.HERMOD_DEVICE_DIR ?? join(process.cwd(), '.hermod', 'device')
}

/** Generates a fresh test CA (RSA 2048, self-signed, ten years). */
export async function createTestCa (): Promise<TestCa> {
  const { stored, pair } = await generateKey({ keytype: 'RSA', modulusLength: 2048 })
  const subject = [{ type: 'O', value: 'hermod-broker' }, { type: 'CN', value: `Hermod virtual device test CA ${randomUUID().slice(0, 8)}` }]
  const certificatePem = await issueCertificate({
    subject,
    issuer: subject,
    publicKeySpki: Buffer.from(stored.publicKey, 'base64'),
    issuerKey: pair.privateKey,
    ca: true,
    validDays: CA_VALID_DAYS
  })
  return { certificatePem, subject, key: stored }
}

/**
 * The test CA of `dir`, created on first use. Creation is exclusive: when two processes race, both end up with
 * the one that was written first.
 */
export async function loadOrCreateTestCa (dir: string): Promise<TestCa> {
  const file = join(dir, CA_FILE)
  const existing = await readCa(file)
  if (existing !== null) return existing
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const ca = await createTestCa()
  try {
    await writeFile(file, JSON.stringify(ca, null, 2), { flag: 'wx', mode: 0o600 })
    return ca
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return await readCa(file) ?? ca
  }
}

async function readCa (file: string): Promise<TestCa | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as TestCa
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new Error(`${file}: not a readable test CA (${(err as Error).message})`)
  }
}

/** An end-entity certificate from the test CA for a device key (PEM). */
export async function issueTestCertificate (ca: TestCa, subject: NameAttribute[], publicKeySpki: string): Promise<string> {
  const { privateKey } = await importKeyPair(ca.key)
  return await issueCertificate({
    subject,
    issuer: ca.subject,
    publicKeySpki: Buffer.from(publicKeySpki, 'base64'),
    issuerKey: privateKey,
    ca: false,
    validDays: LEAF_VALID_DAYS
  })
}

/** Writes `text` to `file` atomically (a temporary file renamed over it), private to the user. */
export async function writePrivateFile (file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`
  await writeFile(temporary, text, { mode: 0o600 })
  await rename(temporary, file)
}
