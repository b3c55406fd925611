// The device data directory: one test CA and named profiles, shared by the broker's device and `hermod-broker device`.
import { join } from 'node:path'
import { VirtualDevice } from './device.js'
import { loadOrCreateProfile, profilePems, readProfileFile, writeProfileFile } from './profile.js'
import { defaultDataDir, loadOrCreateTestCa, type TestCa } from './test-ca.js'

/** Profile names are file names: letters, digits, `.`, `_`, `-` (1..64), not starting with a dot. */
export const PROFILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/

/** A device opened from the data directory; `save()` persists its profile (writes are serialised). */
export interface OpenDevice {
  device: VirtualDevice
  save (): Promise<void>
}

/**
 * `<dir>/test-ca.json` and `<dir>/profiles/<name>.json`. Devices are opened once per process and name, so
 * concurrent answers in one process share one profile object; separate processes each keep their own copy.
 */
export class DeviceDataDir {
  private caPromise: Promise<TestCa> | undefined
  private readonly devices = new Map<string, Promise<OpenDevice>>()

  /** @param dir default: $HERMOD_DEVICE_DIR, else ./.hermod/device */
  constructor (readonly dir: string = defaultDataDir()) {}

  /** The test CA, created on first use. */
  async ca (): Promise<TestCa> {
    this.caPromise ??= loadOrCreateTestCa(this.dir)
    try {
      return await this.caPromise
    } catch (err) {
      this.caPromise = undefined
      throw err
    }
  }

  /** The profile file of `name`. @throws Error when the name is not a PROFILE_NAME */
  profileFile (name: string): string {
    if (!PROFILE_NAME.test(name)) throw new Error(`profile name "${name}": 1 to 64 of A-Z a-z 0-9 . _ -`)
    return join(this.dir, 'profiles', `${name}.json`)
  }

  /** The device of profile `name`, its profile created (and certified by the CA) on first use. */
  async open (name = 'default'): Promise<OpenDevice> {
    let opened = this.devices.get(name)
    if (opened === undefined) {
      opened = openProfile(this.profileFile(name), await this.ca(), name)
      this.devices.set(name, opened)
      opened.catch(() => this.devices.delete(name))
    }
    return await opened
  }

  /** The PEMs of profile `name` (its CA and certificates by key id); null when it does not exist. */
  async pems (name: string): Promise<ReturnType<typeof profilePems> | null> {
    const profile = await readProfileFile(this.profileFile(name))
    return profile === null ? null : profilePems(profile)
  }
}

/** Opens (or creates) the profile in `file` as a device whose `save()` writes it back. */
export async function openProfile (file: string, ca: TestCa, name?: string): Promise<OpenDevice> {
  const profile = await loadOrCreateProfile(file, ca, name)
  const device = new VirtualDevice(profile, ca)
  let writing: Promise<void> = Promise.resolve()
  return {
    device,
    async save () {
      writing = writing.catch(() => {}).then(async () => await writeProfileFile(file, device.profile))
      await writing
    }
  }
}
