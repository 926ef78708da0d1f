{#-
  Gaps: a trading day is a date on which any ticker in the table has a price (exchange holidays are thus
  not gaps). Reports each ticker's trading days missing between its own first and last date.
  Counted first: a ticker whose rows number the trading days of its span has no gap (its key is unique,
  which unique_combination tests), so only the others are searched day by day: the search of every
  ticker's every day took 10 s at 5 million rows.
-#}
{% test no_missing_trading_days(model, ticker_column) %}
with trading_days as (
    select
        date,
        row_number() over (order by date) as day_number
    from (select distinct date from {{ model }}) as days
),

spans as (
    select
        {{ ticker_column }} as ticker,
        min(date) as first_date,
        max(date) as last_date,
        count(*) as days_held
    from {{ model }}
    group by {{ ticker_column }}
),

-- Materialized, so that only the short spans reach the day-by-day search: given the table's statistics,
-- the planner otherwise searched every ticker's every day first and filtered after (5 million rows: 16 s
-- against 1.9).
short_spans as materialized (
    select spans.*
    from spans
    inner join trading_days as first_day on spans.first_date = first_day.date
    inner join trading_days as last_day on spans.last_date = last_day.date
    where spans.days_held < last_day.day_number - first_day.day_number + 1
)

select
    short_spans.ticker,
    trading_days.date as missing_date
from short_spans
inner join trading_days on trading_days.date between short_spans.first_date and short_spans.last_date
where not exists (
    select 1 from {{ model }} as prices
    where prices.{{ ticker_column }} = short_spans.ticker and prices.date = trading_days.date
)
{% endtest %}
