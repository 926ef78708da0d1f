{{ config(
    unique_key=['ticker', 'date'],
    partition_by={'field': 'date', 'granularity': 'year'},
    pre_hook="{{ ensure_yearly_partitions(this, ref('stg_daily_prices')) }}",
    post_hook=[
        "{{ ensure_primary_key(this) }}",
        "{{ ensure_index(this, 'idx_daily_prices_ticker_date', 'ticker, date desc') }}",
    ],
) }}

select
    ticker,
    date,
    raw_close,
    adj_close,
    volume
from {{ ref('stg_daily_prices') }}
