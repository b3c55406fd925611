// URL redaction for logs and error messages: the message id after /ms/{bid}/ and every token value never shown.
import t from 'tap'
import { MAX_URL_SHOWN, redactPath, redactText, redactUrl } from '../../src/server/redact.js'

const BID = '6c5f3a2e-1111-4222-8333-444455556666'
const MID = '0b7d2c4e-aaaa-4bbb-8ccc-ddddeeeeffff'

t.test('redactPath keeps the box id and cuts what follows it', async (t) => {
  t.equal(redactPath(`/hermod/rest/ms/${BID}/${MID}`), `/hermod/rest/ms/${BID}/[redacted]`)
  t.equal(redactPath(`/hermod/rest/ms/${BID}`), `/hermod/rest/ms/${BID}`, 'a box listing shows its box id')
  t.equal(redactPath(`/hermod/rest/m%73/${BID}/${MID}`), `/hermod/rest/m%73/${BID}/[redacted]`, 'ms percent-encoded (the router decodes it)')
  t.equal(redactPath(`/hermod/rest/MS//x/${MID}/more`), '/hermod/rest/MS//x/[redacted]', 'any case, doubled slashes')
  t.equal(redactPath(`/elsewhere/${BID}/${MID}`), `/elsewhere/${BID}/[redacted]`, 'after the first UUID, wherever it is')
  t.equal(redactPath('/hermod/rest/command/123'), '/hermod/rest/command/123', 'other paths are unchanged')
  t.equal(redactPath(`/x/${'a'.repeat(2000)}`).length, MAX_URL_SHOWN + 1, 'bounded (with an ellipsis)')
})

t.test('redactUrl shows only the values of wait, limit and group', async (t) => {
  t.equal(redactUrl(`/hermod/rest/ms/${BID}?token=abc&wait=20`), `/hermod/rest/ms/${BID}?token=[redacted]&wait=20`)
  t.equal(redactUrl(`/hermod/rest/ms/${BID}?t%6Fken=abc`), `/hermod/rest/ms/${BID}?t%6Fken=[redacted]`, 'the token however it is spelled')
  t.equal(redactUrl('/hermod/admin/callbacks/dead-letters?limit=5'), '/hermod/admin/callbacks/dead-letters?limit=5')
})

t.test('redactText redacts device paths and tokens quoted in free text', async (t) => {
  t.equal(redactText(`Reply was already sent for GET /hermod/rest/ms/${BID}/${MID} (x)`), `Reply was already sent for GET /hermod/rest/ms/${BID}/[redacted] (x)`)
  t.equal(redactText('"/hermod/rest/ms/b?token=secret&wait=1"'), '"/hermod/rest/ms/b?token=[redacted]&wait=1"')
  t.equal(redactText('nothing to see'), 'nothing to see')
})
