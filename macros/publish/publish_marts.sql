{#-
  `dbt run-operation publish_marts` (step "publish" of `invoke migrate`): every `upserted_table` model
  built with `--vars '{publish: deferred}'` goes from its pending view into its table, all in ONE
  transaction. Readers see the whole sync or none of it; a crash leaves the tables as they were.
-#}
{% macro publish_marts() %}
    {%- set marts = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('config.materialized', 'equalto', 'upserted_table')
        | sort(attribute='name') -%}
    {#- Explicit: dbt's operation connection commits each statement on its own (checked with now()). -#}
    {%- do run_query('begin') -%}
    {%- do run_write_lock() -%}
    {%- for node in marts -%}
        {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
        {%- set pending = relation and load_cached_relation(pending_relation(relation)) -%}
        {%- if relation is none or pending is none -%}
            {{ exceptions.raise_compiler_error(node.name ~ ": nothing to publish; run dbt build --vars '{publish: deferred}' first") }}
        {%- endif -%}
        {%- do publish_table(node, relation, 'select * from ' ~ pending) -%}
    {%- endfor -%}
    {%- do run_query('commit') -%}
{% endmacro %}
