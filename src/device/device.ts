// The virtual device: answers a message of any command type like a Smart ID app would, keeping its profile.
import { commandObject, rejected, type DeviceAnswer, type DeviceMessage } from './answer.js'
import { answerCertificate } from './certificate.js'
import { answerProvision } from './provision.js'
import type { DeviceProfile } from './profile.js'
import { answerAuthenticate, answerSign } from './sign.js'
import type { TestCa } from './test-ca.js'

/**
 * A device with a profile and the test CA that certifies its test keys. `answer()` may change the profile
 * (provision adds keys, certificate installs certificates): callers persist `profile` afterwards.
 */
export class VirtualDevice {
  constructor (readonly profile: DeviceProfile, private readonly ca: TestCa) {}

  /** The realistic answer to `message` (never throws for a bad command: that is a REJECTED answer). */
  async answer (message: DeviceMessage): Promise<DeviceAnswer> {
    const command = commandObject(message.command)
    switch (message.commandType.toLowerCase()) {
      case 'ping': return { status: 'OK', response: { pong: true, time: new Date().toISOString() } }
      case 'provision': return await answerProvision(command, this.profile, this.ca)
      case 'certificate': return answerCertificate(command, this.profile)
      case 'sign': return await answerSign(command, this.profile)
      case 'authenticate': return await answerAuthenticate(command, this.profile)
      default: return rejected(`the device does not know command type ${message.commandType}`)
    }
  }
}
