{#-
  idx_daily_prices_date is an extension to the plan (docs/performance.md, "Indexes"): max(date), and so the
  Dashboard's "last 30 days", read it instead of scanning every partition.
-#}
{{ config(
    unique_key=['ticker', 'date'],
    partition_by={'field': 'date', 'granularity': 'year'},
    pre_hook=[
        "{{ ensure_yearly_partitions(this, alpha_changed_rows(ref('stg_daily_prices'))) }}",
        "{{ quarantine_rejects(ref('stg_daily_prices'), 'daily_prices') }}",
    ],
    meta={
        'indexes': [
            {'name': 'idx_daily_prices_ticker_date', 'columns': 'ticker, date desc'},
            {'name': 'idx_daily_prices_date', 'columns': 'date'},
        ],
        'staging_model': 'stg_daily_prices',
        'sync_test_lookback_days': 10,
    },
) }}

-- Both marts wait for the reject gate, which reads both staging models (dbt build only blocks a model
-- on a test whose every parent is upstream of it).
-- depends_on: {{ ref('stg_daily_prices') }}, {{ ref('stg_portfolio_v1_performance') }}

select
    ticker,
    date,
    raw_close,
    adj_close,
    volume
-- On a sync, only the rows this run reclassified: the rest are in the table already.
from {{ alpha_changed_rows(ref('stg_daily_prices')) }}
where outcome = 'loaded'
