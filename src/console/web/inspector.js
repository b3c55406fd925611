// @ts-check
// The callback inspector: every attempt (URL, headers, body, status, latency, next retry), signature check, curl, resend; dead letters.
import { dev } from './api.js'
import { copyButton, h, pretty } from './dom.js'

const attemptsBox = /** @type {HTMLElement} */ (document.querySelector('[data-testid="attempts"]'))
const lettersBox = /** @type {HTMLElement} */ (document.querySelector('[data-testid="dead-letters"]'))

/**
 * The attempt as a curl command line (the Authorization header is masked in the log: curl gets a placeholder).
 * @param {any} d
 */
export function curlOf (d) {
  const quote = (/** @type {string} */ s) => `'${s.replace(/'/g, '\'\\\'\'')}'`
  const headers = Object.entries(d.headers ?? {}).map(([name, value]) =>
    `-H ${quote(`${name}: ${name.toLowerCase() === 'authorization' ? String(value).replace('[masked]', '<credentials>') : value}`)}`)
  return ['curl -sS -X POST', quote(d.url), ...headers, `--data-binary ${quote(d.body ?? '')}`].join(' \\\n  ')
}

/** @param {string} body */
function prettyBody (body) {
  try { return pretty(JSON.parse(body)) } catch { return body }
}

/**
 * One attempt, collapsed to its summary line.
 * @param {any} d
 */
export function renderAttempt (d) {
  const key = `${d.eventId}-${d.attempt}`
  const verdict = h('span', { testid: `verdict-${key}`, role: 'status' })
  const resent = h('span', { testid: `resent-${key}`, role: 'status' })
  const verify = async () => {
    try {
      const r = await dev('/callbacks/verify', 'POST', { eventId: d.eventId, attempt: d.attempt })
      verdict.textContent = r.valid ? '✔ signature valid' : `✘ ${r.reason}`
      verdict.className = r.valid ? 'ok' : 'error'
    } catch (err) { verdict.textContent = /** @type {Error} */ (err).message }
  }
  const resend = async () => {
    try {
      const r = await dev('/callbacks/resend', 'POST', { eventId: d.eventId, attempt: d.attempt })
      resent.textContent = `resent as attempt ${r.attempt}: ${r.outcome}${r.status === undefined ? '' : ` (HTTP ${r.status})`}`
    } catch (err) { resent.textContent = /** @type {Error} */ (err).message }
  }
  const status = d.status === undefined ? (d.error ?? 'no answer') : `HTTP ${d.status}`
  return h('details', { class: `attempt outcome-${d.outcome}`, testid: `attempt-${key}` },
    h('summary', {}, h('span', { class: 'badge' }, d.outcome), ` ${d.commandType} ${d.state} · command ${d.commandId} · attempt ${d.attempt} · ${status} · ${Math.round(d.durationMs)} ms`),
    h('dl', { class: 'head' },
      h('dt', {}, 'At'), h('dd', {}, d.at),
      h('dt', {}, 'URL'), h('dd', { testid: `url-${key}` }, d.url),
      h('dt', {}, 'Status'), h('dd', { testid: `status-${key}` }, status),
      h('dt', {}, 'Latency'), h('dd', {}, `${d.durationMs.toFixed(1)} ms`),
      h('dt', {}, 'Next retry'), h('dd', {}, d.nextRetryAt ?? (d.outcome === 'retry' ? 'none (schedule exhausted)' : '—')),
      ...(d.error === undefined ? [] : [h('dt', {}, 'Error'), h('dd', {}, d.error)])),
    h('table', { class: 'headers' }, ...Object.entries(d.headers ?? {}).map(([name, value]) => h('tr', {}, h('th', {}, name), h('td', {}, String(value))))),
    h('pre', { class: 'code', testid: `body-${key}` }, prettyBody(d.body ?? '')),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'small', testid: `verify-${key}`, onclick: verify }, 'Check signature'),
      copyButton(curlOf(d), `curl-${key}`, 'Copy as curl'),
      h('button', { type: 'button', class: 'small', testid: `resend-${key}`, onclick: resend }, 'Resend'),
      verdict, resent))
}

export async function loadCallbacks () {
  const [{ deliveries }, { deadLetters }] = await Promise.all([dev('/callbacks?limit=100'), dev('/dead-letters')])
  const open = new Set([...attemptsBox.querySelectorAll('details[open]')].map((e) => /** @type {HTMLElement} */ (e).dataset.testid))
  attemptsBox.replaceChildren(...(deliveries.length === 0 ? [h('p', { class: 'empty' }, 'No callback attempts yet.')] : deliveries.map(renderAttempt)))
  for (const el of attemptsBox.querySelectorAll('details')) if (open.has(/** @type {HTMLElement} */ (el).dataset.testid)) el.setAttribute('open', '')
  lettersBox.replaceChildren(...(deadLetters.length === 0
    ? [h('p', { class: 'empty' }, 'No dead letters.')]
    : deadLetters.map((/** @type {any} */ l) => {
      const result = h('span', { role: 'status' })
      return h('div', { class: 'letter', testid: `dead-${l.id}` },
        h('span', {}, `${l.commandType} ${l.state} · command ${l.commandId} · ${l.clientId} · ${l.attempts} attempts · ${l.reason} · ${l.failedAt}`),
        h('button', {
          type: 'button',
          class: 'small',
          testid: `replay-${l.id}`,
          onclick: async () => {
            try { await dev(`/dead-letters/${encodeURIComponent(l.id)}/replay`, 'POST'); result.textContent = 'replayed' } catch (err) { result.textContent = /** @type {Error} */ (err).message }
            await loadCallbacks()
          }
        }, 'Replay'),
        result)
    })))
}
