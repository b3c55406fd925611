// @ts-check
// The other tabs: boxes with their messages and waiting long polls, allowed clients (masked) and a new one, the auto-answer rules.
import { dev, devApi } from './api.js'
import { copyButton, h, pretty } from './dom.js'

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.querySelector(`[data-testid="${id}"]`))

export async function loadBoxes () {
  const [{ boxes }, waiters] = await Promise.all([dev('/boxes?limit=500'), dev('/waiters')])
  /** @type {Map<string, any[]>} */
  const groups = new Map()
  for (const box of boxes) groups.set(box.group, [...(groups.get(box.group) ?? []), box])
  $('boxes').replaceChildren(...(boxes.length === 0 ? [h('p', { class: 'empty' }, 'No boxes with live commands.')] : []),
    ...[...groups].map(([group, list]) => h('div', { class: 'group', testid: `group-${group}` }, h('h3', {}, `Group ${group}`),
      ...list.map((box) => h('div', { class: 'box', testid: `box-${box.bid}` },
        h('p', {}, h('strong', {}, box.to), ` · ${box.bid} · `, h('span', { testid: `waiting-${box.bid}` }, `${waiters.boxes[box.bid] ?? 0} long poll(s) waiting`)),
        h('ul', {}, ...box.messages.map((/** @type {any} */ m) => h('li', {}, `${m.commandType} ${m.state} · command ${m.commandId} · message ${m.mid}`))))))))
}

export async function loadClients () {
  const { clients } = await dev('/clients')
  $('clients').replaceChildren(h('table', { class: 'clients' },
    h('thead', {}, h('tr', {}, ...['Client', 'Group', 'Key', 'Callback URL', 'Signed', 'Content provider'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...clients.map((/** @type {any} */ c) => h('tr', { testid: `client-${c.clientId}` },
      h('td', { 'data-label': 'Client' }, c.clientId), h('td', { 'data-label': 'Group' }, c.group), h('td', { 'data-label': 'Key', testid: `key-${c.clientId}` }, c.key ?? ''),
      h('td', { 'data-label': 'Callback URL' }, `${c.callbackUrl ?? '(none)'}${c.callbackMode === 'exact' ? ' (exact)' : ''}`),
      h('td', { 'data-label': 'Signed' }, c.callbackSecret ?? 'no'), h('td', { 'data-label': 'Content provider' }, c.contentProviderUrl ?? '—'))))))
}

export async function loadAuto () {
  const state = await dev('/auto-answer')
  const area = /** @type {HTMLTextAreaElement} */ ($('auto-rules'))
  area.value = pretty({ enabled: state.enabled, rules: state.rules })
  $('auto-result').textContent = `answered ${state.counts.answered}, too late ${state.counts.tooLate}, failed ${state.counts.failed}, ignored ${state.counts.ignored}`
}

export function setupPanels () {
  $('auto-save').addEventListener('click', async () => {
    const area = /** @type {HTMLTextAreaElement} */ ($('auto-rules'))
    try {
      const state = await dev('/auto-answer', 'PUT', JSON.parse(area.value))
      area.value = pretty({ enabled: state.enabled, rules: state.rules })
      $('auto-result').textContent = `saved: ${state.rules.length} rule(s), ${state.enabled ? 'on' : 'off'}`
    } catch (err) { $('auto-result').textContent = /** @type {Error} */ (err).message }
  })
  $('generate-form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const form = /** @type {HTMLFormElement} */ (event.target)
    const id = /** @type {HTMLInputElement} */ (form.elements.namedItem('clientId')).value.trim()
    const group = /** @type {HTMLInputElement} */ (form.elements.namedItem('group')).value.trim()
    const out = $('generated')
    try {
      const res = await fetch(`${devApi}/clients/generate/${encodeURIComponent(id)}${group === '' ? '' : `?group=${encodeURIComponent(group)}`}`)
      const text = await res.text()
      out.replaceChildren(res.ok ? text : (JSON.parse(text).message ?? text))
      if (res.ok) out.append(copyButton(text, 'copy-generated'))
    } catch (err) { out.textContent = /** @type {Error} */ (err).message }
    out.hidden = false
  })
}
