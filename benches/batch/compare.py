#!/usr/bin/env python3
"""The batch benchmark of BENCHMARKS.md (section 5), side by side in one run:
`tollgate eval --output fee` on one thread and on two, and DuckDB on one
thread (duckdb_fees.sql), on the same generated file, the runs interleaved.

Usage, from the repository root, after `cargo build --release`:

    python3 benches/batch/generate.py 1000000 > million.jsonl
    python3 benches/batch/compare.py million.jsonl [ROUNDS]

and for CSV, the same records under a header (both sides read CSV: `tollgate
eval` by the file's `.csv` name, DuckDB with `read_csv`):

    python3 benches/batch/generate.py 1000000 --csv > million.csv
    python3 benches/batch/compare.py million.csv [ROUNDS]

Every side writes one fee per line to a file; the files must be identical
(checked after each round). Times are wall-clock seconds of the whole
`tollgate` process, and of DuckDB's query alone (its connection and the
package import are not counted), each with the CPU time (user + system)
it used, which a loaded machine disturbs less. Prints each round with the one-minute load
average before it, then the medians and ratios.
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import duckdb_fees  # noqa: E402  (beside this file)

POLICY = "policies/fees/acquirer_2026.toll"
TOLLGATE = "target/release/tollgate"


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def tollgate(source: str, target: str, jobs: int) -> tuple[float, float]:
    with open(target, "wb") as out:
        before = cpu(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [TOLLGATE, "eval", POLICY, "--input", source, "--output", "fee", "--jobs", str(jobs)],
            stdout=out,
            check=True,
        )
        return time.perf_counter() - started, cpu(resource.RUSAGE_CHILDREN) - before


def duck(source: str, target: str) -> tuple[float, float]:
    sql = duckdb_fees.query(source, target)
    con = duckdb.connect()
    con.execute("SET threads = 1")
    before = cpu(resource.RUSAGE_SELF)
    started = time.perf_counter()
    con.execute(sql)
    elapsed = time.perf_counter() - started
    used = cpu(resource.RUSAGE_SELF) - before
    con.close()
    return elapsed, used


def same(a: str, b: str) -> bool:
    with open(a, "rb") as x, open(b, "rb") as y:
        return x.read() == y.read()


def main() -> None:
    source = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    times = {"tollgate --jobs 1": [], "tollgate --jobs 2": [], "duckdb, 1 thread": []}
    cpus = {k: [] for k in times}
    with tempfile.TemporaryDirectory() as tmp:
        outs = [os.path.join(tmp, f"{i}.txt") for i in range(3)]
        for r in range(rounds):
            load = os.getloadavg()[0]
            t1 = tollgate(source, outs[0], 1)
            t2 = tollgate(source, outs[1], 2)
            td = duck(source, outs[2])
            if not (same(outs[0], outs[1]) and same(outs[0], outs[2])):
                sys.exit("the outputs differ")
            for k, (t, c) in zip(times, (t1, t2, td)):
                times[k].append(t)
                cpus[k].append(c)
            print(
                f"round {r + 1}: load {load:.2f}: wall (cpu) jobs 1 {t1[0]:.3f} ({t1[1]:.3f}) s, "
                f"jobs 2 {t2[0]:.3f} ({t2[1]:.3f}) s, duckdb {td[0]:.3f} ({td[1]:.3f}) s"
            )
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"median {k}: {v:.3f} s wall, {statistics.median(cpus[k]):.3f} s cpu")
    one, two, db = med["tollgate --jobs 1"], med["tollgate --jobs 2"], med["duckdb, 1 thread"]
    print(f"duckdb / tollgate --jobs 1: {db / one:.2f}x")
    print(f"tollgate --jobs 1 / --jobs 2: {one / two:.2f}x")


if __name__ == "__main__":
    main()
