-- acquirer_2026.toll in SQL, for the batch benchmark (BENCHMARKS.md): the
-- three components (mdr, cashout_surcharge, instant_settlement), each
-- rounded half-up to the fen on its own (DuckDB's ROUND on a DECIMAL rounds
-- half away from zero, the same for these non-negative amounts), summed,
-- one fee per line. The runner (duckdb_fees.py) replaces `$input` and
-- `$output`, and `$reader` and `$options` with DuckDB's reader of the
-- input's format: `read_json` with `format = 'newline_delimited',` for
-- JSON Lines, `read_csv` with `header = true,` for CSV.
COPY (
  SELECT CAST(mdr + cashout + instant AS DECIMAL(18, 2)) AS fee
  FROM (
    SELECT
      CASE
        WHEN merchant_class = 'waived' THEN 0
        WHEN merchant_class = 'discount' THEN ROUND(amount * 0.0038, 2)
        WHEN channel IN ('wechat', 'alipay') AND onboarded_days < 90 THEN ROUND(amount * 0.0020, 2)
        WHEN channel IN ('wechat', 'alipay') THEN ROUND(amount * 0.0038, 2)
        WHEN channel = 'credit_card' THEN ROUND(amount * 0.0060, 2)
        WHEN channel = 'debit_card' THEN LEAST(ROUND(amount * 0.0050, 2), 20.00)
        WHEN amount <= 1000.00 THEN ROUND(amount * 0.0038, 2)
        ELSE ROUND(amount * 0.0060, 2)
      END AS mdr,
      CASE
        WHEN channel IN ('credit_card', 'debit_card') AND suspected_cashout
          AND merchant_class <> 'waived' THEN ROUND(amount * 0.0010, 2)
        ELSE 0
      END AS cashout,
      CASE
        WHEN settlement = 'd0' AND merchant_class <> 'waived' THEN 3.00
        ELSE 0
      END AS instant
    FROM $reader('$input', $options columns = {
      merchant_class: 'VARCHAR', channel: 'VARCHAR', amount: 'DECIMAL(18, 2)',
      settlement: 'VARCHAR', onboarded_days: 'BIGINT', suspected_cashout: 'BOOLEAN'
    })
  )
) TO '$output' (FORMAT csv, HEADER false);
