#!/usr/bin/env python3
"""Writes N distinct generated transactions as JSON Lines (or, with
`--csv`, the same records as CSV under a header) for the batch benchmark of
`tollgate eval` against `policies/fees/acquirer_2026.toll`.

Usage: python3 benches/batch/generate.py N [--csv] > records.jsonl

The seed is fixed, so every run writes the same file. Every record is
drawn afresh (amounts in fen up to 50,000 yuan, every channel, class and
settlement), so that nothing can be cached across records.
"""

import csv
import json
import random
import sys

CLASSES = ["standard"] * 8 + ["discount"] + ["waived"]
CHANNELS = ["credit_card", "debit_card", "wechat", "alipay", "unionpay_qr", "cloud_quickpass"]


FIELDS = ["merchant_class", "channel", "amount", "settlement", "onboarded_days", "suspected_cashout"]


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--csv"]
    as_csv = "--csv" in sys.argv[1:]
    n = int(args[0]) if args else 1_000_000
    rng = random.Random(20261130)
    out = sys.stdout
    rows = csv.writer(out, lineterminator="\n")
    if as_csv:
        rows.writerow(FIELDS)
    for _ in range(n):
        fen = rng.randint(1, 5_000_000)
        record = {
            "merchant_class": rng.choice(CLASSES),
            "channel": rng.choice(CHANNELS),
            "amount": f"{fen // 100}.{fen % 100:02d}",
            "settlement": "d0" if rng.random() < 0.2 else "t1",
            "onboarded_days": rng.randint(0, 1500),
            "suspected_cashout": rng.random() < 0.05,
        }
        if as_csv:
            rows.writerow(
                [json.dumps(v) if isinstance(v, bool) else v for v in record.values()]
            )
        else:
            out.write(json.dumps(record, separators=(", ", ": ")) + "\n")


if __name__ == "__main__":
    main()
