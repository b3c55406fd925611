#!lua flags=no-writes
--[[ list-box-2: the pending messages of a box, oldest first. Read-only (also under OOM): a message
  whose deadline has passed is left out, its timeout is written by whoever reads it or sweeps.

KEYS[1] group base
KEYS[2] the box: the command key of an @tmp box, or the named box hash (base .. 'n:' .. name)
ARGV[1] kind: 't' (@tmp) | 'n' (named)   ARGV[2] command id of an @tmp box ('' for named)
ARGV[3] bid   ARGV[4] token   ARGV[5] now (ms)
Returns
  {1, mid, type, createdAt, timeoutAt, ...}   four values per pending message (none: {1})
  {-1}                                        unknown box, wrong token, or past its lifespan
]]
--- @include "record"

local base, kind, bid, token, now = KEYS[1], ARGV[1], ARGV[3], ARGV[4], tonumber(ARGV[5])

local function pending (m)
  return m.s == 'IN_PROGRESS' and timeoutAtOf(m) > now and expiresAtOf(m) > now
end

if kind == 't' then
  local m = loadCommand(KEYS[2])
  if not m or expiresAtOf(m) <= now then return {-1} end
  local bidBin = uuidBin(bid)
  for _, d in ipairs(m.d) do
    if d[2] == bidBin then
      if d[4] ~= uuidBin(token) then return {-1} end
      if pending(m) then return {1, uuidText(d[3]), m.y, m.c, timeoutAtOf(m)} end
      return {1}
    end
  end
  return {-1}
end

local all = redis.call('HGETALL', KEYS[2])
local box, entries = {}, {}
for j = 1, #all, 2 do
  if #all[j] == 1 then box[all[j]] = all[j + 1] else entries[#entries + 1] = {all[j], all[j + 1]} end
end
if box.i ~= bid or box.t ~= token or tonumber(box.e) <= now then return {-1} end
local listing = {}
for _, entry in ipairs(entries) do
  local id, idx, exp = string.match(entry[2], '^([^:]+):(%d+):(%d+)$')
  if tonumber(exp) > now then
    local m = loadCommand(base .. 'c:' .. id)
    if m and pending(m) then
      listing[#listing + 1] = { mid = entry[1], id = id, idx = tonumber(idx), m = m }
    end
  end
end
table.sort(listing, function (a, b)
  if a.m.c ~= b.m.c then return a.m.c < b.m.c end
  if a.id ~= b.id then
    if #a.id ~= #b.id then return #a.id < #b.id end
    return a.id < b.id
  end
  return a.idx < b.idx
end)
local reply = {1}
for _, e in ipairs(listing) do
  reply[#reply + 1] = e.mid
  reply[#reply + 1] = e.m.y
  reply[#reply + 1] = e.m.c
  reply[#reply + 1] = timeoutAtOf(e.m)
end
return reply
