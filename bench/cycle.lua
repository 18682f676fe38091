-- The benchmark's closed loop, for wrk (a load generator written in C, with LuaJIT scripts).
--
-- Each connection submits a job, polls its result until it is done, then submits the next one.
-- Run one connection per thread (wrk -tN -cN -s bench/cycle.lua URL) so that each thread is one
-- client. The jobs come from the file named by LSS_BENCH_PLAN, one "endpoint<TAB>JSON body" per
-- line; thread k starts at line k and walks the list round. Submit-to-done latency is timed per
-- job with the monotonic clock. At the end one JSON line is printed:
--   {"jobs": N, "seconds": S, "bad": N, "p50_ms": X, "p99_ms": Y}
-- where "bad" counts answers that are neither a job id, "running" nor "done" (errors, 5xx).
-- The clock, the threads' counters and that line are loop_common.lua's, in the folder that
-- LSS_BENCH_LUA names (bench/wrk.py sets both variables).

dofile(os.getenv("LSS_BENCH_LUA") .. "/loop_common.lua")

function init(args)
  plan = {}
  for line in io.lines(os.getenv("LSS_BENCH_PLAN")) do
    local endpoint, body = line:match("^([^\t]+)\t(.*)$")
    plan[#plan + 1] = { "/api/" .. endpoint, body }
  end
  headers = { ["Content-Type"] = "application/json" }
  next_job = (number or 1) - 1
  submitting, job_id, submitted = true, nil, 0
  jobs, bad, latencies = 0, 0, {}
end

function request()
  if submitting then
    next_job = next_job % #plan + 1
    submitted = now_us()
    return wrk.format("POST", plan[next_job][1], headers, plan[next_job][2])
  end
  return wrk.format("GET", "/api/get_results/" .. job_id)
end

function response(status, headers, body)
  if submitting then
    job_id = status == 200 and body:match('"job_id"%s*:%s*"([^"]+)"')
    if job_id then
      submitting = false
    else
      bad = bad + 1
    end
  elseif status == 200 and body:find('"status":"done"', 1, true) then
    jobs = jobs + 1
    latencies[jobs] = now_us() - submitted
    submitting = true
  elseif not (status == 200 and body:find('"status":"running"', 1, true)) then
    bad = bad + 1
    submitting = true
  end
end
