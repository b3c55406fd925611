#!lua flags=allow-oom
--[[ answer-2: a device answers; the first answer of any destination moves IN_PROGRESS -> COMPLETED or
  REJECTED, withdraws every message of the command and appends its outbox event. A due timeout wins.

KEYS[1] group base
KEYS[2] the box: the command key of an @tmp box, or the named box hash (base .. 'n:' .. name)
ARGV[1] kind: 't' (@tmp) | 'n' (named)   ARGV[2] command id of an @tmp box ('' for named)
ARGV[3] bid   ARGV[4] mid   ARGV[5] now (ms)   ARGV[6] group   ARGV[7] terminal slack (ms)
ARGV[8] 'OK' | 'REJECTED'   ARGV[9] response (JSON text, stored untouched)
KEYS after these: keys the script asked for (includes/declared.lua); callers pass base .. 'due', 'ob', 'oq' and the
  group's bucket 'og' (includes/finish.lua) up front
Returns
  {-9, key, ...}         keys it needs that were not declared: nothing was written, run it again with them
  {1, 1, state}          decided by this answer ('COMPLETED' | 'REJECTED')
  {-1}                   not in this box, unknown, or past its lifespan
  {-2, emitted}          timed out (emitted = 1 when this call wrote the TIMEOUT)
  {-3, 0, state}         already decided
]]
--- @include "declared"
--- @include "record"
--- @include "finish"
--- @include "locate"

local base, now, group, slackMs = KEYS[1], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local id, idx, m = locateMessage(base, KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
if id == false then return missingKeys() end
if not id or expiresAtOf(m) <= now then return {-1} end
local emitted = timeOutIfDue(base, group, id, m, now, slackMs)
if not emitted then return missingKeys() end
if m.s == 'TIMEOUT' then return {-2, emitted} end
if m.s ~= 'IN_PROGRESS' then return {-3, 0, m.s} end
if not canFinish(base, id, m) then return missingKeys() end
local state = 'REJECTED'
if ARGV[8] == 'OK' then state = 'COMPLETED' end
m.a = idx
m.r = ARGV[9]
finishCommand(base, group, id, m, state, now, slackMs)
return {1, 1, state}
