// `npm run screenshots`: the README's console pictures (docs/console-*.png), taken in Chromium from a broker with the public examples.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { apiKeyHeader } from '../../src/auth/api-key.js'
import { createBroker } from '../../src/server/broker.js'
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/browser.js'
import { KEYS, testClients, testConfig } from '../helpers/config.js'
import { freePort } from '../helpers/redis-server.js'
import { example } from './helpers.js'

const out = join(process.cwd(), 'docs')
mkdirSync(out, { recursive: true })
const port = await freePort()
const base = `http://127.0.0.1:${port}`
const sink = `${base}/hermod/dev`
const secret = `whsec_${Buffer.alloc(32, 5).toString('base64')}`
const config = testConfig({
  publicUrl: `${base}/hermod/rest/ms`,
  broker: { dev: { enabled: true }, devSink: true } as never,
  allowedClients: testClients(sink).map((c) => ({ ...c, clientId: c.clientId === 'prime' ? 'prime-server1' : c.clientId, callbackSecret: secret }))
})
const keys: Record<string, string> = { 'prime-server1': KEYS.prime, hag: KEYS.hag }
const broker = await createBroker(config)
await broker.app.listen({ port, host: '127.0.0.1' })
broker.start()

const post = async (type: string, body: unknown, client = 'prime-server1'): Promise<any> => await (await fetch(`${base}/hermod/rest/command/${type}`, {
  method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKeyHeader(client, keys[client]!) }, body: JSON.stringify(body)
})).json()
const answer = async (accepted: any, status: string, response: unknown): Promise<void> => {
  const d = accepted.destinations[0]
  await fetch(`${base}/hermod/rest/ms/${d.bid}/${d.mid}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status, response }) })
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true })
try {
  const done = await post('authenticate', example('authenticate', { externalId: 'login-4711' }))
  await answer(done, 'OK', { signature: 'MIAGCSqGSIb3DQEHAqCAMIACAQEx' })
  const refused = await post('ping', { commandHeader: { externalId: 'health-1' } }, 'hag')
  await answer(refused, 'REJECTED', { reason: 'user declined' })
  await post('provision', example('provision', { externalId: 'enrol-john' }))
  const sign = await post('sign', example('sign', { externalId: 'order-17' }))

  const page = await (await browser.newContext({ viewport: { width: 1280, height: 760 } })).newPage()
  await page.goto(`${base}/hermod/console/`)
  await page.getByTestId('live').filter({ hasText: 'live' }).waitFor()
  await page.getByTestId(`row-${sign.commandId}`).waitFor()
  await page.screenshot({ path: join(out, 'console-list.png') })

  // Tall enough for the whole detail: header, actions, the three links with their QR codes, the decoded payload.
  await page.setViewportSize({ width: 1280, height: 1240 })
  await page.getByTestId(`open-${sign.commandId}`).click()
  await page.getByTestId('item-tbs-0-text').waitFor()
  for (const kind of ['uri', 'location', 'personal']) {
    await page.getByTestId(`qr-${kind}-0`).evaluate(async (img: any) => { if (!img.complete) await new Promise((resolve) => img.addEventListener('load', resolve)) })
  }
  await page.getByTestId('detail').screenshot({ path: join(out, 'console-detail.png') })
  await page.getByTestId('approve').click()
  await page.getByTestId('answer-editor').waitFor()
  await page.getByTestId('send-answer').click()
  await page.getByTestId('detail-state').filter({ hasText: 'COMPLETED' }).waitFor()
  await page.getByTestId('timeline-callback').first().waitFor()
  await page.keyboard.press('Escape')

  await page.getByTestId('tab-callbacks').click()
  await page.locator('[data-testid="attempts"] details').first().waitFor()
  const first = page.locator('[data-testid="attempts"] details').first()
  await first.locator('summary').click()
  await first.locator('button', { hasText: 'Check signature' }).click()
  await first.getByText('signature valid').waitFor()
  await page.setViewportSize({ width: 1280, height: 900 })
  await page.evaluate('window.scrollTo(0, 0)')
  await page.screenshot({ path: join(out, 'console-inspector.png') })

  const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 })).newPage()
  const another = await post('sign', example('sign', { externalId: 'order-18' }))
  await phone.goto(`${base}/hermod/console/`)
  await phone.getByTestId(`row-${another.commandId}`).waitFor()
  await phone.screenshot({ path: join(out, 'console-phone-list.png') })
  await phone.getByTestId(`open-${another.commandId}`).click()
  await phone.getByTestId('qr-uri-0').evaluate(async (img: any) => { if (!img.complete) await new Promise((resolve) => img.addEventListener('load', resolve)) })
  await phone.getByTestId('link-uri-0').scrollIntoViewIfNeeded()
  await phone.screenshot({ path: join(out, 'console-phone-detail.png') })
  console.log('wrote docs/console-{list,detail,inspector,phone-list,phone-detail}.png')
} finally {
  await browser.close()
  await broker.close()
}
