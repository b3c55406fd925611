#!lua flags=allow-oom
--[[ ack-outbox-2: removes events from a group's outbox once the callback queue holds them. Idempotent.

KEYS[1] outbox order (base .. 'oq')   KEYS[2] outbox (base .. 'ob')
ARGV[1..] event ids
Returns the number of events removed.
]]

redis.call('ZREM', KEYS[1], unpack(ARGV))
return redis.call('HDEL', KEYS[2], unpack(ARGV))
