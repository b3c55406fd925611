#!lua flags=allow-oom
--[[ claim-due-2: the sweeper. Times out up to ARGV[2] commands of one group whose deadline is <= now.
  Each deadline is taken out in the same script that times its command out, so concurrent sweepers on
  every instance never claim one twice. A deadline whose record is gone (purged) is dropped silently.

KEYS[1] group base   KEYS[2] deadlines (base .. 'due')
ARGV[1] now (ms)   ARGV[2] limit   ARGV[3] group   ARGV[4] terminal slack (ms)
Returns the number of commands this call timed out.
]]
--- @include "record"
--- @include "finish"

local base, due = KEYS[1], KEYS[2]
local now, limit, group, slackMs = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local claimed = 0
while claimed < limit do
  local ids = redis.call('ZRANGE', due, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit - claimed)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    redis.call('ZREM', due, id)
    local m, payload = loadCommand(base .. 'c:' .. id)
    if m and m.s == 'IN_PROGRESS' then
      finishCommand(base, group, id, m, payload, 'TIMEOUT', now, slackMs)
      claimed = claimed + 1
    end
  end
end
return claimed
