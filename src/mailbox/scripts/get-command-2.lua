#!lua flags=allow-oom
--[[ get-command-2: the status query. Observes a due timeout like every read (and writes it: allowed
  under OOM so that reads and timeouts keep working while accept is refused).

KEYS[1] group base   KEYS[2] command (base .. 'c:' .. ARGV[1])
ARGV[1] command id   ARGV[2] now (ms)   ARGV[3] group   ARGV[4] terminal slack (ms)
KEYS after these: keys the script asked for (includes/declared.lua); callers pass base .. 'due', 'ob', 'oq' and the
  group's bucket 'og' (includes/finish.lua) up front
Returns
  {-9, key, ...}         keys it needs that were not declared: nothing was written, run it again with them
  {1, emitted, metaJson}   the command; emitted = 1 when this call wrote its TIMEOUT
  {-1}                     not found, or past its lifespan
]]
--- @include "declared"
--- @include "record"
--- @include "finish"

local id, now = ARGV[1], tonumber(ARGV[2])
local m = loadMeta(KEYS[2])
if not m or expiresAtOf(m) <= now then return {-1} end
local emitted = timeOutIfDue(KEYS[1], ARGV[3], id, m, now, tonumber(ARGV[4]))
if not emitted then return missingKeys() end
return {1, emitted, metaJson(m)}
