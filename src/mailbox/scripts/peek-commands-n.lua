#!lua flags=no-writes
--[[ peek-commands-n: the dev listing reads commands of one group without touching them (no timeout is
  written, nothing else changes). Read-only: `no-writes` makes Redis refuse any write. Takes any number
  of keys (the 'n': the caller passes numkeys).

KEYS[1..n] command keys (base .. 'c:' .. id), all of one group
ARGV[1] now (ms)   ARGV[2..n+1] the command ids of KEYS, in the same order
Returns
  {id, metaJson, payload, ...}   for each id whose command exists and is within its lifespan
]]
--- @include "record"

local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local m, n = loadMeta(key)
  if m and expiresAtOf(m) > now then
    out[#out + 1] = ARGV[i + 1]
    out[#out + 1] = metaJson(m)
    out[#out + 1] = loadPayload(key, n)
  end
end
return out
