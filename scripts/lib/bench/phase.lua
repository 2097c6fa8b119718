-- wrk script for scripts/bench: one measured phase per wrk run, chosen by environment variables.
--   BENCH_PHASE   healthz | webhook | initiate | configuration
--   BENCH_DATA    directory with organizations.tsv and webhooks.tsv (from `switchboard bench-seed`)
--   BENCH_THREADS wrk's -t (webhook lines are split between threads so none is sent twice)
--   BENCH_FIRST, BENCH_LAST  1-based range of webhooks.tsv lines this run may use
--   BENCH_FROM    the `from_number` every initiate-call uses (a number of the simulated account)
-- done() prints one line, `BENCH_RESULT {json}`, that scripts/bench reads.

local phase = os.getenv("BENCH_PHASE") or "healthz"
local data = os.getenv("BENCH_DATA") or "."
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

local function fields(line)
  local out = {}
  for field in string.gmatch(line, "[^\t]+") do
    table.insert(out, field)
  end
  return out
end

local rows = {}
local next_row = 0

function init(args)
  local index = thread_index or 0
  math.randomseed(os.time() * 1000 + index * 7919)
  if phase == "webhook" then
    local first = tonumber(os.getenv("BENCH_FIRST") or "1")
    local last = tonumber(os.getenv("BENCH_LAST") or "1000000000")
    local number = 0
    for line in io.lines(data .. "/webhooks.tsv") do
      number = number + 1
      if number > last then break end
      if number >= first and (number % thread_count) == index then
        table.insert(rows, fields(line))
      end
    end
  elseif phase == "initiate" or phase == "configuration" then
    for line in io.lines(data .. "/organizations.tsv") do
      table.insert(rows, fields(line))
    end
  end
end

if phase == "webhook" then
  function request()
    next_row = next_row + 1
    if next_row > #rows then next_row = 1 end
    local row = rows[next_row]
    return wrk.format("POST", row[1], {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = row[3],
    }, row[2])
  end
elseif phase == "initiate" then
  local from = os.getenv("BENCH_FROM") or ""
  function request()
    local row = rows[math.random(#rows)]
    local body = string.format('{"to_number":"+1415556%04d","from_number":"%s"}', math.random(1000, 9999), from)
    return wrk.format("POST", "/api/v1/telephony/initiate-call", {
      ["Authorization"] = "Bearer " .. row[2],
      ["Content-Type"] = "application/json",
    }, body)
  end
elseif phase == "configuration" then
  function request()
    local row = rows[math.random(#rows)]
    return wrk.format("GET", "/api/v1/organizations/" .. row[1] .. "/configuration/TWILIO_CONFIGURATION", {
      ["Authorization"] = "Bearer " .. row[2],
    })
  end
else
  -- healthz: no request() function, so wrk sends one pre-built request as fast as it can.
  wrk.method = "GET"
  wrk.path = "/healthz"
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"phase":"%s","requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\n',
    phase, summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
