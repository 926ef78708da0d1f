{{ config(
    unique_key=['date'],
    post_hook=[
        "{{ ensure_primary_key(this) }}",
        "{{ ensure_index(this, 'idx_portfolio_date', 'date desc') }}",
    ],
) }}

select
    date,
    total_portfolio_value,
    daily_return_vs_spy,
    cumulative_alpha
from {{ ref('stg_portfolio_v1_performance') }}
