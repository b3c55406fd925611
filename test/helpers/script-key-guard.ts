// A copy of the mailbox's Lua scripts whose redis.call / redis.pcall refuse any key not in KEYS (the key guard).
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { scriptsDirectory } from '../../src/mailbox/redis-scripts.js'

/** What the guard's error says; tests match it. */
export const GUARD_ERROR = 'hermod key guard'

/**
 * Lua put after each script's `#!lua` line: a local `redis` that checks the keys of every call (the first
 * argument; every argument of DEL / EXISTS / UNLINK / MGET; none of PUBLISH) against KEYS, then calls the
 * real one. Redis Cluster itself only refuses keys of another slot; this refuses undeclared keys of any slot.
 */
export const GUARD_PREAMBLE = `local redis = (function (real)
  local declaredKeys = {}
  for _, k in ipairs(KEYS) do declaredKeys[k] = true end
  local allKeys = { DEL = true, EXISTS = true, UNLINK = true, MGET = true }
  local noKey = { PUBLISH = true }
  local function check (cmd, ...)
    local name = string.upper(cmd)
    if noKey[name] then return end
    local args = {...}
    local last = 1
    if allKeys[name] then last = #args end
    for i = 1, last do
      if not declaredKeys[args[i]] then error('${GUARD_ERROR}: ' .. name .. ' on undeclared key ' .. tostring(args[i])) end
    end
  end
  return setmetatable({
    call = function (cmd, ...) check(cmd, ...) return real.call(cmd, ...) end,
    pcall = function (cmd, ...) check(cmd, ...) return real.pcall(cmd, ...) end
  }, { __index = real })
end)(redis)
`

/** Inserts the guard after the shebang line (which must stay first). */
export function guarded (lua: string): string {
  const newline = lua.startsWith('#!') ? lua.indexOf('\n') + 1 : 0
  return lua.slice(0, newline) + GUARD_PREAMBLE + lua.slice(newline)
}

/** A temp directory holding every script guarded (includes copied as they are), removed at teardown. */
export function guardedScriptsDirectory (t: Test, source: string = scriptsDirectory()): string {
  const dir = mkdtempSync(join(tmpdir(), 'hermod-guarded-scripts-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(join(source, 'includes'), join(dir, 'includes'), { recursive: true })
  for (const file of readdirSync(source).filter((name) => name.endsWith('.lua'))) {
    writeFileSync(join(dir, file), guarded(readFileSync(join(source, file), 'utf8')))
  }
  return dir
}
