{{ config(
    unique_key=['date'],
    pre_hook="{{ quarantine_rejects(ref('stg_portfolio_v1_performance'), 'portfolio_v1_performance') }}",
    post_hook=[
        "{{ ensure_primary_key(this) }}",
        "{{ ensure_index(this, 'idx_portfolio_date', 'date desc') }}",
    ],
) }}

-- Both marts wait for the reject gate, which reads both staging models (dbt build only blocks a model
-- on a test whose every parent is upstream of it).
-- depends_on: {{ ref('stg_daily_prices') }}, {{ ref('stg_portfolio_v1_performance') }}

select
    date,
    total_portfolio_value,
    daily_return_vs_spy,
    cumulative_alpha
from {{ ref('stg_portfolio_v1_performance') }}
where outcome = 'loaded'
