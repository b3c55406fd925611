--[[ declared: every key a script touches is one of its KEYS (Redis Cluster's rule, and that of proxies and
  engines which refuse undeclared keys). A key a script only learns while running (the command a named box
  or the deadline set names, the named boxes of a command it decides, the command an Idempotency-Key names)
  is checked with `declared` before the script writes anything. When one is missing the script returns
  missingKeys(), {-9, key, ...}, having written nothing, and the caller runs it again with those keys added
  (redis-scripts.ts). Every such key carries the group's hash tag, so all of them sit in KEYS[1]'s slot. ]]

local DECLARED, MISSING, MISSING_LIST = {}, {}, {}
for _, k in ipairs(KEYS) do DECLARED[k] = true end

-- True when `key` is in KEYS; otherwise remembers it for missingKeys().
local function declared (key)
  if DECLARED[key] then return true end
  if not MISSING[key] then
    MISSING[key] = true
    MISSING_LIST[#MISSING_LIST + 1] = key
  end
  return false
end

local function missingKeys ()
  local reply = {-9}
  for _, k in ipairs(MISSING_LIST) do reply[#reply + 1] = k end
  return reply
end
