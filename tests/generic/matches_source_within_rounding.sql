{#-
  Each loaded value equals its SQLite source: NULL exactly where the source is NULL (the null policy of
  the nullable columns), numbers within the documented rounding bound, half a unit of `scale` plus half a
  unit in the 15th significant digit (alpha_migrate/rounding.py), integers exactly (scale 0).
  `columns` maps each model column to its source column in `staging_model`, compared at `scale`;
  `integer_columns` likewise, compared exactly: one test, so one scan of each side, for both kinds.
  Two scans instead of a join of every row: the staging model holds each loaded row's value as cast for
  the mart beside its source value, so the bound is checked there, row by row; and the mart holds exactly
  those values when the digests of both sides agree. Only when they do not does the join run, to name
  the rows that differ from their source.
-#}
{% test matches_source_within_rounding(model, staging_model, key_columns, columns, scale, integer_columns={}) %}
{%- set checks = [] -%}
{%- for column, source_column in columns.items() %}{% do checks.append((column, source_column, scale)) %}{% endfor -%}
{%- for column, source_column in integer_columns.items() %}{% do checks.append((column, source_column, 0)) %}{% endfor -%}
{%- set compared = key_columns + checks | map(attribute=0) | list -%}
with staged as not materialized (
    select *
    from {{ alpha_in_scope_of(model, staging_model, key_columns) }} as staged
    where outcome = 'loaded'
),

beyond as (
    select
        {% for key in key_columns %}{{ key }}, {% endfor %}
        '{{ checks | map(attribute=0) | join(",") }}' as checked_columns
    from staged
    where {{ alpha_rows_exist('staged', alpha_off_source(checks)) }} and {{ alpha_off_source(checks) }}
),

digests_differ as (
    {{ alpha_digests_differ(model, 'staged', compared, staging_model) }}
),

differing as (
    select
        {% for key in key_columns %}target.{{ key }}, {% endfor %}
        '{{ checks | map(attribute=0) | join(",") }}' as checked_columns
    from {{ model }} as target
    inner join staged
        on {% for key in key_columns %}staged.{{ key }} = target.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
    where
        (select digests_differ.differ from digests_differ)
        and {{ alpha_off_source(checks, 'target.', 'staged.') }}
)

select * from beyond
union
select * from differing
{% endtest %}
