#!lua flags=allow-oom
--[[ reindex-group-4: enters one group in its bucket's index of groups with work due (keys.ts) when it has work:
  its earliest deadline into 'dg' (lowered only), the group into 'og' when its outbox holds events. For data
  the index does not describe: written before it existed, or by an instance of an older version.

KEYS[1] deadlines (base .. 'due')   KEYS[2] outbox order (base .. 'oq')   KEYS[3] the bucket's 'dg'   KEYS[4] its 'og'
ARGV[1] group
Returns {1 when the group has deadlines else 0, 1 when its outbox has events else 0}.
]]

local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first > 0 then redis.call('ZADD', KEYS[3], 'LT', first[2], ARGV[1]) end
local events = redis.call('ZCARD', KEYS[2])
if events > 0 then redis.call('SADD', KEYS[4], ARGV[1]) end
return {#first > 0 and 1 or 0, events > 0 and 1 or 0}
