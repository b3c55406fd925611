#!lua
--[[ accept-4: stores a new command atomically (record, box entries, deadline, idempotency entry,
  wake-ups), or replays the command an Idempotency-Key already names. No flags: refused as a whole
  under OOM (noeviction), so it never writes half a command.

KEYS[1] group base   `{prefix}:{g:<group>}:` (named boxes are base .. 'n:' .. name, their pending
                     indexes base .. 'q:' .. name)
KEYS[2] command      base .. 'c:' .. ARGV[1]
KEYS[3] deadlines    base .. 'due'
KEYS[4] idempotency  base .. 'i:<len>:<client>:<key>' (untouched when ARGV[10] is '0')
KEYS[5..] callers pass base .. 'n:' .. name and base .. 'q:' .. name of every named destination
ARGV[1]  command id (decimal)            ARGV[2]  now (ms since the epoch)
ARGV[3]  type                            ARGV[4]  clientId
ARGV[5]  externalId                      ARGV[6]  '1' when ARGV[5] is given, else '0'
ARGV[7]  timeout (s)                     ARGV[8]  lifespan (s)
ARGV[9]  payload (JSON text, stored untouched)
ARGV[10] '1' when an Idempotency-Key is given, else '0'
ARGV[11] fingerprint marker: '-' none, '=' .. fingerprint
ARGV[12] purge grace (ms): an IN_PROGRESS record lives lifespan + grace, so a late sweep still writes its TIMEOUT
ARGV[13] terminal slack (ms)             ARGV[14] wake channel             ARGV[15] group
ARGV[16..] 5 per destination: to, bid, mid, token, expected bid ('' none).
           '@tmp': fresh bid, mid and token as 16 raw bytes each (stored as given). A name: the three as
           UUID text (the box hash keeps text); bid/token are the candidate used when no live box has the
           name ('' when the caller expects a live box: then none is an answer, -7); a live box must have
           the expected bid (the caller refreshed its index) or the candidate.
KEYS after these: keys the script asked for (includes/declared.lua); callers pass base .. 'due', 'ob', 'oq' and the
           group's index keys (its bucket's 'dg' and 'og', includes/finish.lua) up front
Returns
  {-9, key, ...}         keys it needs that were not declared: nothing was written, run it again with them
  {3, bid, token, ...}               created; the box id and token (text) of each named destination, in order
                                     (the caller knows the rest of what it stored: the lean reply)
  {2, emitted, commandId, metaJson}  replayed; emitted = 1 when the replay observed (and wrote) a timeout
  {-4}                               the key was used with another fingerprint
  {-5, index (0-based), bid}         a live named box has an unexpected bid: refresh its index and retry
  {-6}                               the command id is taken (an id block was lost): retry with a new id
  {-7, index (0-based)}              no live box has that destination's name and no candidate was sent: retry with one
]]
--- @include "declared"
--- @include "record"
--- @include "finish"

local PRUNE_FLOOR = 32

-- Drops the entries of commands past their lifespan once the box has grown past its prune mark (from its
-- pending index too: a command left unswept past lifespan + grace lost its record, not its entry).
local function pruneNamedBox (key, pendingKey, now)
  local mark = tonumber(redis.call('HGET', key, 'z')) or PRUNE_FLOOR
  if redis.call('HLEN', key) < mark + 4 then return end
  local all = redis.call('HGETALL', key)
  local live = 0
  for j = 1, #all, 2 do
    if #all[j] > 1 then
      if tonumber(string.match(all[j + 1], ':(%d+)$')) <= now then
        redis.call('HDEL', key, all[j])
        redis.call('HDEL', pendingKey, all[j])
      else
        live = live + 1
      end
    end
  end
  redis.call('HSET', key, 'z', math.max(PRUNE_FLOOR, live * 2))
end

-- Puts message mid (destination idx of command id) in the named box and its pending index (what a
-- listing reads: `<id>:<idx>:<createdAt>:<timeoutAt>:<expiresAt>:<type>`); returns the box's bid and token.
local function addToNamedBox (key, pendingKey, bid, token, mid, id, idx, now, expiresAt, slackMs, listed)
  local box = redis.call('HMGET', key, 'i', 't', 'e')
  local boxExpires = tonumber(box[3])
  if not box[1] or boxExpires <= now then
    redis.call('DEL', key, pendingKey)
    redis.call('HSET', key, 'i', bid, 't', token, 'e', expiresAt)
    boxExpires = expiresAt
  else
    bid, token = box[1], box[2]
    if expiresAt > boxExpires then
      boxExpires = expiresAt
      redis.call('HSET', key, 'e', expiresAt)
    end
  end
  redis.call('HSET', key, mid, id .. ':' .. idx .. ':' .. expiresAt)
  redis.call('HSET', pendingKey, mid, id .. ':' .. idx .. ':' .. listed)
  pruneNamedBox(key, pendingKey, now)
  redis.call('PEXPIRE', key, boxExpires - now + slackMs)
  redis.call('PEXPIRE', pendingKey, boxExpires - now + slackMs)
  return bid, token
end

local base, commandKey, deadlinesKey, idempotencyKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, now = ARGV[1], tonumber(ARGV[2])
local timeoutSeconds, lifespanSeconds = tonumber(ARGV[7]), tonumber(ARGV[8])
local graceMs, slackMs, group = tonumber(ARGV[12]), tonumber(ARGV[13]), ARGV[15]
local lifespanMs = math.max(lifespanSeconds * 1000, 1)
local expiresAt = now + lifespanMs

if ARGV[10] == '1' then
  local seen = redis.call('GET', idempotencyKey)
  if seen then
    local earlierId, marker = string.match(seen, '^([^\n]*)\n(.*)$')
    if not declared(base .. 'c:' .. earlierId) then return missingKeys() end
    local m = loadMeta(base .. 'c:' .. earlierId)
    if m and expiresAtOf(m) > now then
      if marker ~= ARGV[11] then return {-4} end
      local emitted = timeOutIfDue(base, group, earlierId, m, now, slackMs)
      if not emitted then return missingKeys() end
      return {2, emitted, earlierId, metaJson(m)}
    end
  end
end
if redis.call('EXISTS', commandKey) == 1 then return {-6} end

local count = (#ARGV - 15) / 5
for i = 0, count - 1 do -- first pass, no writes yet
  local at = 16 + i * 5
  if ARGV[at] == '@tmp' then
    if #ARGV[at + 1] ~= 16 or #ARGV[at + 2] ~= 16 or #ARGV[at + 3] ~= 16 then
      return redis.error_reply('ERR accept-4: @tmp ids must be 16 raw bytes each')
    end
  elseif declared(base .. 'n:' .. ARGV[at]) and declared(base .. 'q:' .. ARGV[at]) then
    local box = redis.call('HMGET', base .. 'n:' .. ARGV[at], 'i', 'e')
    if box[1] and tonumber(box[2]) > now then
      if box[1] ~= ARGV[at + 4] and box[1] ~= ARGV[at + 1] then return {-5, i, box[1]} end
    elseif ARGV[at + 1] == '' then
      return {-7, i}
    end
  end
end

local dueGroupsKey = indexBaseOf(base) .. 'dg'
declared(dueGroupsKey)
if #MISSING_LIST > 0 then return missingKeys() end
local destinations, named = {}, {}
local listed = now .. ':' .. (now + timeoutSeconds * 1000) .. ':' .. expiresAt .. ':' .. ARGV[3]
for i = 0, count - 1 do
  local at = 16 + i * 5
  local to, bid, mid, token = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
  if to == '@tmp' then
    destinations[i + 1] = {to, bid, mid, token} -- already 16 raw bytes each
  else
    bid, token = addToNamedBox(base .. 'n:' .. to, base .. 'q:' .. to, bid, token, mid, id, i, now, expiresAt, slackMs, listed)
    destinations[i + 1] = {to, uuidBin(bid), uuidBin(mid), uuidBin(token)}
    named[#named + 1] = bid
    named[#named + 1] = token
  end
end

local m = { s = 'IN_PROGRESS', y = ARGV[3], k = ARGV[4], o = timeoutSeconds, l = lifespanSeconds, c = now, d = destinations }
if ARGV[6] == '1' then m.x = ARGV[5] end
redis.call('SET', commandKey, packRecord(m, ARGV[9]), 'PX', lifespanMs + graceMs)
redis.call('ZADD', deadlinesKey, now + timeoutSeconds * 1000, id)
redis.call('ZADD', dueGroupsKey, 'LT', now + timeoutSeconds * 1000, group) -- the group's earliest deadline, lowered only
if ARGV[10] == '1' then redis.call('SET', idempotencyKey, id .. '\n' .. ARGV[11], 'PX', lifespanMs) end
-- Only named boxes can have a device waiting: a '@tmp' box id is new, nobody can be polling it yet.
for j = 1, #named, 2 do redis.call('PUBLISH', ARGV[14], named[j]) end
return {3, unpack(named)}
