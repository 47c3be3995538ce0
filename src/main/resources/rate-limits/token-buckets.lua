-- One tenant's request and token buckets, shared by every gateway replica (RedisLimitCounters).
-- Redis runs a script atomically, so two replicas can never both take the last unit; time is the
-- server's (TIME), so the replicas' clocks do not matter. A bucket is a hash {level, at} that
-- refills continuously up to one minute's allowance; a missing bucket is a full one, and a bucket
-- expires once it would be full again, so idle tenants leave no keys behind.
--
-- KEYS[1] requests bucket, KEYS[2] tokens bucket (one hash slot: the tenant is the hash tag)
-- ARGV[1] 'acquire' or 'settle'
-- ARGV[2] requests per minute, ARGV[3] tokens per minute (0: no limit)
-- ARGV[4] acquire: tokens to reserve; settle: tokens to give back (negative: to charge)
-- Returns {admitted (1/0), request wait ms, token wait ms}.

local MINUTE_MS = 60000
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function level(key, per_minute)
  local v = redis.call('HMGET', key, 'level', 'at')
  if not v[1] or not v[2] then
    return per_minute
  end
  local l = tonumber(v[1]) + (now - tonumber(v[2])) * per_minute / MINUTE_MS
  if l > per_minute then
    l = per_minute
  end
  return l
end

local function store(key, per_minute, l)
  redis.call('HSET', key, 'level', string.format('%.6f', l), 'at', string.format('%.0f', now))
  redis.call('PEXPIRE', key, math.ceil((per_minute - l) * MINUTE_MS / per_minute) + 1000)
end

local op = ARGV[1]
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local tokens = tonumber(ARGV[4])

if op == 'settle' then
  if tpm > 0 and tokens ~= 0 then
    local l = level(KEYS[2], tpm) + tokens
    if l > tpm then
      l = tpm
    end
    store(KEYS[2], tpm, l)
  end
  return {1, 0, 0}
end

local request_wait, token_wait = 0, 0
local requests, available, cost = 0, 0, 0
if rpm > 0 then
  requests = level(KEYS[1], rpm)
  if requests < 1 then
    request_wait = math.ceil((1 - requests) * MINUTE_MS / rpm)
  end
end
if tpm > 0 then
  -- A request larger than a whole minute's tokens is charged a full minute, so it waits for a
  -- full bucket instead of never passing.
  cost = math.min(tokens, tpm)
  available = level(KEYS[2], tpm)
  if available < cost then
    token_wait = math.ceil((cost - available) * MINUTE_MS / tpm)
  end
end
if request_wait > 0 or token_wait > 0 then
  return {0, request_wait, token_wait}
end
if rpm > 0 then
  store(KEYS[1], rpm, requests - 1)
end
if tpm > 0 then
  store(KEYS[2], tpm, available - cost)
end
return {1, 0, 0}
