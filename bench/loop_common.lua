-- What the benchmark's wrk loops (cycle.lua, answer.lua, revalidate.lua) share, loaded by each
-- with dofile:
-- a monotonic clock, the plan file (LSS_BENCH_PLAN, tab-separated fields a line), the threads'
-- counters, and the summary line wrk prints at the end:
--   {"jobs": N, "seconds": S, "bad": N, "p50_ms": X, "p99_ms": Y}

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long sec; long nsec; } lss_clock;
int clock_gettime(int which, lss_clock *now);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("lss_clock")

function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.sec) * 1e6 + tonumber(clock.nsec) / 1e3
end

-- The plan's lines, each split at its tabs.
function read_plan()
  local plan = {}
  for line in io.lines(os.getenv("LSS_BENCH_PLAN")) do
    local fields = {}
    for field in line:gmatch("[^\t]+") do fields[#fields + 1] = field end
    plan[#plan + 1] = fields
  end
  return plan
end

-- A response header, whatever the case the server wrote its name in.
function header(headers, name)
  return headers[name] or headers[name:lower()]
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("number", #threads)
end

function done(summary, latency, requests)
  local all, total_bad = {}, 0
  for _, thread in ipairs(threads) do
    for _, value in ipairs(thread:get("latencies")) do
      all[#all + 1] = value
    end
    total_bad = total_bad + thread:get("bad")
  end
  table.sort(all)
  local function percentile(p)
    if #all == 0 then return 0 end
    return all[math.max(1, math.ceil(#all * p))] / 1000
  end
  io.write(string.format(
    '{"jobs": %d, "seconds": %.3f, "bad": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    #all, summary.duration / 1e6, total_bad, percentile(0.5), percentile(0.99)))
end
