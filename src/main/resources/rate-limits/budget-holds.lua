-- What requests in flight hold against one tenant's monthly budgets, shared by every gateway
-- replica (RedisLimitCounters.hold/release). Redis runs a script atomically, so the totals a hold
-- returns include every hold placed before it and none placed after: of two replicas racing for
-- the last of a budget, the second sees the first. Time is the server's (TIME). Each hold expires
-- (a replica that stopped without releasing must not hold a budget for ever), and the hash expires
-- with its last hold, so a tenant with nothing in flight leaves no key behind.
--
-- KEYS[1] the tenant's holds: a hash, field = hold id, value = "expires_ms tokens cost_nanos subject"
-- ARGV[1] 'hold' or 'release', ARGV[2] the hold id
-- hold: ARGV[3] tokens, ARGV[4] cost in nano-units, ARGV[5] time to live in ms, ARGV[6] key or user
-- Returns {tenant tokens, tenant cost, subject tokens, subject cost} held, this hold included
-- ({0, 0, 0, 0} for a release).

if ARGV[1] == 'release' then
  redis.call('HDEL', KEYS[1], ARGV[2])
  return {0, 0, 0, 0}
end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local expires = now + tonumber(ARGV[5])
local subject = ARGV[6]
redis.call('HSET', KEYS[1], ARGV[2], string.format('%.0f %s %s %s', expires, ARGV[3], ARGV[4], subject))

local tenant_tokens, tenant_cost, subject_tokens, subject_cost = 0, 0, 0, 0
local last = expires
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local e, t, c, s = string.match(all[i + 1], '^(%d+) (%d+) (%d+) (.*)$')
  e = tonumber(e)
  if e < now then
    redis.call('HDEL', KEYS[1], all[i])
  else
    tenant_tokens = tenant_tokens + tonumber(t)
    tenant_cost = tenant_cost + tonumber(c)
    if s == subject then
      subject_tokens = subject_tokens + tonumber(t)
      subject_cost = subject_cost + tonumber(c)
    end
    if e > last then
      last = e
    end
  end
end
redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', last))
return {string.format('%.0f', tenant_tokens), string.format('%.0f', tenant_cost),
  string.format('%.0f', subject_tokens), string.format('%.0f', subject_cost)}
