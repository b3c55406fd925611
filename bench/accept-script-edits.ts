// Proposed edits of accept-4.lua, as exact text replacements: measured by bench/accept-variants.ts, and run against the
// store's contract by test/mailbox/redis-lean-accept.test.ts. The broker loads the shipped scripts, never these.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scriptsDirectory } from '../src/mailbox/redis-scripts.js'

/** One edit of the script text: the exact text replaced, and by what. */
export interface ScriptEdit { from: string, to: string }

/**
 * The lean created reply: `{3, bid, token, ...}` per destination (UUID text) instead of `{1, metaJson(m)}`, which
 * copies the meta, turns three ids per destination back into text (16 string.format each) and JSON-encodes it all,
 * only for the caller to parse what it sent. redis-replies.ts decodeAccept reads both forms.
 */
export const LEAN_REPLY: ScriptEdit[] = [
  { from: 'local destinations = {}', to: 'local destinations, ids = {}, {}' },
  {
    from: '  destinations[i + 1] = {to, uuidBin(bid), uuidBin(mid), uuidBin(token)}\n',
    to: '  destinations[i + 1] = {to, uuidBin(bid), uuidBin(mid), uuidBin(token)}\n  ids[#ids + 1] = bid\n  ids[#ids + 1] = token\n'
  },
  { from: 'return {1, metaJson(m)}', to: 'return {3, unpack(ids)}' }
]

/** Ids sent as 16 raw bytes (the caller passes Buffers): no uuidBin in Lua. Needs the caller's side too; measured only. */
export const BINARY_IDS: ScriptEdit[] = [
  { from: 'destinations[i + 1] = {to, uuidBin(bid), uuidBin(mid), uuidBin(token)}', to: 'destinations[i + 1] = {to, bid, mid, token}' }
]

/** `text` with `edits` applied in order; throws when one no longer matches (the script changed since). */
export function applyEdits (text: string, edits: ScriptEdit[]): string {
  let out = text
  for (const edit of edits) {
    if (!out.includes(edit.from)) throw new Error(`the script no longer contains: ${edit.from.trim()}`)
    out = out.replace(edit.from, edit.to)
  }
  return out
}

/** A temporary copy of the scripts directory with `edits` applied to accept-4.lua; returns its path. */
export function editedScriptsDir (edits: ScriptEdit[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'hermod-scripts-'))
  cpSync(scriptsDirectory(), dir, { recursive: true })
  const file = join(dir, 'accept-4.lua')
  writeFileSync(file, applyEdits(readFileSync(file, 'utf8'), edits))
  return dir
}
