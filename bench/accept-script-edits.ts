// Edits of accept-4.lua as exact text replacements, measured by bench/accept-variants.ts (the broker loads the shipped
// scripts, never these): the script as it was before its lean reply and binary ids, and a script that returns at once.
/** One edit of the script text: the exact text replaced, and by what. */
export interface ScriptEdit { from: string, to: string }

/**
 * Back to the script before issue 12 part 6: every id sent as UUID text and parsed with `uuidBin`, and the created
 * reply `{1, metaJson(m)}` (a copy of the meta, three ids per destination back to text, cjson). The caller must send
 * text ids (accept-variants.ts `textIds`); the store no longer reads this reply.
 */
export const PREVIOUS_SCRIPT: ScriptEdit[] = [
  {
    from: '    if #ARGV[at + 1] ~= 16 or #ARGV[at + 2] ~= 16 or #ARGV[at + 3] ~= 16 then\n' +
      "      return redis.error_reply('ERR accept-4: @tmp ids must be 16 raw bytes each')\n    end\n",
    to: '    -- text ids\n'
  },
  { from: '    destinations[i + 1] = {to, bid, mid, token} -- already 16 raw bytes each', to: '    destinations[i + 1] = {to, uuidBin(bid), uuidBin(mid), uuidBin(token)}' },
  { from: 'return {3, unpack(named)}', to: 'return {1, metaJson(m)}' }
]

/** The script returning at its first line: what the EVALSHA call with its arguments costs by itself. */
export const CALL_ONLY: ScriptEdit[] = [
  { from: 'local base, commandKey, deadlinesKey, idempotencyKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]', to: 'do return {3} end' }
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
