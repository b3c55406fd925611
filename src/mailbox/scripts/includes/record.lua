--[[ record: command records. A command is one string key holding msgpack(meta, payload), where meta is
  s state ('IN_PROGRESS' | 'COMPLETED' | 'REJECTED' | 'TIMEOUT' | 'CANCELLED'), y type, k clientId,
  x externalId (optional), o timeout (s), l lifespan (s), c createdAt (ms), d {{to, bid, mid, token}, ...}
  (the three ids as 16 raw bytes: they arrive and leave as lowercase UUID text),
  f finishedAt (ms, terminal), a answeredBy (0-based index into d), r response (JSON text of the answer).
  timeoutAt and expiresAt are derived (c + o * 1000, c + l * 1000), never stored. ]]

local function loadCommand (key)
  local raw = redis.call('GET', key)
  if not raw then return nil, nil end
  return cmsgpack.unpack(raw)
end

local function timeoutAtOf (m) return m.c + m.o * 1000 end
local function expiresAtOf (m) return m.c + m.l * 1000 end

local function uuidBin (text)
  return (string.gsub(string.gsub(text, '%-', ''), '%x%x', function (h) return string.char(tonumber(h, 16)) end))
end

local function uuidText (bin)
  local h = string.gsub(bin, '.', function (c) return string.format('%02x', string.byte(c)) end)
  return string.sub(h, 1, 8) .. '-' .. string.sub(h, 9, 12) .. '-' .. string.sub(h, 13, 16) .. '-' ..
    string.sub(h, 17, 20) .. '-' .. string.sub(h, 21, 32)
end

-- The meta as JSON for the caller: the same fields, destination ids as text.
local function metaJson (m)
  local view = {}
  for k, v in pairs(m) do view[k] = v end
  view.d = {}
  for i, d in ipairs(m.d) do view.d[i] = {d[1], uuidText(d[2]), uuidText(d[3]), uuidText(d[4])} end
  return cjson.encode(view)
end
