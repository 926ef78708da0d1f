{#-
  An order-free digest of `columns` over a relation's rows: their count and the sum of a 64-bit hash of
  each row. Two relations with equal digests hold the same rows (the same multiset) but for a hash
  collision, at a cost of one scan each: what the checks compare before they join row by row
  (docs/design.md, "Checks as digests"). Each row is hashed by `alpha_row_hash`, by the types of the
  columns in `types_from`, so both sides must have those column types; equal NUMERICs hash alike
  whatever their trailing zeros.
-#}
{% macro alpha_rows_digest(columns, types_from) -%}
    count(*)::text || ':' || coalesce(sum({{ alpha_row_hash(columns, types_from) }}), 0)::text
{%- endmacro %}


{#-
  A 64-bit hash of a row's `columns`, the same as the report's checksums (alpha_migrate/target_db.py,
  row_hash_sql): each column by its type's hash in the var `alpha_row_hashes` (dbt_project.yml, which
  says why each type is hashed as it is), with seeds and a NULL value of its own (hashes of its position),
  XORed.
-#}
{% macro alpha_row_hash(columns, types_from) -%}
    {%- set hashes = var('alpha_row_hashes') -%}
    {%- set types = {} -%}
    {#- A sync-scoped test's model is a subquery, not a relation: its columns hash as records then. -#}
    {%- if execute and types_from is not string -%}
        {%- for column in adapter.get_columns_in_relation(types_from) -%}
            {%- do types.update({column.name: column.dtype}) -%}
        {%- endfor -%}
    {%- endif -%}
    (
    {%- for name in columns -%}
        {%- set seed = 'hashint4extended(' ~ loop.index ~ ', ' -%}
        {%- set template = hashes.get(types.get(name), hashes['any other type']) -%}
        coalesce({{ template.replace('#1', seed ~ '1)').replace('#2', seed ~ '2)').replace('@', name) }}, {{ seed }}3))
        {{- ' # ' if not loop.last }}
    {%- endfor -%}
    )
{%- endmacro %}


{#- A query of one row: whether `model` and `staged` differ in the digest of `columns`, typed as in `types_from`. -#}
{% macro alpha_digests_differ(model, staged, columns, types_from) -%}
    select
        (select {{ alpha_rows_digest(columns, types_from) }} from {{ model }} as target)
        is distinct from (select {{ alpha_rows_digest(columns, types_from) }} from {{ staged }} as staged) as differ
{%- endmacro %}


{#-
  True when `value` (the loaded number) is further from `source_value` (the SQLite double) than the
  documented rounding bound at `scale` decimals allows (alpha_migrate/rounding.py); NULL when either is.
  Decided exactly in NUMERIC, as before, but only for values whose float difference comes near the
  bound: the conversion of every double to NUMERIC was most of a check's time. The float difference errs
  by a few units in the 16th digit, far inside the margin of 1e-12 of the value taken off the bound.
-#}
{% macro alpha_beyond_rounding(value, source_value, scale) -%}
    {%- set half_unit = 0.5 * 10 ** (-scale) if scale else 0 -%}
    (
        {%- if scale %}
        abs({{ value }}::float8 - {{ source_value }}::float8)
        > {{ half_unit }} - abs({{ source_value }}::float8) * 1e-12
        {%- else %}
        {#- Equal as doubles, two integers differ by at most a unit in the 16th digit: within the bound. #}
        {{ value }}::float8 != {{ source_value }}::float8
        {%- endif %}
        and
        abs({{ value }} - {{ source_value }}::numeric) > {{ half_unit }} + abs({{ source_value }}::numeric) * 5e-15
    )
{%- endmacro %}


{#-
  True when any of `checks`, (column, source column, scale) triples, is NULL on one side only or beyond
  the rounding bound: the columns prefixed by `value_prefix`, their source columns by `source_prefix`.
-#}
{% macro alpha_off_source(checks, value_prefix='', source_prefix='') -%}
    (
        {%- for column, source_column, scale in checks %}
        ({{ value_prefix ~ column }} is null) != ({{ source_prefix ~ source_column }} is null)
        or {{ alpha_beyond_rounding(value_prefix ~ column, source_prefix ~ source_column, scale) }}
        {{- ' or' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#-
  Whether any row of `relation` meets `condition`, as a count: PostgreSQL runs it once, as an aggregate in
  parallel workers, where a plain filtered scan feeding the test's result ran on one core. A test that
  lists its failing rows puts it before the same condition, which then scans again only when some fail.
-#}
{% macro alpha_rows_exist(relation, condition) -%}
    (select count(*) > 0 from {{ relation }} where {{ condition }})
{%- endmacro %}
