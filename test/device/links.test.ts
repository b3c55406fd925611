// Parsing what PRIME shows a user (plugout uri, location, personal:// links) and describing a message as the app would.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { describeMessage } from '../../src/device/describe.js'
import { parseDeviceLink } from '../../src/device/links.js'
import { plugoutUri, messageLocation } from '../../src/mailbox/links.js'

const PUBLIC = 'https://broker.example:20400/hermod/rest/ms'
const BID = '11318956-2040-4360-941d-437e4ddd810c'
const MID = '14fc191a-a0a3-4ae3-929a-e37efafdb510'
const TOKEN = '0464297b-8406-4f94-a734-628d071069d8'

t.test('the broker\'s own uri and location parse back to the box and the message', async (t) => {
  t.same(parseDeviceLink(plugoutUri(PUBLIC, BID, TOKEN)), { kind: 'box', boxUrl: `${PUBLIC}/${BID}`, token: TOKEN })
  t.same(parseDeviceLink(messageLocation(PUBLIC, BID, MID)), { kind: 'message', messageUrl: `${PUBLIC}/${BID}/${MID}` })
  t.same(parseDeviceLink(`${PUBLIC}/${BID}?token=${TOKEN}`), { kind: 'box', boxUrl: `${PUBLIC}/${BID}`, token: TOKEN })
})

t.test('personal:// deep links carrying a box, a location, or the URL itself', async (t) => {
  const url = encodeURIComponent(`${PUBLIC}/${BID}`)
  t.same(parseDeviceLink(`personal://plugout?url=${url}&token=${TOKEN}`), { kind: 'box', boxUrl: `${PUBLIC}/${BID}`, token: TOKEN })
  t.same(parseDeviceLink(`personal://message?location=${encodeURIComponent(messageLocation(PUBLIC, BID, MID))}`), { kind: 'message', messageUrl: `${PUBLIC}/${BID}/${MID}` })
  t.same(parseDeviceLink(`personal://${encodeURIComponent(messageLocation(PUBLIC, BID, MID))}`), { kind: 'message', messageUrl: `${PUBLIC}/${BID}/${MID}` })
})

t.test('anything else is refused with the forms accepted', async (t) => {
  t.throws(() => parseDeviceLink('mailto:someone@example.com'), /plugout uri.*location.*personal:\/\//)
  t.throws(() => parseDeviceLink(`${PUBLIC}/${BID}`), /needs its token/)
  t.throws(() => parseDeviceLink('com.nexusgroup.plugout:///?url=file%3A%2F%2F%2Fetc%2Fpasswd&token=x'), /not an http\(s\) URL/)
})

t.test('describeMessage: the visible description and tbs items decoded, images and content ids by reference', async (t) => {
  const sign = JSON.parse(await readFile(new URL('../../examples/hermod/sign-command.json', import.meta.url), 'utf8'))
  t.same(describeMessage({ commandType: 'SIGN', command: { signCommand: sign.signCommand }, header: { externalId: 'order-17' } }), [
    'SIGN request (order-17)',
    '  Signing request from: Personal',
    '  to sign: Text to sign: Transfer 500 USD from Cayman Island to Holebrook Ltd.'
  ])
  const auth = JSON.parse(await readFile(new URL('../../examples/hermod/authenticate-command.json', import.meta.url), 'utf8'))
  t.match(describeMessage({ commandType: 'AUTHENTICATE', command: { authCommand: auth.authCommand } }), [/AUTHENTICATE/, /Verify that image is equal: \[content from the content provider: AUTH:4018e11f/])
  const lines = describeMessage({ commandType: 'SIGN', command: { signCommand: { params: { description: [{ key: 'logo', content_type: 'image/png', content_encoding: 'base64', data: 'iVBORw0KGgo=' }, { key: 'hidden', data: 'x', visible: false }] } } } })
  t.same(lines, ['SIGN request', '  logo: [image/png, 8 bytes]'])
  const prov = JSON.parse(await readFile(new URL('../../examples/hermod/provision-command.json', import.meta.url), 'utf8'))
  t.match(describeMessage({ commandType: 'PROVISION', command: { provCommand: prov.provCommand } }), ['PROVISION request', '  user: john.doe@example.com, profile: TestProfile', '  new key signer (SIG): RSA 2048'])
})
