{#-
  Daily returns computed from the loaded prices (LAG over each series' dates) equal the returns from the
  SQLite source's REAL values, row by row, within the bound that rounding both prices allows:
  |r' - r| <= (e1 * p0 + p1 * e0) / (p0 * (p0 - e0)), with e the documented rounding bound of a price at
  `scale` decimals. Compared only where both sides step from the same previous date.
  That bound follows from the prices' own (docs/design.md), so it is proven once, not per row: when the
  digest of the mart's prices equals that of the staged ones, the mart holds exactly the staged prices,
  and each of those is checked against its source price here, in one scan. Only when the digests differ
  are both series' returns computed and joined, to name the returns that break the bound.
-#}
{% test returns_match_source(model, staging_model, column_name, source_column, partition_by, scale) %}
{%- set over = '(' ~ ('partition by ' ~ partition_by | join(', ') if partition_by else '') ~ ' order by date)' -%}
{%- set half_unit = 0.5 * 10 ** (-scale) -%}
{%- set compared = partition_by + ['date', column_name] -%}
with staged as not materialized (
    select *
    from {{ alpha_in_scope_of(model, staging_model, partition_by + ['date']) }} as staged
    where outcome = 'loaded'
),

digests_differ as (
    {{ alpha_digests_differ(model, 'staged', compared, staging_model) }}
),

prices_beyond as (
    select
        {% for key in partition_by %}{{ key }}, {% endfor %}
        date,
        null::date as previous_date,
        'price beyond its rounding bound' as failure
    from staged
    where
        {{ alpha_rows_exist('staged', alpha_beyond_rounding(column_name, source_column, scale)) }}
        and {{ alpha_beyond_rounding(column_name, source_column, scale) }}
),

target_returns as (
    select
        {% for key in partition_by %}{{ key }}, {% endfor %}
        date,
        lag(date) over {{ over }} as previous_date,
        {{ column_name }} / nullif(lag({{ column_name }}) over {{ over }}, 0) - 1 as target_return
    from {{ model }}
    where (select digests_differ.differ from digests_differ)
),

source_returns as (
    select
        {% for key in partition_by %}{{ key }}, {% endfor %}
        date,
        lag(date) over {{ over }} as previous_date,
        {{ source_column }}::numeric as p1,
        lag({{ source_column }}::numeric) over {{ over }} as p0
    from staged
    where (select digests_differ.differ from digests_differ)
),

bounded as (
    select
        *,
        p1 / nullif(p0, 0) - 1 as source_return,
        {{ half_unit }} + abs(p1) * 5e-15 as e1,
        {{ half_unit }} + abs(p0) * 5e-15 as e0
    from source_returns
),

returns_beyond as (
    select
        {% for key in partition_by %}bounded.{{ key }}, {% endfor %}
        bounded.date,
        bounded.previous_date,
        'return beyond its bound' as failure
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
)

select * from prices_beyond
union all
select * from returns_beyond
{% endtest %}
