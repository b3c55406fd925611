// The console in Chromium on the embedded store: live list, detail and QR codes, approve, reject, cancel, timeout, resend, dead letters.
import t from 'tap'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { KEYS, testClients } from '../helpers/config.js'
import { startDevBroker } from '../dev/helpers.js'
import { browserFor, decodeQr, example, openConsole } from './helpers.js'

const browser = await browserFor(t)
if (browser !== undefined) {
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
  const dev = await startDevBroker(t, {}, {}, (sink) => testClients(sink).map((c) => c.clientId === 'prime'
    ? { ...c, callbackSecret: secret, contentProviderUrl: `${sink}/content` }
    : c))
  const page = await openConsole(t, browser, dev.base)

  await t.test('a command posted through the API appears without a reload, with the values of the API', async (tt) => {
    const accepted = await dev.post('sign', example('sign', { externalId: 'order-17' }))
    const row = page.getByTestId(`row-${accepted.commandId}`)
    await row.waitFor()
    tt.match(await row.textContent(), /SIGN.*prime.*acme.*order-17.*IN_PROGRESS/)
    const listed = (await dev.call('GET', `/hermod/dev/api/commands/${accepted.commandId}`)).json
    tt.equal(listed.externalId, 'order-17')
    // The filter syntax of the dev API: one that excludes it, then one that selects it.
    await page.getByTestId('filter').fill('type:authenticate')
    await row.waitFor({ state: 'detached' })
    await page.getByTestId('filter').fill('type:sign ext:order-17 client:prime')
    await row.waitFor()
    await page.getByTestId('filter').fill('state:nonsense')
    await page.getByTestId('filter-error').filter({ hasText: 'unknown state' }).waitFor()
    await page.getByTestId('filter').fill('')
  })

  await t.test('the detail decodes the payload and its QR code decodes to the uri; Approve sends the device\'s answer and the callback shows', async (tt) => {
    const accepted = await dev.post('sign', example('sign', { externalId: 'order-18' }))
    await page.getByTestId(`open-${accepted.commandId}`).click()
    const detail = page.getByTestId('detail')
    await detail.getByTestId('item-tbs-0-text').filter({ hasText: 'Transfer 500 USD' }).waitFor()
    tt.equal(await detail.getByTestId('item-description-0-text').textContent(), 'Personal')
    const listed = (await dev.call('GET', `/hermod/dev/api/commands/${accepted.commandId}`)).json
    const uri = listed.destinations[0].uri
    tt.equal(await detail.getByTestId('text-uri-0').textContent(), uri)
    tt.equal(await detail.getByTestId('text-location-0').textContent(), listed.destinations[0].location)
    const qr = detail.getByTestId('qr-uri-0')
    await qr.evaluate(async (img: any) => { if (!img.complete) await new Promise((resolve) => img.addEventListener('load', resolve)) })
    tt.equal(await decodeQr(qr), uri, 'the QR code carries the plugout uri')

    await detail.getByTestId('approve').click()
    const editor = detail.getByTestId('answer-editor')
    await editor.waitFor()
    const answer = JSON.parse(await editor.inputValue())
    tt.equal(answer.status, 'OK')
    tt.ok(answer.response.signatures ?? answer.response.signature, 'the virtual device signed')
    await detail.getByTestId('send-answer').click()
    await detail.getByTestId('detail-state').filter({ hasText: 'COMPLETED' }).waitFor()
    await detail.getByTestId('action-result').filter({ hasText: 'answered: COMPLETED' }).waitFor()
    await detail.getByTestId('timeline-read').waitFor()
    await detail.getByTestId('timeline-answered').waitFor()
    await detail.getByTestId('timeline-callback').first().waitFor()
    const status = (await dev.call('GET', `/hermod/rest/command/${accepted.commandId}`, undefined, { 'x-api-key': apiKeyHeader('prime', KEYS.prime) })).json
    tt.equal(status.state, 'COMPLETED', 'the API agrees')
    await page.keyboard.press('Escape')
    await detail.waitFor({ state: 'hidden' })

    await page.getByTestId('tab-callbacks').click()
    const inspector = page.getByTestId('callbacks-section')
    const delivered = (await dev.call('GET', `/hermod/dev/api/callbacks?commandId=${accepted.commandId}`)).json.deliveries[0]
    const key = `${delivered.eventId}-${delivered.attempt}`
    const attempt = inspector.getByTestId(`attempt-${key}`)
    await attempt.waitFor()
    await attempt.locator('summary').click()
    tt.equal(await inspector.getByTestId(`status-${key}`).textContent(), 'HTTP 200')
    tt.match(await inspector.getByTestId(`body-${key}`).textContent(), /"state": "COMPLETED"/)
    await inspector.getByTestId(`verify-${key}`).click()
    await inspector.getByTestId(`verdict-${key}`).filter({ hasText: 'signature valid' }).waitFor()
    await inspector.getByTestId(`resend-${key}`).click()
    await inspector.getByTestId(`resent-${key}`).filter({ hasText: 'delivered' }).waitFor()
    const after = (await dev.call('GET', `/hermod/dev/api/callbacks?commandId=${accepted.commandId}`)).json.deliveries
    tt.equal(after.length, 2, 'the resend is logged as a second attempt')
    tt.equal(after[0].attempt, 2)
    await page.getByTestId('tab-commands').click()
  })

  await t.test('content ids are resolved through the content provider and images rendered', async (tt) => {
    const accepted = await dev.post('sign', {
      commandHeader: { timeout: 300, lifespan: 600 },
      signCommand: {
        params: {
          description: [{ description: 'Contract', content_type: 'application/hermod+content-id', data: 'DOC-42' }],
          tbs: [{ description: 'Text to sign', content_type: 'text/plain', content_encoding: 'base64', data: Buffer.from('Pay 10 EUR').toString('base64') }]
        }
      }
    })
    await page.getByTestId(`open-${accepted.commandId}`).click()
    const image = page.getByTestId('detail').getByTestId('item-description-0-image')
    await image.waitFor()
    tt.equal(await image.evaluate(async (img: any) => { await img.decode(); return img.naturalWidth }), 96, 'the dev provider\'s PNG is drawn')
    tt.equal(await page.getByTestId('detail').getByTestId('item-tbs-0-text').textContent(), 'Pay 10 EUR')
    await page.keyboard.press('Escape')
  })

  await t.test('Reject and Cancel from the page end the command as REJECTED and CANCELLED', async (tt) => {
    const rejected = await dev.post('authenticate', example('authenticate'))
    await page.getByTestId(`open-${rejected.commandId}`).click()
    const detail = page.getByTestId('detail')
    await detail.getByTestId('reject').click()
    await detail.getByTestId('send-answer').click()
    await detail.getByTestId('detail-state').filter({ hasText: 'REJECTED' }).waitFor()
    await detail.getByTestId('detail-close').click()
    const cancelled = await dev.post('sign', example('sign'))
    await page.getByTestId(`open-${cancelled.commandId}`).click()
    await detail.getByTestId('cancel').click()
    await detail.getByTestId('detail-state').filter({ hasText: 'CANCELLED' }).waitFor()
    await page.keyboard.press('Escape')
    await page.getByTestId(`state-${rejected.commandId}`).filter({ hasText: 'REJECTED' }).waitFor()
    await page.getByTestId(`state-${cancelled.commandId}`).filter({ hasText: 'CANCELLED' }).waitFor()
    const waited = await dev.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${cancelled.commandId}&state=CANCELLED&timeout=20`)
    tt.equal(waited.status, 200, 'the CANCELLED callback went out')
  })

  await t.test('a timeout reached with the dev clock shows as TIMEOUT without a reload', async (tt) => {
    const accepted = await dev.post('sign', example('sign', { timeout: 60, lifespan: 600 }))
    await page.getByTestId(`state-${accepted.commandId}`).filter({ hasText: 'IN_PROGRESS' }).waitFor()
    tt.equal((await dev.call('POST', '/hermod/dev/api/clock/advance', { ms: 61_000 })).status, 200)
    await page.getByTestId(`state-${accepted.commandId}`).filter({ hasText: 'TIMEOUT' }).waitFor()
    await page.getByTestId(`open-${accepted.commandId}`).click()
    await page.getByTestId('detail').getByTestId('timeline-timeout').waitFor()
    await page.getByTestId('detail').getByTestId('timeline-callback').first().waitFor()
    tt.equal(await page.getByTestId('detail').getByTestId('approve').count(), 0, 'no device actions on a decided command')
    await page.keyboard.press('Escape')
  })

  await t.test('keyboard: a focused row keeps its focus while the list updates; Enter opens the detail, Esc closes it', async (tt) => {
    const first = await dev.post('ping', { commandHeader: { timeout: 300, lifespan: 600 } })
    await page.getByTestId(`open-${first.commandId}`).focus()
    const second = await dev.post('ping', { commandHeader: { timeout: 300, lifespan: 600 } })
    await page.getByTestId(`row-${second.commandId}`).waitFor()
    tt.equal(await page.evaluate('document.activeElement.dataset.testid'), `open-${first.commandId}`)
    await page.keyboard.press('Enter')
    await page.getByTestId('detail').getByTestId('detail-state').waitFor()
    tt.equal(await page.getByTestId('detail-title').textContent(), `Command ${first.commandId}`)
    await page.keyboard.press('Escape')
    await page.getByTestId('detail').waitFor({ state: 'hidden' })
  })

  await t.test('mailboxes show a box\'s messages and a waiting long poll; clients are masked; a client is generated; rules are saved', async (tt) => {
    const accepted = await dev.post('sign', example('sign', { to: ['john.doe'] }))
    tt.equal(await dev.answer(accepted), 200)
    const d = accepted.destinations[0]
    const token = new URLSearchParams(d.uri.split('?')[1]).get('token')
    const poll = fetch(`${dev.base}/hermod/rest/ms/${d.bid}?token=${token}&wait=30`)
    let waiting = 0
    for (let i = 0; i < 100 && waiting === 0; i++) {
      waiting = (await dev.call('GET', '/hermod/dev/api/waiters')).json.boxes[d.bid] ?? 0
      if (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await page.getByTestId('tab-mailboxes').click()
    const box = page.getByTestId(`box-${d.bid}`)
    await box.waitFor()
    tt.match(await box.textContent(), new RegExp(`john\\.doe.*SIGN COMPLETED · command ${accepted.commandId}`))
    tt.equal(await page.getByTestId(`waiting-${d.bid}`).textContent(), '1 long poll(s) waiting')
    const next = await dev.post('ping', { commandHeader: { to: ['john.doe'] } })
    tt.equal((await poll).status, 200, 'the long poll was woken by the next message')
    tt.ok(next.commandId)

    await page.getByTestId('tab-clients').click()
    await page.getByTestId('key-prime').waitFor()
    tt.equal(await page.getByTestId('key-prime').textContent(), `${KEYS.prime.slice(0, 4)}… (64 chars)`)
    tt.notOk((await page.getByTestId('clients-section').textContent())!.includes(KEYS.prime), 'no key in full on the page')
    await page.getByTestId('generate-id').fill('prime-server2')
    await page.getByTestId('generate').click()
    await page.getByTestId('generated').filter({ hasText: '- client-id: prime-server2' }).waitFor()

    await page.getByTestId('tab-auto').click()
    // The textarea's value (not its text) is filled by the page: polled from here (the page's CSP forbids eval'd predicates).
    let rules = ''
    for (let i = 0; i < 200 && !rules.includes('"rules"'); i++) {
      rules = await page.getByTestId('auto-rules').inputValue()
      if (!rules.includes('"rules"')) await new Promise((resolve) => setTimeout(resolve, 25))
    }
    tt.match(rules, /"rules"/)
    await page.getByTestId('auto-rules').fill(JSON.stringify({ enabled: true, rules: [{ client: 'hag', type: 'ping', answer: 'canned' }] }))
    await page.getByTestId('auto-save').click()
    await page.getByTestId('auto-result').filter({ hasText: 'saved: 1 rule(s), on' }).waitFor()
    const state = (await dev.call('GET', '/hermod/dev/api/auto-answer')).json
    tt.match(state, { enabled: true, rules: [{ client: ['hag'] }] })
    await page.getByTestId('auto-rules').fill('{"rules": [{"client": "hag", "action": "explode"}]}')
    await page.getByTestId('auto-save').click()
    await page.getByTestId('auto-result').filter({ hasText: 'auto-answer rules' }).waitFor()
    await dev.call('PUT', '/hermod/dev/api/auto-answer', { enabled: false, rules: [] })
    await page.getByTestId('tab-commands').click()
  })

  await t.test('a dead letter is listed and replayed from the page', async (tt) => {
    await dev.call('PUT', '/hermod/dev/api/sink/faults', { status: 500 })
    const accepted = await dev.post('ping', { commandHeader: { to: ['@tmp'], timeout: 300, lifespan: 600 } })
    tt.equal(await dev.answer(accepted, 'OK', { pong: true }), 200)
    let letters: any[] = []
    for (let i = 0; i < 200 && letters.length === 0; i++) {
      letters = (await dev.call('GET', '/hermod/dev/api/dead-letters')).json.deadLetters.filter((l: any) => l.commandId === accepted.commandId)
      if (letters.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    tt.equal(letters.length, 1, 'the callback was dead-lettered')
    await dev.call('PUT', '/hermod/dev/api/sink/faults', {})
    await page.getByTestId('tab-callbacks').click()
    await page.getByTestId(`replay-${letters[0].id}`).click()
    const waited = await dev.call('GET', `/hermod/dev/api/callbacks/wait?commandId=${accepted.commandId}&until=delivered&timeout=20`)
    tt.equal(waited.status, 200, 'the replayed callback was delivered')
    await page.getByTestId(`dead-${letters[0].id}`).waitFor({ state: 'detached' })
    await page.getByTestId('tab-commands').click()
  })
}
