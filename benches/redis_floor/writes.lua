-- The least a step of Tollgate's exact decision must ask of Redis for
-- merchant_messages.toll: one command per key the decision records, as
-- the real script spends in the common case, with none of its checks.
-- Kinds cycle over five as in the benchmark's stream: two in five are
-- transaction notices (a new de-duplication key, the terminal's cap, a
-- new message id), two are promotions or network notices (the
-- merchant's or the network's cap, the terminal's cap, a new message id),
-- one is a security alert (a new message id only): 2.6 keys a decision,
-- 1.4 of them created. ARGV[1] is a random number as for gcra.lua.
local r = tonumber(ARGV[1])
local kind = r % 5
local instants = string.rep("\1\2\3\4\5\6\7\8", 4)
local function cap(name, n)
  redis.call("SET", name .. (r % n), instants, "GET", "PX", 7200000)
end
local function new(name)
  redis.call("SET", name .. r, "\1\2\3\4\5\6\7\8\9", "NX", "GET", "PX", 90000000)
end
if kind < 2 then
  new("dedup:")
  cap("terminal:", 100000)
elseif kind < 4 then
  cap("merchant:", 1000)
  cap("terminal:", 100000)
end
new("id:")
return 1
