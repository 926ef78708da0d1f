{#-
  The CTEs `keyed` and `classified` that both staging models end with. From `checked` (one row per source
  row, with `invalid_reason` NULL when the row is valid) they decide each row's `outcome`:
    rejected  invalid (with its reason), or a key shared with a valid row whose values differ
              (`key_conflict`: all rows of that key, so a person decides);
    merged    a later copy (by rowid) of a key whose every copy carries the same source values;
    loaded    everything else.
  Values are compared as the source holds them, before rounding.
-#}
{% macro classify_by_key(key_columns, value_columns) -%}
keyed as (
    select
        *,
        (
            {%- for column in value_columns %}
            {{ 'or ' if not loop.first }}{{ differs_within_window(column, 'key_rows') }}
            {%- endfor %}
        ) as key_conflict,
        row_number() over (key_rows order by sqlite_rowid) as key_rank
    from checked
    where invalid_reason is null
    window key_rows as (partition by {{ key_columns | join(', ') }})
),

classified as (
    select
        *,
        case
            when key_conflict then 'rejected'
            when key_rank > 1 then 'merged'
            else 'loaded'
        end as outcome,
        case when key_conflict then 'key_conflict' end as reject_reason
    from keyed
    union all
    select
        *,
        null as key_conflict,
        null as key_rank,
        'rejected' as outcome,
        invalid_reason as reject_reason
    from checked
    where invalid_reason is not null
)
{%- endmacro %}
