-- The benchmark's GET answer loop, for wrk: each connection GETs a question's answer
-- (/api/answers/<endpoint>.json?question=...), and when the server answers 202 instead of the
-- answer, polls its Location until done; then asks the next question. One connection per
-- thread (wrk -tN -cN -s bench/answer.lua URL). The plan (LSS_BENCH_PLAN) has one path and
-- query a line; thread k starts at line k. Latency is timed from the GET to the answer.
-- "bad" counts answers that are neither the answer, a 202 nor a poll's running/done.
dofile(os.getenv("LSS_BENCH_LUA") .. "/loop_common.lua")

function init(args)
  plan = read_plan()
  next_job = (number or 1) - 1
  asking, location, started = true, nil, 0
  jobs, bad, latencies = 0, 0, {}
end

function request()
  if asking then
    next_job = next_job % #plan + 1
    started = now_us()
    return wrk.format("GET", plan[next_job][1])
  end
  return wrk.format("GET", location)
end

local function answered()
  jobs = jobs + 1
  latencies[jobs] = now_us() - started
  asking = true
end

function response(status, headers, body)
  if asking then
    if status == 200 then
      answered()
    elseif status == 202 and header(headers, "Location") then
      location, asking = header(headers, "Location"), false
    else
      bad = bad + 1
    end
  elseif status == 200 and body:find('"status":"done"', 1, true) then
    answered()
  elseif not (status == 200 and body:find('"status":"running"', 1, true)) then
    bad = bad + 1
    asking = true
  end
end
