{#-
  Gaps: a trading day is a date on which any ticker in the table has a price (exchange holidays are thus
  not gaps). Reports each ticker's trading days missing between its own first and last date.
-#}
{% test no_missing_trading_days(model, ticker_column) %}
with trading_days as (
    select distinct date from {{ model }}
),

spans as (
    select
        {{ ticker_column }} as ticker,
        min(date) as first_date,
        max(date) as last_date
    from {{ model }}
    group by {{ ticker_column }}
)

select
    spans.ticker,
    trading_days.date as missing_date
from spans
inner join trading_days on trading_days.date between spans.first_date and spans.last_date
where not exists (
    select 1 from {{ model }} as prices
    where prices.{{ ticker_column }} = spans.ticker and prices.date = trading_days.date
)
{% endtest %}
