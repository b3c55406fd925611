-- wrk script: posts the documented sign command (bench/load/sign-command.json, 300 s timeout) with
-- X-Api-Key from $HERMOD_API_KEY, to load the broker or the ceiling by hand (docs/performance.md).
-- wrk -t1 -c32 -d10s -s bench/load/accept.lua https://127.0.0.1:20400/hermod/rest/command/sign
local file = assert(io.open(os.getenv("HERMOD_BODY") or "bench/load/sign-command.json", "r"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Api-Key"] = os.getenv("HERMOD_API_KEY") or "none"

function done (summary, latency, requests)
  local e = summary.errors
  io.write(string.format("requests %d, non-2xx %d, socket errors %d; latency p50 %.2f ms, p99 %.2f ms\n",
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
