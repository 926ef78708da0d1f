select
    sqlite_rowid,
    cast(date as date) as date,
    cast(total_portfolio_value as numeric(12, 2)) as total_portfolio_value,
    cast(daily_return_vs_spy as numeric(8, 6)) as daily_return_vs_spy,
    cast(cumulative_alpha as numeric(8, 6)) as cumulative_alpha
from {{ source('sqlite', 'portfolio_v1_performance') }}
