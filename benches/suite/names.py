#!/usr/bin/env python3
"""Test names from `cargo test --workspace -- --list 2>&1`, one per line,
named for the file that holds them whichever binary runs it: `oracle::NAME`
for tests/oracle.rs run alone or as a module of a suite root, `src::PATH`
for the unit tests of src/, `runtime::PATH` for crates/runtime's, `doc:...`
for doctests. Usage: cargo test --workspace -- --list 2>&1 | names.py
"""
import re
import sys

binary = None
for line in sys.stdin:
    line = line.rstrip("\n")
    run = re.match(r"\s*Running (?:unittests )?(\S+) \(target/\w+/deps/(\w+?)-", line)
    if run:
        source, crate = run.groups()
        if source == "src/lib.rs":
            binary = ("runtime::" if crate == "tollgate_runtime" else "src::", False)
        elif source == "src/main.rs":
            binary = ("main::", False)
        else:
            stem = source.rsplit("/", 1)[-1].removesuffix(".rs")
            # A suite root's tests are already named FILE::NAME.
            binary = ("", True) if stem.startswith("suite_") else (stem + "::", False)
        continue
    doc = re.match(r"\s*Doc-tests (\S+)", line)
    if doc:
        binary = ("doc:" + doc.group(1) + ":", False)
        continue
    test = re.match(r"(.*): (test|bench)$", line)
    if test and binary:
        print(binary[0] + test.group(1))
