#!lua flags=allow-oom
--[[ cancel-2: IN_PROGRESS -> CANCELLED, once, with its outbox event (a due timeout wins first).

KEYS[1] group base   KEYS[2] command (base .. 'c:' .. ARGV[1])
ARGV[1] command id   ARGV[2] now (ms)   ARGV[3] group   ARGV[4] terminal slack (ms)
KEYS after these: keys the script asked for (includes/declared.lua); callers pass base .. 'due', 'ob', 'oq' and the
  group's bucket 'og' (includes/finish.lua) up front
Returns
  {-9, key, ...}         keys it needs that were not declared: nothing was written, run it again with them
  {1, 1, metaJson}          cancelled by this call
  {-3, emitted, metaJson}   already decided (emitted = 1 when this call wrote its TIMEOUT)
  {-1}                      not found, or past its lifespan
]]
--- @include "declared"
--- @include "record"
--- @include "finish"

local base, id, now, group, slackMs = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local m = loadMeta(KEYS[2])
if not m or expiresAtOf(m) <= now then return {-1} end
local emitted = timeOutIfDue(base, group, id, m, now, slackMs)
if not emitted then return missingKeys() end
if m.s ~= 'IN_PROGRESS' then return {-3, emitted, metaJson(m)} end
if not canFinish(base, id, m) then return missingKeys() end
finishCommand(base, group, id, m, 'CANCELLED', now, slackMs)
return {1, 1, metaJson(m)}
