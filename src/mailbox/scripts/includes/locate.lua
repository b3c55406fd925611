--[[ locate: finds the command of a device's (bid, mid) (needs "record" and "declared"). kind 't': an @tmp
  box, whose command id the box index gave (refId); kind 'n': a named box hash (target). Returns id,
  destination index (0-based), meta and the packed meta's size; nil when the message is not in that box;
  false when the command's key is not declared (return missingKeys()). ]]

local function locateMessage (base, target, kind, refId, bid, mid)
  local id = refId
  if kind == 'n' then
    local box = redis.call('HMGET', target, 'i', mid)
    if box[1] ~= bid or not box[2] then return nil end
    id = string.match(box[2], '^([^:]+):')
  end
  if not declared(base .. 'c:' .. id) then return false end
  local m, n = loadMeta(base .. 'c:' .. id)
  if not m then return nil end
  local bidBin, midBin = uuidBin(bid), uuidBin(mid)
  for i, d in ipairs(m.d) do
    if d[2] == bidBin and d[3] == midBin then return id, i - 1, m, n end
  end
  return nil
end
