#!/usr/bin/env python3
"""Runs duckdb_fees.sql on one thread: the DuckDB side of the batch
benchmark (BENCHMARKS.md).

Usage: python3 benches/batch/duckdb_fees.py records.jsonl fees.txt

Prints the wall time of the query alone (connecting and importing the
package are not counted) on stderr.
"""

import pathlib
import sys
import time

import duckdb


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    sql = (pathlib.Path(__file__).parent / "duckdb_fees.sql").read_text()
    sql = sql.replace("$input", source).replace("$output", target)
    con = duckdb.connect()
    con.execute("SET threads = 1")
    started = time.perf_counter()
    con.execute(sql)
    print(f"duckdb: {time.perf_counter() - started:.3f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
