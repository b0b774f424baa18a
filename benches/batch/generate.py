#!/usr/bin/env python3
"""Writes N distinct generated transactions as JSON Lines for the batch
benchmark of `tollgate eval` against `policies/fees/acquirer_2026.toll`.

Usage: python3 benches/batch/generate.py N > records.jsonl

The seed is fixed, so every run writes the same file. Every record is
drawn afresh (amounts in fen up to 50,000 yuan, every channel, class and
settlement), so that nothing can be cached across records.
"""

import json
import random
import sys

CLASSES = ["standard"] * 8 + ["discount"] + ["waived"]
CHANNELS = ["credit_card", "debit_card", "wechat", "alipay", "unionpay_qr", "cloud_quickpass"]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(20261130)
    out = sys.stdout
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
        out.write(json.dumps(record, separators=(", ", ": ")) + "\n")


if __name__ == "__main__":
    main()
