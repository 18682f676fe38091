"""The Lua scripts of the job registry (registry.py): each change of a job, atomic in Redis.

KEYS and ARGV are as `JobRegistry` passes them; job hashes are named by a prefix in ARGV.
"""

#: Record a new job unless a graceful shutdown began: its number (0 if refused). With a queue
#: (KEYS[5]), push the job's task message onto it: ARGV[8...] joined with the job id (ARGV[7]
#: and the number). Its first write is INCR, which a Redis past its maxmemory refuses: the script
#: then stops there, having written nothing; once a script wrote, Redis runs it to its end. So a
#: full Redis records neither the job nor its message, and an accepted job has both.
ACCEPT = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local n = redis.call('INCR', KEYS[1])
redis.call('HSET', ARGV[1] .. n, 'endpoint', ARGV[2], 'request', ARGV[3], 'status', 'running',
           'accepted', ARGV[4], 'ttl_done', ARGV[5], 'ttl_error', ARGV[6])
redis.call('ZADD', KEYS[3], n, n)
redis.call('ZADD', KEYS[4], ARGV[4], n)
if KEYS[5] then
  redis.call('LPUSH', KEYS[5], table.concat({unpack(ARGV, 8)}, ARGV[7] .. n))
end
return n
"""
#: Record a job's answer (and when it started, ARGV[6], if given), start its time to live, and
#: wake whoever waits for it (KEYS[4], a list a waiter reads without taking: registry.result);
#: when the job was accepted (for its submit-to-done time). A second run of a job (given to
#: another worker after a loss) leaves the first answer alone: 0.
#: The answer's body is stored once under its digest (KEYS[5]), kept as long as the longest-lived
#: job that points to it, and a little longer (ARGV[9] ms); ARGV[3] is the body, or '' when the
#: worker believes it stored already: -1 then if it did not, and the worker sends it.
#: The first write is ZREM, which a full Redis does not refuse (it is no "denyoom" command), so
#: the writes after it are made too: an accepted job's answer is recorded even past maxmemory.
FINISH = """
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
local stored = redis.call('EXISTS', KEYS[5]) == 1
if not stored and ARGV[3] == '' then return -1 end
redis.call('ZREM', KEYS[2], ARGV[1])
local ttl = tonumber(redis.call('HGET', KEYS[1], 'ttl_' .. ARGV[2])) or 0
local keep = ttl * 1000 + tonumber(ARGV[9])
if not stored then
  redis.call('SET', KEYS[5], ARGV[3])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[5], keep) end
elseif ttl == 0 then
  redis.call('PERSIST', KEYS[5])
else
  local left = redis.call('PTTL', KEYS[5])
  if left >= 0 and left < keep then redis.call('PEXPIRE', KEYS[5], keep) end
end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'answer', ARGV[8], 'finished', ARGV[5])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'reason', ARGV[4]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'started', ARGV[6]) end
redis.call('RPUSH', KEYS[4], 1)
redis.call('EXPIRE', KEYS[4], ARGV[7])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('ZADD', KEYS[3], string.format('%.3f', tonumber(ARGV[5]) + ttl), ARGV[1])
else
  redis.call('ZADD', KEYS[3], '+inf', ARGV[1])
end
return redis.call('HGET', KEYS[1], 'accepted') or ARGV[5]
"""
#: A job's status, answer body (false while running, or if its answer is gone) and reason; nil
#: if there is no such job. Answers are named by a prefix (ARGV[1]) and the job's `answer`; a
#: job finished by an earlier version has its body in its own hash.
READ = """
local job = redis.call('HMGET', KEYS[1], 'status', 'answer', 'reason', 'body')
if not job[1] then return nil end
local body = job[4]
if job[2] then body = redis.call('GET', ARGV[1] .. job[2]) end
return {job[1], body, job[3]}
"""
#: Begin a graceful shutdown: set the flag (KEYS[1]). The first write deletes it, a write a full
#: Redis does not refuse, so the flag that stops every web process is set even then.
SHUT_DOWN = """
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[1], 1)
return 1
"""
#: Forget up to ARGV[3] jobs per sorted set whose time to live ran out before ARGV[2].
PURGE = """
local purged = 0
for i = 2, #KEYS do
  local numbers = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
  for _, n in ipairs(numbers) do
    redis.call('DEL', ARGV[1] .. n)
    redis.call('ZREM', KEYS[1], n)
    redis.call('ZREM', KEYS[i], n)
  end
  purged = purged + #numbers
end
return purged
"""
#: Before a wait on a job's wake-up list (KEYS[2]), in the same pipeline: a job that finished
#: before the list existed, or whose list expired, or that is gone (KEYS[1]), gets an item on it
#: (for ARGV[1] s), so that the wait ends at once. Sent with EVAL: a pipeline with a cached
#: script would first ask Redis whether it has it, a round trip more.
WAKE_IF_FINISHED = """
if redis.call('HGET', KEYS[1], 'status') ~= 'running' and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('RPUSH', KEYS[2], 1)
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return 0
"""
