#!lua flags=no-writes
--[[ list-box-3: the pending messages of a box, oldest first. Read-only (also under OOM): a message
  whose deadline has passed is left out, its timeout is written by whoever reads it or sweeps. A named
  box is listed from its pending index alone (the terminal step takes messages out of it): the cost
  is O(pending), whatever the box holds in decided messages, and no command record is read.

KEYS[1] group base
KEYS[2] the box: the command key of an @tmp box, or the named box hash (base .. 'n:' .. name)
KEYS[3] the named box's pending index (base .. 'q:' .. name); KEYS[2] again for an @tmp box
ARGV[1] kind: 't' (@tmp) | 'n' (named)   ARGV[2] command id of an @tmp box ('' for named)
ARGV[3] bid   ARGV[4] token   ARGV[5] now (ms)
Returns
  {1, mid, type, createdAt, timeoutAt, ...}   four values per pending message (none: {1})
  {-1}                                        unknown box, wrong token, or past its lifespan
]]
--- @include "record"

local kind, bid, token, now = ARGV[1], ARGV[3], ARGV[4], tonumber(ARGV[5])

if kind == 't' then
  local m = loadMeta(KEYS[2])
  if not m or expiresAtOf(m) <= now then return {-1} end
  local bidBin = uuidBin(bid)
  for _, d in ipairs(m.d) do
    if d[2] == bidBin then
      if d[4] ~= uuidBin(token) then return {-1} end
      if m.s == 'IN_PROGRESS' and timeoutAtOf(m) > now then return {1, uuidText(d[3]), m.y, m.c, timeoutAtOf(m)} end
      return {1}
    end
  end
  return {-1}
end

local box = redis.call('HMGET', KEYS[2], 'i', 't', 'e')
if box[1] ~= bid or box[2] ~= token or tonumber(box[3]) <= now then return {-1} end
local all = redis.call('HGETALL', KEYS[3])
local listing = {}
for j = 1, #all, 2 do
  local id, idx, createdAt, timeoutAt, expiresAt, type = string.match(all[j + 1], '^([^:]+):(%d+):(%d+):(%d+):(%d+):(.*)$')
  timeoutAt, expiresAt = tonumber(timeoutAt), tonumber(expiresAt)
  if timeoutAt > now and expiresAt > now then
    listing[#listing + 1] = { mid = all[j], id = id, idx = tonumber(idx), c = tonumber(createdAt), t = timeoutAt, y = type }
  end
end
table.sort(listing, function (a, b)
  if a.c ~= b.c then return a.c < b.c end
  if a.id ~= b.id then
    if #a.id ~= #b.id then return #a.id < #b.id end
    return a.id < b.id
  end
  return a.idx < b.idx
end)
local reply = {1}
for _, e in ipairs(listing) do
  reply[#reply + 1] = e.mid
  reply[#reply + 1] = e.y
  reply[#reply + 1] = e.c
  reply[#reply + 1] = e.t
end
return reply
