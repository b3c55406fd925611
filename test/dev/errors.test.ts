// Each dev and content provider error class is named after its stable HERMOD_* code and has one status.
import t from 'tap'
import * as content from '../../src/content/errors.js'
import * as dev from '../../src/dev/errors.js'

t.test('export names equal their codes', async (t) => {
  for (const [name, value] of Object.entries({ ...dev, ...content })) {
    if (typeof value !== 'function') continue
    const error = new (value as new (...args: string[]) => { code: string, statusCode: number })('x')
    t.equal(error.code, name)
    t.ok(error.statusCode >= 400 && error.statusCode < 600, `${name} has an HTTP status`)
  }
  t.equal(new content.HERMOD_CONTENT_PROVIDER_FAILED('HTTP 500').statusCode, 502)
  t.equal(new dev.HERMOD_WAIT_TIMEOUT('5').statusCode, 408)
})
