{#-
  Create index `name` on `relation` with `definition` (the column list, e.g. 'ticker, date desc') when no
  index of that name exists in the relation's schema. Checking the catalog first, rather than
  `create index if not exists`, avoids the SHARE lock that would block the Bot's writes on a re-run.
-#}
{% macro ensure_index(relation, name, definition) %}
    {#- Hooks are rendered at parse time too, when the catalog cannot be read. -#}
    {%- if not execute %}{{ return('') }}{% endif -%}
    {%- set present_sql -%}
        select count(*) from pg_indexes
        where schemaname = '{{ relation.schema }}' and indexname = '{{ name }}'
    {%- endset -%}
    {%- if run_query(present_sql).rows[0][0] == 0 -%}
        {%- call statement('create_index_' ~ name) -%}
            set local maintenance_work_mem = '512MB';
            create index {{ adapter.quote(name) }} on {{ relation }} ({{ definition }})
        {%- endcall -%}
    {%- endif -%}
{% endmacro %}
