// Shared pieces of the console's browser tests: the example commands, the browser (failing under CI=true when missing), QR decoding.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import jsQRModule from 'jsqr'
import { PNG } from 'pngjs'
import type { Test } from 'tap'
import type { Browser, Locator, Page } from 'playwright-core'
import { browserMissing, launchBrowser, openPage } from '../helpers/browser.js'

/** A public Hermod example command (examples/hermod/) with its header's timeout and lifespan replaced. */
export function example (name: 'sign' | 'authenticate' | 'provision', header: Record<string, unknown> = {}): Record<string, unknown> {
  const body = JSON.parse(readFileSync(join(process.cwd(), 'examples', 'hermod', `${name}-command.json`), 'utf8')) as Record<string, any>
  return { ...body, commandHeader: { ...body.commandHeader, timeout: 300, lifespan: 600, ...header } }
}

/**
 * The browser of a test file, or undefined after failing `t` when Chromium is missing (never a skip, with
 * CI=true or not). One browser per file: every browser test file costs CPU on a small box.
 */
export async function browserFor (t: Test): Promise<Browser | undefined> {
  const missing = browserMissing()
  if (missing !== undefined) {
    t.fail(missing)
    return undefined
  }
  return await launchBrowser(t)
}

/** The console of the broker at `base`, loaded and connected to its event feed. */
export async function openConsole (t: Test, browser: Browser, base: string, width = 1280, height = 800): Promise<Page> {
  const page = await openPage(t, browser, width, height)
  page.setDefaultTimeout(15_000)
  await page.goto(`${base}/hermod/console/`)
  await page.locator('body[data-ready="true"]').waitFor()
  await page.getByTestId('live').filter({ hasText: 'live' }).waitFor()
  return page
}

/** The text a QR code element shows, decoded from a screenshot of it. */
export async function decodeQr (element: Locator): Promise<string | undefined> {
  const png = PNG.sync.read(await element.screenshot())
  // jsqr is CommonJS with `exports.default`: under NodeNext its default import is the module object.
  const decode = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as typeof jsQRModule.default
  return decode(new Uint8ClampedArray(png.data), png.width, png.height)?.data
}

/** Reads a server-sent event stream until `count` events (not comments) arrived. */
export type Sse = Array<{ id?: string, event?: string, data?: string }>
export async function readEvents (url: string, count: number, headers: Record<string, string> = {}): Promise<Sse> {
  const controller = new AbortController()
  const res = await fetch(url, { headers, signal: controller.signal })
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const events: Sse = []
  while (events.length < count) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value)
    let end: number
    while ((end = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, end)
      text = text.slice(end + 2)
      const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':') && l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]))
      if (fields.event !== undefined || fields.data !== undefined) events.push(fields)
    }
  }
  controller.abort()
  return events
}
