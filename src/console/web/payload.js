// @ts-check
// A command payload as a person would read it: every `description` and `tbs` item decoded (text shown, images rendered).
import { h } from './dom.js'

/** @param {string} base64 */
function bytesOf (base64) {
  try {
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
  } catch {
    return new TextEncoder().encode(base64)
  }
}

/**
 * The `<x>Command` object of a payload, else the payload.
 * @param {any} payload
 */
export function commandObject (payload) {
  for (const [name, value] of Object.entries(payload ?? {})) {
    if (/command$/i.test(name) && typeof value === 'object' && value !== null && !Array.isArray(value)) return value
  }
  return payload ?? {}
}

/**
 * One item rendered.
 * @param {any} item
 * @param {string} role `description` or `tbs`
 * @param {number} index
 */
export function renderItem (item, role, index) {
  if (typeof item === 'string') item = { data: item, content_encoding: 'base64', content_type: 'application/octet-stream' }
  const type = String(item?.content_type ?? 'text/plain')
  const base64 = String(item?.content_encoding ?? '').toLowerCase() === 'base64'
  const data = String(item?.data ?? '')
  const label = String(item?.description ?? item?.key ?? role)
  const hidden = item?.visible === false ? ' (not shown to the user)' : ''
  const testid = `item-${role}-${index}`
  let body
  if (type === 'application/hermod+content-id') {
    body = h('p', { class: 'note' }, `content id ${data}: not resolved (the client has no content provider, or it failed)`)
  } else if (type.startsWith('image/')) {
    body = h('img', { src: `data:${type};base64,${base64 ? data : btoa(data)}`, alt: label, testid: `${testid}-image` })
  } else if (type.startsWith('text/') || type.endsWith('json') || type.endsWith('xml')) {
    body = h('pre', { class: 'text', testid: `${testid}-text` }, base64 ? new TextDecoder().decode(bytesOf(data)) : data)
  } else {
    body = h('p', { class: 'note' }, `${bytesOf(base64 ? data : btoa(data)).length} bytes of ${type}`)
  }
  return h('figure', { class: 'item', testid }, h('figcaption', {}, `${role}: ${label} · ${type}${hidden}`), body)
}

/**
 * The decoded items of a payload (`params.description`, `params.tbs`, or the command's own).
 * @param {any} payload
 */
export function renderItems (payload) {
  const command = commandObject(payload)
  const params = typeof command.params === 'object' && command.params !== null ? command.params : command
  /** @type {HTMLElement[]} */
  const items = []
  for (const role of ['description', 'tbs']) {
    const value = params[role]
    const list = Array.isArray(value) ? value : typeof value === 'string' ? [value] : []
    list.forEach((item, i) => items.push(renderItem(item, role, i)))
  }
  return items
}
