{#-
  `{% call classify_by_key(keys, values) %} <checked> {% endcall %}`: the rows of `<checked>` (one per source
  row, with `invalid_reason` NULL when the row is valid), each with its `outcome`:
    rejected  invalid (with its reason), or a key shared with a valid row whose values differ
              (`key_conflict`: all rows of that key, so a person decides);
    merged    a later copy (by rowid) of a key whose every copy carries the same source values;
    loaded    everything else.
  Values are compared as the source holds them, before rounding.
  When the materialization renders the model with `alpha_keys_assumed_unique` (a first classification, whose
  unique index on the loaded keys then proves the assumption, or fails and sends it back to this window),
  no valid key has a second row: valid rows are loaded and the window, a sort and a partition per key, is
  left out.
-#}
{% macro classify_by_key(key_columns, value_columns) -%}
    select
        *,
        {{ alpha_fence('classified') }},
        {%- if model.get('alpha_keys_assumed_unique') %}
        case when invalid_reason is null then 'loaded' else 'rejected' end as outcome,
        invalid_reason as reject_reason
    from ({{ caller() }}) as checked
        {%- else %}
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
        from ({{ caller() }}) as checked
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
        {%- endif %}
{%- endmacro %}


{#-
  A column that keeps PostgreSQL from merging its subquery into the one above, so the subquery's columns
  are computed once per row rather than again at each use. `clock_timestamp()` does it because it is
  volatile; being parallel safe, it still lets the scan run in parallel workers, which `offset 0` does not.
-#}
{% macro alpha_fence(name) -%}
    clock_timestamp() as {{ name }}_fence
{%- endmacro %}
