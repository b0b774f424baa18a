#!/bin/sh
# The floor of Tollgate's Redis step against a one-key GCRA script
# (BENCHMARKS.md, section 14): redis-benchmark calls each script with 50
# clients, ROUNDS rounds of N calls each, interleaved, on a redis-server of
# its own (no persistence) on a free loopback port. Prints calls per
# second and Redis's CPU microseconds per call (utime + stime from /proc).
# Usage: sh benches/redis_floor/run.sh [ROUNDS] [N]
set -eu
rounds=${1:-3}
n=${2:-200000}
here=$(cd "$(dirname "$0")" && pwd)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
pid=$(cat "$dir/redis.pid")
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
tick=$(getconf CLK_TCK)
echo "| round | script | calls/s | Redis CPU µs per call | load |"
echo "|---|---|---|---|---|"
for round in $(seq "$rounds"); do
  for script in gcra writes; do
    sha=$(redis-cli -p "$port" script load "$(cat "$here/$script.lua")")
    before=$(cpu)
    rate=$(redis-benchmark -p "$port" -c 50 -n "$n" -r 1000000000 -q \
      evalsha "$sha" 0 __rand_int__ | tr '\r' '\n' |
      sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -n 1)
    after=$(cpu)
    us=$(echo "($after - $before) * 1000000 / $tick / $n" | bc -l)
    printf '| %s | %s | %.0f | %.1f | %s |\n' "$round" "$script" "$rate" "$us" \
      "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
