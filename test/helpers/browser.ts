// Debian's Chromium driven by playwright-core: one launch helper for the browser tests, a screenshot kept on failure.
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'

/** Where Debian's `chromium` package puts the browser (`apt-get install -y chromium`). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** The flags from the developers' guide: no sandbox as root, no network beyond the page's own. */
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'
]

/** Screenshots of failed browser tests land here (gitignored), one PNG per failed test. */
export const FAILURE_DIR = join(process.cwd(), '.hermod', 'test-failures')

/**
 * Why the browser cannot run, or undefined when it can. Under CI=true a missing Chromium is a failure
 * (the caller fails the test), never a skip.
 */
export function browserMissing (): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing: apt-get install -y chromium`
}

/** Launches Chromium for the test and closes it at teardown. */
export async function launchBrowser (t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true })
  t.teardown(() => browser.close())
  return browser
}

/** A new page of the given width; when the test has failed by teardown its screenshot is kept in FAILURE_DIR. */
export async function openPage (t: Test, browser: Browser, width = 1280, height = 800): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height }, ignoreHTTPSErrors: true })
  const page = await context.newPage()
  t.teardown(async () => {
    if (!t.passing()) {
      mkdirSync(FAILURE_DIR, { recursive: true })
      const name = t.fullname.replace(/[^a-zA-Z0-9]+/g, '-').slice(-120)
      await page.screenshot({ path: join(FAILURE_DIR, `${name}.png`), fullPage: true }).catch(() => {})
    }
    await context.close().catch(() => {})
  })
  return page
}
