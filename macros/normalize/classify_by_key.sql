{#-
  The CTE `classified` that both staging models end with. From `checked` (one row per source
  row, with `invalid_reason` NULL when the row is valid) they decide each row's `outcome`:
    rejected  invalid (with its reason), or a key shared with a valid row whose values differ
              (`key_conflict`: all rows of that key, so a person decides);
    merged    a later copy (by rowid) of a key whose every copy carries the same source values;
    loaded    everything else.
  Values are compared as the source holds them, before rounding.
-#}
{% macro classify_by_key(key_columns, value_columns) -%}
classified as (
    select
        *,
        case
            when invalid_reason is not null or key_conflict then 'rejected'
            when key_rank > 1 then 'merged'
            else 'loaded'
        end as outcome,
        coalesce(invalid_reason, case when key_conflict then 'key_conflict' end) as reject_reason
    from (
        select
            *,
            (
                {%- for column in value_columns %}
                {{ 'or ' if not loop.first }}{{ differs_within_window(column, 'key_rows') }}
                {%- endfor %}
            ) as key_conflict,
            row_number() over key_rows as key_rank
        from checked
        {#- One window, one sort: invalid rows have partitions of their own, so they neither conflict with
            nor merge into a valid row, and their window values are never read. The frame is the whole
            partition, so the aggregates and the rank share one pass. (Valid and invalid rows apart, as a
            CTE read twice, stored every row once more: 1.5 GB at 5 million rows.) #}
        window key_rows as (
            partition by invalid_reason is null, {{ key_columns | join(', ') }}
            order by sqlite_rowid
            rows between unbounded preceding and unbounded following
        )
    ) as keyed
)
{%- endmacro %}
