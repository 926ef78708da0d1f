{#-
  Add the contract's primary key (name and columns from the model's `constraints:` in its .yml) when the
  table has none. After a first bulk load this builds the key once, in a single sort; on later runs it
  only reads the catalog, so it takes no lock.
-#}
{% macro ensure_primary_key(relation, constraints) %}
    {%- if not alpha_has_primary_key(relation) -%}
        {%- set key = primary_key_constraint(relation, constraints) -%}
        {%- call statement('add_primary_key') -%}
            set local maintenance_work_mem = '512MB';
            alter table {{ relation }}
                add constraint {{ adapter.quote(key.name) }} primary key ({{ key.columns | join(', ') }})
        {%- endcall -%}
    {%- endif -%}
{% endmacro %}


{#- Before a first bulk load into an empty table, under the load's exclusive lock. -#}
{% macro drop_primary_key(relation, constraints) %}
    {%- call statement('drop_primary_key') -%}
        alter table {{ relation }} drop constraint if exists {{ adapter.quote(primary_key_constraint(relation, constraints).name) }}
    {%- endcall -%}
{% endmacro %}


{% macro primary_key_constraint(relation, constraints) %}
    {%- set primary_keys = constraints | selectattr('type', 'equalto', 'primary_key') | list -%}
    {%- if primary_keys | length != 1 -%}
        {{ exceptions.raise_compiler_error(relation ~ ": the contract needs one primary_key constraint") }}
    {%- endif -%}
    {{ return(primary_keys[0]) }}
{% endmacro %}
