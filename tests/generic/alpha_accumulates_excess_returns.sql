{#-
  The demo's formula (scripts/portfolio.py): cumulative_alpha[t] = cumulative_alpha[t-1] + daily_return_vs_spy[t].
  Each of the three values is rounded to six decimals, so a step may be off by 3 x 0.0000005 at most.
  Configured as a warning: a real file may accumulate alpha another way.
-#}
{% test alpha_accumulates_excess_returns(model) %}
with steps as (
    select
        date,
        daily_return_vs_spy,
        cumulative_alpha - coalesce(lag(cumulative_alpha) over (order by date), 0) as alpha_step
    from {{ model }}
)

select *
from steps
where abs(alpha_step - daily_return_vs_spy) > 0.0000015
{% endtest %}
