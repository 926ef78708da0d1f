{#-
  Add the model's contract primary key (name and columns from its `constraints:` in the .yml) when the
  table has none. After a first bulk load this builds the key once, in a single sort; on later runs it
  only reads the catalog, so it takes no lock.
-#}
{% macro ensure_primary_key(relation) %}
    {#- Hooks are rendered at parse time too, when the catalog cannot be read. -#}
    {%- if not execute %}{{ return('') }}{% endif -%}
    {%- set primary_keys = model.constraints | selectattr('type', 'equalto', 'primary_key') | list -%}
    {%- if primary_keys | length != 1 -%}
        {{ exceptions.raise_compiler_error(relation ~ ": ensure_primary_key needs one primary_key constraint") }}
    {%- endif -%}
    {%- set key = primary_keys[0] -%}
    {%- set present_sql -%}
        select count(*) from pg_constraint
        where conrelid = '{{ relation }}'::regclass and contype = 'p'
    {%- endset -%}
    {%- if run_query(present_sql).rows[0][0] == 0 -%}
        {%- call statement('add_primary_key') -%}
            set local maintenance_work_mem = '256MB';
            alter table {{ relation }}
                add constraint {{ adapter.quote(key.name) }} primary key ({{ key.columns | join(', ') }})
        {%- endcall -%}
    {%- endif -%}
{% endmacro %}
