#!lua flags=allow-oom
--[[ ack-outbox-3: removes events from a group's outbox once the callback queue holds them. Idempotent. An
  outbox left empty takes its group out of the bucket's set of groups with outbox events (keys.ts), so the
  relay stops looking at a group gone quiet.

KEYS[1] outbox order (base .. 'oq')   KEYS[2] outbox (base .. 'ob')   KEYS[3] the group's bucket 'og'
ARGV[1] group   ARGV[2..] event ids (none: only the group's entry in KEYS[3] is checked)
Returns the number of events removed.
]]

local removed = 0
if #ARGV > 1 then
  redis.call('ZREM', KEYS[1], unpack(ARGV, 2))
  removed = redis.call('HDEL', KEYS[2], unpack(ARGV, 2))
end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[1]) end
return removed
