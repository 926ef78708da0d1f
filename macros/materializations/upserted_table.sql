{#-
  A table that is created once and then kept. dbt's `table` materialization builds `<name>__dbt_tmp` and
  renames it over the old table: that would rename the partitions' parent, drop what readers hold open,
  and lose rows a Bot wrote. Here instead:
    1. the first run creates the table from the model's contract (columns, types, NOT NULL, primary
       key), range-partitioned when `partition_by` is configured: a client writing before the first
       publish meets the key (the publish drops and rebuilds it around its bulk load, under a lock);
    2. pre-hooks run (they create the partitions the rows need, before any row arrives);
    3. the rows are published by `publish_table` (macros/publish): in this model's transaction under a
       plain `dbt build`; or, with `--vars '{publish: deferred}'` (what `invoke migrate` passes), the
       model only becomes the view `staging.pending_<name>`, and `dbt run-operation publish_marts`
       then publishes every mart in one transaction, so no reader ever sees one table synced without
       the other.
  Readers keep reading throughout: a re-run takes only row locks.
-#}
{% materialization upserted_table, adapter='postgres' %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
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
            create table {{ target_relation }} (
                {{ adapter.render_raw_columns_constraints(raw_columns=model['columns']) | join(',\n') }}
            )
            {%- if config.get('partition_by') %}
                partition by range ({{ adapter.quote(config.get('partition_by').field) }})
            {%- endif %}
        {%- endcall %}
        {% do ensure_primary_key(target_relation, model.constraints) %}
    {%- endif -%}

    {#- Explicit: dbt's connection may commit each statement on its own (checked with now()). -#}
    {% do run_query('begin') %}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if var('publish', 'now') == 'deferred' -%}
        {% call statement('main') -%}
            create or replace view {{ pending_relation(target_relation) }} as {{ sql }}
        {%- endcall %}
    {%- else -%}
        {% set response = publish_table(model, target_relation, sql) %}
        {#- dbt reports the statement named `main`: here, the load. -#}
        {% do store_result('main', response=response) %}
    {%- endif -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do run_query('commit') %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{% macro pending_relation(relation) -%}
    {{ return(api.Relation.create(database=relation.database, schema=alpha_staging_schema(), identifier='pending_' ~ relation.identifier, type='view')) }}
{%- endmacro %}
