// Keeps the generated self-signed certificate in the data folder, so clients trust it once, not after every restart.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The PEM texts of a kept certificate and its private key. */
export interface KeptCertificate {
  certificatePem: string
  keyPem: string
}

/** The files of the kept certificate under a data folder: `<dataDir>/tls/self-signed.{crt,key}`. */
export function keptCertificatePaths (dataDir: string): { dir: string, certificate: string, key: string } {
  const dir = join(dataDir, 'tls')
  return { dir, certificate: join(dir, 'self-signed.crt'), key: join(dir, 'self-signed.key') }
}

/** Reads the kept certificate; undefined when either file is missing or unreadable (then a new one is made). */
export async function readKeptCertificate (dataDir: string): Promise<KeptCertificate | undefined> {
  const paths = keptCertificatePaths(dataDir)
  try {
    const [certificatePem, keyPem] = await Promise.all([readFile(paths.certificate, 'utf8'), readFile(paths.key, 'utf8')])
    return { certificatePem, keyPem }
  } catch {
    return undefined
  }
}

/**
 * Writes the certificate and key (key readable by the owner only), each through a temporary file and a
 * rename, so a concurrent start never reads half a file.
 * @throws the file system's error (read-only folder, no permission): the caller keeps the certificate in memory
 */
export async function saveKeptCertificate (dataDir: string, kept: KeptCertificate): Promise<string> {
  const paths = keptCertificatePaths(dataDir)
  await mkdir(paths.dir, { recursive: true, mode: 0o700 })
  const suffix = `.${process.pid}.tmp`
  await writeFile(paths.key + suffix, kept.keyPem, { mode: 0o600 })
  await writeFile(paths.certificate + suffix, kept.certificatePem, { mode: 0o644 })
  await rename(paths.key + suffix, paths.key)
  await rename(paths.certificate + suffix, paths.certificate)
  return paths.dir
}
