#!lua flags=allow-oom
--[[ read-message-2: a device reads one message. Observes a due timeout (and writes it).

KEYS[1] group base
KEYS[2] the box: the command key of an @tmp box, or the named box hash (base .. 'n:' .. name)
ARGV[1] kind: 't' (@tmp) | 'n' (named)   ARGV[2] command id of an @tmp box ('' for named)
ARGV[3] bid   ARGV[4] mid   ARGV[5] now (ms)   ARGV[6] group   ARGV[7] terminal slack (ms)
KEYS after these: keys the script asked for (includes/declared.lua); callers pass base .. 'due', 'ob', 'oq' and the
  group's bucket 'og' (includes/finish.lua) up front
Returns
  {-9, key, ...}         keys it needs that were not declared: nothing was written, run it again with them
  {1, 0, type, timeout (s), lifespan (s), createdAt, externalId or nil, payload, clientId, command id}
  {-1}                   not in this box, unknown, or past its lifespan
  {-2, emitted}          timed out (emitted = 1 when this call wrote the TIMEOUT)
  {-3, 0, state}         decided by an answer or a cancel
]]
--- @include "declared"
--- @include "record"
--- @include "finish"
--- @include "locate"

local base, now = KEYS[1], tonumber(ARGV[5])
local id, _, m, n = locateMessage(base, KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
if id == false then return missingKeys() end
if not id or expiresAtOf(m) <= now then return {-1} end
local emitted = timeOutIfDue(base, ARGV[6], id, m, now, tonumber(ARGV[7]))
if not emitted then return missingKeys() end
if m.s == 'TIMEOUT' then return {-2, emitted} end
if m.s ~= 'IN_PROGRESS' then return {-3, 0, m.s} end
return {1, 0, m.y, m.o, m.l, m.c, m.x or false, loadPayload(base .. 'c:' .. id, n), m.k, id}
