// @ts-check
// Small DOM and formatting helpers of the console page.

/**
 * An element with attributes and children; `on<event>` attributes become listeners, strings become text.
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h (tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), /** @type {EventListener} */ (value))
    else if (name === 'testid') el.dataset.testid = String(value)
    else el.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child)
  return el
}

/**
 * `12s`, `4m 05s`, `2h 03m`, `3d 4h` for a duration in ms (negative: 0s).
 * @param {number} ms
 */
export function duration (ms) {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`
  return `${Math.floor(s / 86400)}d ${Math.floor(s / 3600) % 24}h`
}

/**
 * Copies `text`; falls back to a selected textarea where the Clipboard API is not allowed.
 * @param {string} text
 * @param {HTMLElement} [button] shows "Copied" for a moment
 */
export async function copy (text, button) {
  try {
    await navigator.clipboard.writeText(text)
  } catch {
    const area = /** @type {HTMLTextAreaElement} */ (h('textarea', {}, text))
    document.body.append(area)
    area.select()
    document.execCommand('copy')
    area.remove()
  }
  if (button !== undefined) {
    const label = button.textContent
    button.textContent = 'Copied'
    setTimeout(() => { button.textContent = label }, 1200)
  }
}

/**
 * A copy button for `text`.
 * @param {string} text
 * @param {string} testid
 * @param {string} [label]
 */
export function copyButton (text, testid, label = 'Copy') {
  const button = h('button', { type: 'button', testid, class: 'small' }, label)
  button.addEventListener('click', () => { void copy(text, button) })
  return button
}

/**
 * Pretty JSON.
 * @param {unknown} value
 */
export function pretty (value) {
  return JSON.stringify(value, null, 2)
}
