-- The benchmark's warm-ETag loop, for wrk: each connection revalidates the answers it holds,
-- GET /api/answers/<endpoint>.json?... with If-None-Match: <its ETag>, as an HTTP cache in
-- front of the service would; the service answers 304 without a job. One connection per thread
-- (wrk -tN -cN -s bench/revalidate.lua URL). The plan (LSS_BENCH_PLAN) has a path and query,
-- a tab and the ETag a line (fetched beforehand). "jobs" counts the 304s (answers served),
-- "bad" anything else.
dofile(os.getenv("LSS_BENCH_LUA") .. "/loop_common.lua")

function init(args)
  plan = read_plan()
  next_job = (number or 1) - 1
  started = 0
  jobs, bad, latencies = 0, 0, {}
end

function request()
  next_job = next_job % #plan + 1
  started = now_us()
  return wrk.format("GET", plan[next_job][1], { ["If-None-Match"] = plan[next_job][2] })
end

function response(status, headers, body)
  if status == 304 then
    jobs = jobs + 1
    latencies[jobs] = now_us() - started
  else
    bad = bad + 1
  end
end
