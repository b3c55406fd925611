// @ts-check
// The command detail: header, decoded payload, the links PRIME shows (text, copy, QR code), the timeline; act as the device.
import { call, dev, devApi, ApiError } from './api.js'
import { copyButton, duration, h, pretty } from './dom.js'
import { renderItems } from './payload.js'
import { brokerNow } from './clock.js'
import { renderAttempt } from './inspector.js'

const dialog = /** @type {HTMLDialogElement} */ (document.querySelector('[data-testid="detail"]'))
const body = /** @type {HTMLElement} */ (document.querySelector('[data-testid="detail-body"]'))
const title = /** @type {HTMLElement} */ (document.querySelector('[data-testid="detail-title"]'))
/** @type {string | undefined} */
let current
/** @type {any} */
let command
let editing = false
let devicePath = ''
/** What the last action answered: kept across the re-renders the event feed causes. */
let lastResult = ''
const parts = { head: h('div'), actions: h('div', { class: 'actions' }), links: h('div'), payload: h('div'), timeline: h('div') }

dialog.querySelector('[data-testid="detail-close"]')?.addEventListener('click', () => dialog.close())
dialog.addEventListener('close', () => {
  current = undefined
  editing = false
  body.replaceChildren()
})

export const detailOpen = () => current !== undefined

/** @param {string} commandId */
export async function openDetail (commandId) {
  current = commandId
  editing = false
  lastResult = ''
  command = undefined
  devicePath = (await dev('/console')).devicePath
  title.textContent = `Command ${commandId}`
  for (const part of Object.values(parts)) part.replaceChildren()
  body.replaceChildren(
    parts.head,
    parts.actions,
    h('h3', {}, 'What the user sees'), parts.links,
    h('h3', {}, 'Payload'), parts.payload,
    h('h3', {}, 'Timeline'), parts.timeline
  )
  if (!dialog.open) dialog.showModal()
  await refreshDetail()
  renderLinks()
  await renderPayload()
}

export async function refreshDetail () {
  const id = current
  if (id === undefined) return
  try {
    command = await dev(`/commands/${id}`)
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      parts.head.replaceChildren(h('p', { class: 'note', testid: 'detail-gone' }, 'The command is past its lifespan (or was reset): it is gone.'))
      parts.actions.replaceChildren()
      return
    }
    throw err
  }
  renderHead()
  if (!editing) renderActions()
  await renderTimeline()
}

function renderHead () {
  const c = command
  const row = (/** @type {string} */ label, /** @type {string} */ value, /** @type {string} */ testid) => [h('dt', {}, label), h('dd', { testid }, value)]
  const left = (/** @type {string} */ at) => { const ms = Date.parse(at) - brokerNow(); return ms > 0 ? `in ${duration(ms)}` : `${duration(-ms)} ago` }
  parts.head.replaceChildren(h('dl', { class: 'head' },
    h('dt', {}, 'State'), h('dd', { class: `state state-${c.state.toLowerCase()}` }, h('span', { class: 'badge', testid: 'detail-state' }, c.state)),
    ...row('Type', c.commandType, 'detail-type'),
    ...row('Client', c.clientId, 'detail-client'),
    ...row('Group', c.group, 'detail-group'),
    ...row('External id', c.externalId ?? '—', 'detail-external-id'),
    ...row('Created', `${c.createdAt} (${duration(brokerNow() - Date.parse(c.createdAt))} ago)`, 'detail-created'),
    ...row('Timeout', `${c.timeoutAt} (${left(c.timeoutAt)})`, 'detail-timeout'),
    ...row('Lifespan ends', `${c.expiresAt} (${left(c.expiresAt)})`, 'detail-expires'),
    ...(c.finishedAt === undefined ? [] : row('Finished', c.finishedAt, 'detail-finished')),
    ...(c.response === undefined ? [] : row('Response', pretty(c.response), 'detail-response'))
  ))
}

function renderActions () {
  const result = h('p', { testid: 'action-result', role: 'status' }, lastResult)
  if (command.state !== 'IN_PROGRESS') {
    parts.actions.replaceChildren(result)
    return
  }
  parts.actions.replaceChildren(
    h('button', { type: 'button', class: 'approve', testid: 'approve', onclick: () => prepare('OK') }, 'Approve…'),
    h('button', { type: 'button', class: 'reject', testid: 'reject', onclick: () => prepare('REJECTED') }, 'Reject…'),
    h('button', { type: 'button', testid: 'cancel', onclick: cancel }, 'Cancel as server system'),
    result
  )
}

/** @param {string} text */
function showResult (text) {
  lastResult = text
  const result = parts.actions.querySelector('[data-testid="action-result"]')
  if (result !== null) result.textContent = text
}

/**
 * Reads the message through the device API (as the app would), asks the virtual device for its answer, and opens it for editing.
 * @param {'OK' | 'REJECTED'} status
 */
async function prepare (status) {
  const d = command.destinations[0]
  try {
    const message = await call('GET', `${devicePath}/${d.bid}/${d.mid}`)
    const answer = await dev('/device/answer', 'POST', { commandType: message.commandType, command: message.command, status })
    editing = true
    const editor = /** @type {HTMLTextAreaElement} */ (h('textarea', { testid: 'answer-editor', rows: 12, spellcheck: 'false', 'aria-label': 'The answer to send' }))
    editor.value = pretty(answer)
    editor.setSelectionRange(0, 0)
    parts.actions.replaceChildren(
      h('p', {}, `The virtual device's ${status === 'OK' ? 'approval' : 'refusal'}; edit it, then send it to the device API (POST …/ms/${d.bid}/${d.mid}).`),
      editor,
      h('div', {},
        h('button', { type: 'button', class: status === 'OK' ? 'approve' : 'reject', testid: 'send-answer', onclick: () => send(editor.value) }, `Send ${status}`),
        h('button', { type: 'button', testid: 'discard-answer', onclick: () => { editing = false; renderActions() } }, 'Discard')),
      h('p', { testid: 'action-result', role: 'status' })
    )
    editor.focus()
    editor.scrollTop = 0
  } catch (err) {
    showResult(`${/** @type {Error} */ (err).message}`)
  }
}

/** @param {string} text */
async function send (text) {
  const d = command.destinations[0]
  let answer
  try { answer = JSON.parse(text) } catch (err) { showResult(`not JSON: ${/** @type {Error} */ (err).message}`); return }
  try {
    const result = await call('POST', `${devicePath}/${d.bid}/${d.mid}`, answer)
    editing = false
    await refreshDetail()
    showResult(`answered: ${result.state}`)
  } catch (err) {
    showResult(`${/** @type {ApiError} */ (err).code ?? ''} ${/** @type {Error} */ (err).message}`)
  }
}

async function cancel () {
  try {
    const result = await dev(`/commands/${command.commandId}/cancel`, 'POST')
    await refreshDetail()
    showResult(`cancelled: ${result.state}`)
  } catch (err) {
    showResult(`${/** @type {Error} */ (err).message}`)
  }
}

function renderLinks () {
  if (command === undefined) return
  parts.links.replaceChildren(...command.destinations.flatMap((/** @type {any} */ d, /** @type {number} */ i) => [
    h('p', { class: 'note' }, `Destination ${d.to} · box ${d.bid}`),
    h('div', { class: 'links' }, ...[['uri', d.uri, 'Plugout URI (the app link)'], ['location', d.location, 'Location (the message)'], ['personal', d.personal, 'personal:// deep link']]
      .map(([kind, text, label]) => h('figure', { class: 'link-card', testid: `link-${kind}-${i}` },
        h('figcaption', {}, label),
        h('img', { class: 'qr', src: `${devApi}/qr?text=${encodeURIComponent(text)}`, alt: `QR code of the ${kind}`, testid: `qr-${kind}-${i}`, width: 180, height: 180 }),
        h('code', { testid: `text-${kind}-${i}` }, text),
        copyButton(text, `copy-${kind}-${i}`))))
  ]))
}

async function renderPayload () {
  const id = current
  if (id === undefined) return
  const content = await dev(`/commands/${id}/content`)
  if (content.payload === undefined) {
    parts.payload.replaceChildren(h('p', { class: 'note' }, content.error ?? 'no payload'))
    return
  }
  parts.payload.replaceChildren(
    ...(content.error === undefined ? [] : [h('p', { class: 'error' }, content.error)]),
    ...(content.resolved ? [h('p', { class: 'note' }, 'Content ids resolved through the client\'s content provider.')] : []),
    ...renderItems(content.payload),
    h('details', {}, h('summary', {}, 'The payload as JSON'), h('pre', { class: 'code', testid: 'payload-json' }, pretty(content.payload)))
  )
}

async function renderTimeline () {
  const id = current
  if (id === undefined) return
  const [{ events }, { deliveries }] = await Promise.all([dev(`/commands/${id}/timeline`), dev(`/callbacks?commandId=${id}`)])
  const steps = events.filter((/** @type {any} */ e) => e.kind !== 'callback').map((/** @type {any} */ e) =>
    h('li', { testid: `timeline-${e.kind}` }, h('time', {}, e.at), ` ${e.kind}${e.state === undefined ? '' : ` (${e.state})`}`))
  const attempts = [...deliveries].reverse().map((/** @type {any} */ d) => h('li', { testid: 'timeline-callback' }, renderAttempt(d)))
  parts.timeline.replaceChildren(h('ol', { class: 'timeline' }, ...steps, ...attempts))
}
