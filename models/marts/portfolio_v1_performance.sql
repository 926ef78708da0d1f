{{ config(
    unique_key=['date'],
    pre_hook="{{ quarantine_rejects(ref('stg_portfolio_v1_performance'), 'portfolio_v1_performance') }}",
    meta={
        'indexes': [{'name': 'idx_portfolio_date', 'columns': 'date desc'}],
        'staging_model': 'stg_portfolio_v1_performance',
    },
) }}

-- Both marts wait for the reject gate, which reads both staging models (dbt build only blocks a model
-- on a test whose every parent is upstream of it).
-- depends_on: {{ ref('stg_daily_prices') }}, {{ ref('stg_portfolio_v1_performance') }}

select
    date,
    total_portfolio_value,
    daily_return_vs_spy,
    cumulative_alpha
-- On a sync, only the rows this run reclassified: the rest are in the table already.
from {{ alpha_changed_rows(ref('stg_portfolio_v1_performance')) }}
where outcome = 'loaded'
