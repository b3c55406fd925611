--[[ record: command records. A command is one string key: a 4-byte big-endian length n, n bytes of
  msgpack(meta), then the payload (JSON text, only while IN_PROGRESS). State changes read the meta with
  GETRANGE and write the key back as meta alone: they never copy, unpack or re-pack the payload. (One key,
  not a meta key and a payload key: a second key costs 40-120 B per pending command, of ~550 B.)
  meta: s state ('IN_PROGRESS' | 'COMPLETED' | 'REJECTED' | 'TIMEOUT' | 'CANCELLED'), y type, k clientId,
  x externalId (optional), o timeout (s), l lifespan (s), c createdAt (ms), d {{to, bid, mid, token}, ...}
  (the three ids as 16 raw bytes: they arrive and leave as lowercase UUID text),
  f finishedAt (ms, terminal), a answeredBy (0-based index into d), r response (JSON text of the answer).
  timeoutAt and expiresAt are derived (c + o * 1000, c + l * 1000), never stored. ]]

-- The meta of a command and its packed size (bytes), or nil when the key is gone.
local function loadMeta (key)
  local head = redis.call('GETRANGE', key, 0, 3)
  if #head < 4 then return nil, 0 end
  local n = struct.unpack('>I4', head)
  return cmsgpack.unpack(redis.call('GETRANGE', key, 4, 3 + n)), n
end

-- The payload of a command whose packed meta is n bytes ('' once it is decided).
local function loadPayload (key, n)
  return redis.call('GETRANGE', key, 4 + n, -1)
end

-- The value of a command key: meta, then the payload when given.
local function packRecord (m, payload)
  local meta = cmsgpack.pack(m)
  return struct.pack('>I4', #meta) .. meta .. (payload or '')
end

local function timeoutAtOf (m) return m.c + m.o * 1000 end
local function expiresAtOf (m) return m.c + m.l * 1000 end

-- Ids are kept as 16 raw bytes, not 36 characters: 60 B less per destination of every pending command.
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
