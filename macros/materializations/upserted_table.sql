{#-
  A table that is created once and then kept. dbt's `table` materialization builds `<name>__dbt_tmp` and
  renames it over the old table: that would rename the partitions' parent, drop what readers hold open,
  and lose rows a Bot wrote. Here instead, in one transaction:
    1. the first run creates the table from the model's contract (columns, types, NOT NULL), range-
       partitioned when `partition_by` is configured, with no key yet;
    2. pre-hooks run (they create the partitions the rows need);
    3. the rows go in: a plain INSERT into the bare table on the first run (the key is built once, after
       the load, which is faster than maintaining it row by row), an upsert on `unique_key` afterwards
       that rewrites only rows whose values changed;
    4. post-hooks run (primary key and indexes, each created only when missing).
  Readers keep reading throughout: a re-run takes only row locks.
-#}
{% materialization upserted_table, adapter='postgres' %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set unique_key = config.require('unique_key') -%}
    {%- set partition_by = config.get('partition_by') -%}
    {%- set contract = config.get('contract') -%}
    {%- if not (contract and contract.enforced) -%}
        {{ exceptions.raise_compiler_error(this ~ ": upserted_table takes its DDL from an enforced contract") }}
    {%- endif -%}
    {%- if existing_relation is not none and existing_relation.type != 'table' -%}
        {{ exceptions.raise_compiler_error(this ~ " exists as a " ~ existing_relation.type ~ ", not a table") }}
    {%- endif -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ get_assert_columns_equivalent(sql) }}

    {%- if existing_relation is none -%}
        {% call statement('create_table') -%}
            {{ upserted_table_create_sql(target_relation, partition_by) }}
        {%- endcall %}
    {%- endif -%}

    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('main') -%}
        {{ upserted_table_load_sql(target_relation, sql, unique_key, first_load=existing_relation is none) }}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{% macro upserted_table_create_sql(relation, partition_by) -%}
    create table {{ relation }} (
        {{ adapter.render_raw_columns_constraints(raw_columns=model['columns']) | join(',\n        ') }}
    )
    {%- if partition_by %} partition by range ({{ adapter.quote(partition_by.field) }}){% endif %}
{%- endmacro %}


{% macro upserted_table_load_sql(relation, sql, unique_key, first_load) -%}
    {%- set columns, keys, values = [], [], [] -%}
    {%- for name in model['columns'] -%}
        {%- do columns.append(adapter.quote(name)) -%}
        {%- do (keys if name in unique_key else values).append(adapter.quote(name)) -%}
    {%- endfor -%}
    insert into {{ relation }} as existing ({{ columns | join(', ') }})
    select {{ columns | join(', ') }}
    from (
        {{ sql }}
    ) as model_rows
    {%- if not first_load %}
    on conflict ({{ keys | join(', ') }}) do update set
        {%- for column in values %}
        {{ column }} = excluded.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    where (existing.{{ values | join(', existing.') }})
        is distinct from (excluded.{{ values | join(', excluded.') }})
    {%- endif %}
{%- endmacro %}
