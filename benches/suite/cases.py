#!/usr/bin/env python3
"""Case counts of the property and randomised tests in tests/*.rs.

Prints one line per test: FILE::TEST, its cases by default, and in the long
form (TOLLGATE_LONG=N, default 20). A count written `common::cases(D)` is D
times TOLLGATE_LONG; a literal count does not scale. Usage:
    python3 benches/suite/cases.py [LONG]
"""
import re
import sys
from pathlib import Path

LONG = int(sys.argv[1]) if len(sys.argv) > 1 else 20
COUNT = re.compile(r"(common::cases\(\s*([\d_]+)\s*\))|cases:\s*([\d_]+)|with_cases\(\s*([\d_]+)\s*\)")


def counts(text):
    """(default, long) for the first count in text, or None."""
    m = COUNT.search(text)
    if not m:
        return None
    if m.group(2):
        d = int(m.group(2).replace("_", ""))
        return d, d * LONG
    d = int((m.group(3) or m.group(4)).replace("_", ""))
    return d, d


def block(text, start):
    """The text from the `{` at or after start to its matching `}`."""
    i = text.index("{", start)
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i : j + 1]
    return text[i:]


root = Path(__file__).resolve().parents[2] / "tests"
for path in sorted(root.glob("*.rs")):
    text = path.read_text()
    # proptest! blocks: one count for every test inside.
    for m in re.finditer(r"proptest!\s*\{", text):
        body = block(text, m.start())
        c = counts(body)
        for f in re.finditer(r"fn\s+(\w+)\s*\(", body):
            print(f"{path.stem}::{f.group(1)} {c[0] if c else 'proptest-default'} {c[1] if c else ''}")
    # #[test] functions whose body scales a loop with common::cases.
    for m in re.finditer(r"#\[test\]\s*(?:#\[[^\]]*\]\s*)*fn\s+(\w+)", text):
        body = block(text, m.end())
        if "common::cases(" in body:
            c = counts(body)
            print(f"{path.stem}::{m.group(1)} {c[0]} {c[1]}")
