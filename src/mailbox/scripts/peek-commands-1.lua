#!lua flags=no-writes
--[[ peek-commands-1: the dev listing reads commands of one group without touching them (no timeout is
  written, nothing else changes). Read-only: `no-writes` makes Redis refuse any write.

KEYS[1] group base
ARGV[1] now (ms)   ARGV[2..] command ids
Returns
  {id, metaJson, payload, ...}   for each id whose command exists and is within its lifespan
]]
--- @include "record"

local base, now = KEYS[1], tonumber(ARGV[1])
local out = {}
for i = 2, #ARGV do
  local key = base .. 'c:' .. ARGV[i]
  local m, n = loadMeta(key)
  if m and expiresAtOf(m) > now then
    out[#out + 1] = ARGV[i]
    out[#out + 1] = metaJson(m)
    out[#out + 1] = loadPayload(key, n)
  end
end
return out
