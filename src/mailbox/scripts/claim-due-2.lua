#!lua flags=allow-oom
--[[ claim-due-2: the sweeper. Times out up to ARGV[2] commands of one group whose deadline is <= now.
  Each deadline is taken out in the same script that times its command out, so concurrent sweepers on
  every instance never claim one twice. Bounded by count and by the bytes of meta it re-packs (the
  payload is never touched): it stops early once ARGV[5] bytes are done, and says so, so that the caller
  runs it again and Redis serves other clients in between. A deadline whose record is gone (it outlived
  lifespan + purge grace before any sweep) is dropped and counted: its TIMEOUT can no longer be written.

KEYS[1] group base   KEYS[2] deadlines (base .. 'due')
KEYS[3..] callers pass base .. 'ob', base .. 'oq', the group's bucket 'dg' and 'og' (includes/finish.lua) and the
          command keys of the deadlines they saw due. The group's 'dg' entry is set to its earliest deadline
          left, or removed when none is.
ARGV[1] now (ms)   ARGV[2] limit   ARGV[3] group   ARGV[4] terminal slack (ms)   ARGV[5] meta byte budget
Returns {timed out, deadlines without a record, 1 when it stopped at the byte budget else 0}.
]]
--- @include "declared"
--- @include "record"
--- @include "finish"

local base, due = KEYS[1], KEYS[2]
local now, limit, group, slackMs = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local dueGroups = indexBaseOf(base) .. 'dg'
if not declared(dueGroups) then return missingKeys() end

-- Times out what is due; returns {claimed, orphaned, stopped at the budget} or, before any write, missingKeys().
local function sweep ()
  local claimed, orphaned, bytes = 0, 0, 0
  while claimed + orphaned < limit do
    local ids = redis.call('ZRANGE', due, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit - claimed - orphaned)
    if #ids == 0 then break end
    -- First pass, no writes: every key the batch needs must be declared (the caller passes the command keys).
    local metas = {}
    for i, id in ipairs(ids) do
      if declared(base .. 'c:' .. id) then
        local m, n = loadMeta(base .. 'c:' .. id)
        metas[i] = { m = m, n = n }
        if m and m.s == 'IN_PROGRESS' then canFinish(base, id, m) end
      end
    end
    if #MISSING_LIST > 0 then
      if claimed + orphaned == 0 then return missingKeys() end
      return {claimed, orphaned, 1} -- what is done is done: the caller runs it again, which asks for the keys
    end
    for i, id in ipairs(ids) do
      local m, n = metas[i].m, metas[i].n
      if m and claimed > 0 and bytes + n > budget then return {claimed, orphaned, 1} end
      redis.call('ZREM', due, id)
      if not m then
        orphaned = orphaned + 1
      elseif m.s == 'IN_PROGRESS' then
        finishCommand(base, group, id, m, 'TIMEOUT', now, slackMs)
        claimed = claimed + 1
        bytes = bytes + n
      end
    end
  end
  return {claimed, orphaned, 0}
end

local reply = sweep()
if reply[1] == -9 then return reply end
-- The group's index entry now says its true earliest deadline, or the group leaves the index (nothing pending).
local first = redis.call('ZRANGE', due, 0, 0, 'WITHSCORES')
if #first == 0 then redis.call('ZREM', dueGroups, group) else redis.call('ZADD', dueGroups, first[2], group) end
return reply
