-- The one-key GCRA limiter of BENCHMARKS.md section 14 (redis-cell's
-- style): GET the theoretical arrival time, compare, SET it with an
-- expiry. ARGV[1] is a random number naming the terminal (100,000 of
-- them) and standing for the record's time.
local r = tonumber(ARGV[1])
local key = "gcra:" .. (r % 100000)
local now = r % 1000000000
local tat = tonumber(redis.call("GET", key) or "0")
if tat < now then tat = now end
redis.call("SET", key, tostring(tat + 120000), "PX", 3600000)
return 1
