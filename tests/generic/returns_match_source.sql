{#-
  Daily returns computed in PostgreSQL from the loaded prices (LAG over each series' dates) equal the
  returns from the SQLite source's REAL values, row by row, within the bound that rounding both prices
  allows: |r' - r| <= (e1 * p0 + p1 * e0) / (p0 * (p0 - e0)), with e the documented rounding bound of a
  price at `scale` decimals. Compared only where both sides step from the same previous date.
-#}
{% test returns_match_source(model, staging_model, column_name, source_column, partition_by, scale) %}
{%- set over = '(' ~ ('partition by ' ~ partition_by | join(', ') if partition_by else '') ~ ' order by date)' -%}
{%- set half_unit = 0.5 * 10 ** (-scale) -%}
with target_returns as (
    select
        {% for key in partition_by %}{{ key }}, {% endfor %}
        date,
        lag(date) over {{ over }} as previous_date,
        {{ column_name }} / nullif(lag({{ column_name }}) over {{ over }}, 0) - 1 as target_return
    from {{ model }}
),

source_returns as (
    select
        {% for key in partition_by %}{{ key }}, {% endfor %}
        date,
        lag(date) over {{ over }} as previous_date,
        {{ source_column }}::numeric as p1,
        lag({{ source_column }}::numeric) over {{ over }} as p0
    from {{ alpha_in_scope_of(model, staging_model, partition_by + ['date']) }} as staged
    where outcome = 'loaded'
),

bounded as (
    select
        *,
        p1 / nullif(p0, 0) - 1 as source_return,
        {{ half_unit }} + abs(p1) * 5e-15 as e1,
        {{ half_unit }} + abs(p0) * 5e-15 as e0
    from source_returns
)

select
    bounded.*,
    target_returns.target_return
from bounded
inner join target_returns
    on
        {% for key in partition_by %}target_returns.{{ key }} = bounded.{{ key }} and {% endfor %}
        target_returns.date = bounded.date
        and target_returns.previous_date = bounded.previous_date
where
    bounded.p0 > bounded.e0
    and abs(target_returns.target_return - bounded.source_return)
    > (bounded.e1 * bounded.p0 + bounded.p1 * bounded.e0) / (bounded.p0 * (bounded.p0 - bounded.e0))
{% endtest %}
