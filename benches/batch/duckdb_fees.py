#!/usr/bin/env python3
"""Runs duckdb_fees.sql on one thread: the DuckDB side of the batch
benchmark (BENCHMARKS.md).

Usage: python3 benches/batch/duckdb_fees.py records.jsonl fees.txt
       python3 benches/batch/duckdb_fees.py records.csv fees.txt

Prints the wall time of the query alone (connecting and importing the
package are not counted) on stderr.
"""

import pathlib
import sys
import time

import duckdb


def query(source: str, target: str) -> str:
    """duckdb_fees.sql for `source` (CSV when its name ends in `.csv`, as
    `tollgate eval` decides, else JSON Lines), writing to `target`."""
    sql = (pathlib.Path(__file__).parent / "duckdb_fees.sql").read_text()
    if source.endswith(".csv"):
        reader, options = "read_csv", "header = true,"
    else:
        reader, options = "read_json", "format = 'newline_delimited',"
    return (
        sql.replace("$reader", reader)
        .replace("$options", options)
        .replace("$input", source)
        .replace("$output", target)
    )


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    sql = query(source, target)
    con = duckdb.connect()
    con.execute("SET threads = 1")
    started = time.perf_counter()
    con.execute(sql)
    print(f"duckdb: {time.perf_counter() - started:.3f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
