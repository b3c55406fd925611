// @ts-check
// The console page: the live command list (server-sent events + the dev listing), tabs, and the broker's clock.
import { dev, devApi } from './api.js'
import { brokerNow, syncTo } from './clock.js'
import { duration, h } from './dom.js'
import { openDetail, refreshDetail, detailOpen } from './detail.js'
import { loadCallbacks } from './inspector.js'
import { loadAuto, loadBoxes, loadClients, setupPanels } from './panels.js'

/** @type {any[]} */
let commands = []
let tab = 'commands'
/** @type {ReturnType<typeof setTimeout> | undefined} */
let refreshTimer

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.querySelector(`[data-testid="${id}"]`))
const filterInput = /** @type {HTMLInputElement} */ ($('filter'))

async function syncClock () {
  const info = await dev('/console')
  syncTo(info.now)
  $('store').textContent = `store: ${info.store}`
}

async function loadCommands () {
  const q = filterInput.value.trim()
  try {
    const { commands: list } = await dev(`/commands?limit=200${q === '' ? '' : `&q=${encodeURIComponent(q)}`}`)
    commands = list
    $('filter-error').textContent = ''
    filterInput.removeAttribute('aria-invalid')
  } catch (err) {
    $('filter-error').textContent = /** @type {Error} */ (err).message
    filterInput.setAttribute('aria-invalid', 'true')
    return
  }
  renderCommands()
}

/**
 * @param {any} c
 * @param {string} field
 */
function countdown (c, field) {
  if (c.state !== 'IN_PROGRESS' && field === 'timeoutAt') return '—'
  const left = Date.parse(c[field]) - brokerNow()
  return left <= 0 ? 'due' : duration(left)
}

function renderCommands () {
  // A keyboard user's focus survives the re-render (the same button, found by its test id).
  const focused = /** @type {HTMLElement | null} */ (document.activeElement)?.dataset?.testid
  const rows = $('command-rows')
  rows.replaceChildren(...commands.map((c) => h('tr', { testid: `row-${c.commandId}`, class: `state-${c.state.toLowerCase()}` },
    h('td', { 'data-label': 'Id' }, h('button', { type: 'button', class: 'link', testid: `open-${c.commandId}`, onclick: () => openDetail(c.commandId) }, c.commandId)),
    h('td', { 'data-label': 'Type' }, c.commandType),
    h('td', { 'data-label': 'Client' }, c.clientId),
    h('td', { 'data-label': 'Group' }, c.group),
    h('td', { 'data-label': 'External id' }, c.externalId ?? ''),
    h('td', { 'data-label': 'State' }, h('span', { class: 'badge', testid: `state-${c.commandId}` }, c.state)),
    h('td', { 'data-label': 'Age', class: 'age' }, duration(brokerNow() - Date.parse(c.createdAt))),
    h('td', { 'data-label': 'Timeout', class: 'timeout', testid: `timeout-${c.commandId}` }, countdown(c, 'timeoutAt')),
    h('td', { 'data-label': 'Lifespan', class: 'lifespan' }, countdown(c, 'expiresAt'))
  )))
  $('no-commands').hidden = commands.length > 0
  if (focused !== undefined && focused.startsWith('open-')) /** @type {HTMLElement | null} */ (rows.querySelector(`[data-testid="${focused}"]`))?.focus()
}

/** The clocks of the rows, in place: the rows (and a focused button in them) stay. */
function tickCommands () {
  const rows = $('command-rows').children
  commands.forEach((c, i) => {
    const row = rows[i]
    if (row === undefined) return
    const set = (/** @type {string} */ cls, /** @type {string} */ text) => { const cell = row.querySelector(`.${cls}`); if (cell !== null) cell.textContent = text }
    set('age', duration(brokerNow() - Date.parse(c.createdAt)))
    set('timeout', countdown(c, 'timeoutAt'))
    set('lifespan', countdown(c, 'expiresAt'))
  })
}

/** Something changed: reload what is on screen (debounced: a burst of events is one reload). */
function scheduleRefresh () {
  clearTimeout(refreshTimer)
  refreshTimer = setTimeout(() => {
    void loadCommands()
    if (detailOpen()) void refreshDetail()
    if (tab === 'callbacks') void loadCallbacks()
    if (tab === 'mailboxes') void loadBoxes()
  }, 100)
}

function connect () {
  const source = new EventSource(`${devApi}/events`)
  const live = $('live')
  source.addEventListener('open', () => { live.textContent = 'live'; live.className = 'live on'; scheduleRefresh() })
  source.addEventListener('error', () => { live.textContent = 'reconnecting…'; live.className = 'live' })
  for (const kind of ['accepted', 'read', 'answered', 'cancelled', 'timeout', 'callback', 'reset', 'gap']) source.addEventListener(kind, scheduleRefresh)
  source.addEventListener('clock', () => { void syncClock().then(scheduleRefresh) })
}

/** @param {string} name */
function showTab (name) {
  tab = name
  for (const button of document.querySelectorAll('nav button')) button.setAttribute('aria-pressed', String(/** @type {HTMLElement} */ (button).dataset.tab === name))
  for (const section of document.querySelectorAll('main > section')) /** @type {HTMLElement} */ (section).hidden = section.id !== name
  if (name === 'callbacks') void loadCallbacks()
  if (name === 'mailboxes') void loadBoxes()
  if (name === 'clients') void loadClients()
  if (name === 'auto') void loadAuto()
}

for (const button of document.querySelectorAll('nav button')) {
  button.addEventListener('click', () => showTab(/** @type {HTMLElement} */ (button).dataset.tab ?? 'commands'))
}
/** @type {ReturnType<typeof setTimeout> | undefined} */
let typing
filterInput.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => { void loadCommands() }, 200) })
$('filter-form').addEventListener('submit', (event) => { event.preventDefault(); void loadCommands() })
setInterval(() => {
  tickCommands()
  $('clock').textContent = new Date(brokerNow()).toISOString().slice(11, 19) + ' UTC'
  // A countdown that ran out: the listing reports the timeout now (the sweeper follows).
  if (commands.some((c) => c.state === 'IN_PROGRESS' && Date.parse(c.timeoutAt) <= brokerNow())) scheduleRefresh()
}, 1000)
setupPanels()
await syncClock()
await loadCommands()
connect()
document.body.dataset.ready = 'true'
