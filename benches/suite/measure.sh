#!/usr/bin/env bash
# The clean-clone cost of `cargo test --workspace` (BENCHMARKS.md, section 15).
#
#   benches/suite/measure.sh REPO CLONE_DIR OUT_DIR [COMMIT]
#
# Clones REPO at COMMIT into CLONE_DIR (outside any directory whose
# .cargo/config.toml would change the profiles), then times the build
# (`cargo test --workspace --no-run --timings`) and the run
# (`cargo test --workspace`) with /usr/bin/time -v: wall clock, and the CPU
# time (user + sys) that the load of other processes does not inflate much.
# Every test binary runs under /usr/bin/time too (a cargo runner), so
# OUT_DIR/bins.time has each binary's wall, user and sys seconds, its
# children (the processes it starts) included. OUT_DIR/list.txt is
# `cargo test --workspace -- --list`; benches/suite/names.py reads it.
# The load average is in OUT_DIR/uptime.*.
set -uo pipefail
src=$1 dir=$2 out=$3 ref=${4:-HEAD}
rm -rf "$dir" "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
git clone -q "$src" "$dir" && cd "$dir" && git checkout -q "$ref" || exit 2
git log --oneline -1 >"$out/commit"
uptime >"$out/uptime.before"
/usr/bin/time -v -o "$out/build.time" \
  cargo test --workspace --no-run --timings >"$out/build.log" 2>&1
cp target/cargo-timings/cargo-timing.html "$out/" 2>/dev/null
uptime >"$out/uptime.mid"
cat >"$out/runner.sh" <<EOR
#!/usr/bin/env bash
exec /usr/bin/time -a -o "$out/bins.time" -f "%e %U %S \$(basename "\$1")" "\$@"
EOR
chmod +x "$out/runner.sh"
CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="$out/runner.sh" \
  /usr/bin/time -v -o "$out/run.time" cargo test --workspace >"$out/run.log" 2>&1
echo "rc=$?" >>"$out/run.time"
uptime >"$out/uptime.after"
cargo test --workspace -- --list >"$out/list.txt" 2>&1
