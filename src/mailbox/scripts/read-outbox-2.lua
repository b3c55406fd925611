#!lua flags=no-writes
--[[ read-outbox-2: the oldest events of a group's outbox, without removing them (ack-outbox does, once
  the callback queue holds them: an event read and never acknowledged is read again, by any instance).

KEYS[1] outbox order (base .. 'oq')   KEYS[2] outbox (base .. 'ob')
ARGV[1] limit
Returns {id, finishedAt (ms), eventJson, ...}, three values per event, oldest first.
]]

local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local reply = {}
for j = 1, #ids, 2 do
  local json = redis.call('HGET', KEYS[2], ids[j])
  if json then
    reply[#reply + 1] = ids[j]
    reply[#reply + 1] = ids[j + 1]
    reply[#reply + 1] = json
  end
end
return reply
