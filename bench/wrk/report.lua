-- Shared by the bench's wrk scripts: think time, arrival ramp, and the run's figures as one
-- machine-readable line.
local M = {}

local think_ms = tonumber(os.getenv('WRK_DELAY_MS') or '0') or 0
local connections = tonumber(os.getenv('WRK_CONNECTIONS') or '0') or 0
local ramp_ms = tonumber(os.getenv('WRK_RAMP_MS') or '0') or 0
local first_requests = 0

-- Without pacing no delay() is defined: wrk then sends back to back without a timer per request.
M.paced = think_ms > 0 or ramp_ms > 0

-- wrk asks before every request of a connection (the first included) how long to wait. The
-- first request of each connection is spread over the ramp, as Artillery's users arrive within
-- a second: all connections starting together would keep sending in bursts of all of them at once
-- (each waits the same think time after its answer), queueing in the server. After that: the
-- think time.
function M.delay()
  if first_requests < connections then
    first_requests = first_requests + 1
    return math.floor((first_requests - 1) * ramp_ms / connections)
  end
  return think_ms
end

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"durationUs":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latencyUs":{"min":%d,"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end

return M
