--[[ finish: the one place a command leaves IN_PROGRESS (needs "record" and "declared"). It writes the record back as its
  terminal meta alone (the payload is dropped, never copied: nobody reads it once decided) with a TTL of
  the lifespan left plus the slack, drops the deadline, takes the messages out of their named boxes'
  pending indexes and appends the command's one CallbackEvent (JSON, same shape as types.ts) to the
  group's outbox, and the group to its bucket's set of groups with outbox events (`og`, below). A box only
  lists messages of IN_PROGRESS commands. ]]

--[[ The index of groups with work due (keys.ts): per bucket `dg`, a sorted set group -> the earliest deadline the
  group may have (accept lowers it, a sweep of the group sets it right or drops the group), and `og`, the set
  of groups whose outbox may hold events (a terminal step adds the group, an acknowledgement that empties the
  outbox drops it). Their keys share the slot of the group's keys and are found from the group base alone:
  `P:{gb:<b>:<salt>}:g:<group>:` (Cluster) has them under `P:{gb:<b>:<salt>}:`, `P:{g:<group>}:` under `P:`. ]]
local function indexBaseOf (base)
  local open = string.find(base, '{', 1, true)
  if string.sub(base, open + 1, open + 3) == 'gb:' then return string.sub(base, 1, string.find(base, '}', open, true)) .. ':' end
  return string.sub(base, 1, open - 1)
end

local BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz'

local function base36 (n)
  if n == 0 then return '0' end
  local s = ''
  while n > 0 do
    local r = n % 36
    s = string.sub(BASE36, r + 1, r + 1) .. s
    n = (n - r) / 36
  end
  return s
end

local function finishCommand (base, group, id, m, state, now, slackMs)
  m.s = state
  m.f = now
  local ttl = expiresAtOf(m) - now
  if ttl < 0 then ttl = 0 end
  redis.call('SET', base .. 'c:' .. id, packRecord(m), 'PX', ttl + slackMs)
  redis.call('ZREM', base .. 'due', id)
  for _, d in ipairs(m.d) do
    if d[1] ~= '@tmp' then redis.call('HDEL', base .. 'q:' .. d[1], uuidText(d[3])) end
  end
  local event = {
    id = 'cmd_' .. id .. '_' .. string.lower(state) .. '_' .. base36(m.c),
    clientId = m.k, group = group, commandId = id, type = m.y, state = state,
    createdAt = m.c, finishedAt = now
  }
  if m.x then event.externalId = m.x end
  if m.a then
    local d = m.d[m.a + 1]
    event.destination = { to = d[1], bid = uuidText(d[2]), mid = uuidText(d[3]) }
  end
  if m.r then event.response = m.r end
  redis.call('HSET', base .. 'ob', event.id, cjson.encode(event))
  redis.call('ZADD', base .. 'oq', now, event.id)
  redis.call('SADD', indexBaseOf(base) .. 'og', group)
end

-- Whether every key finishCommand touches for command id (meta m) is declared; the missing ones are remembered.
local function canFinish (base, id, m)
  local ok = declared(base .. 'c:' .. id)
  ok = declared(base .. 'due') and ok
  ok = declared(base .. 'ob') and ok
  ok = declared(base .. 'oq') and ok
  ok = declared(indexBaseOf(base) .. 'og') and ok
  for _, d in ipairs(m.d) do
    if d[1] ~= '@tmp' then ok = declared(base .. 'q:' .. d[1]) and ok end
  end
  return ok
end

-- Reads observe the deadline themselves, so a lagging sweeper never shows a late state. Returns 1 when it
-- timed out, 0 when not due, nil when a key the timeout needs is not declared (nothing written: return missingKeys()).
local function timeOutIfDue (base, group, id, m, now, slackMs)
  if m.s == 'IN_PROGRESS' and timeoutAtOf(m) <= now then
    if not canFinish(base, id, m) then return nil end
    finishCommand(base, group, id, m, 'TIMEOUT', now, slackMs)
    return 1
  end
  return 0
end
