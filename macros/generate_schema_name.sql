{#- A model's +schema is the schema's real name (staging, reference): the plan's tables stay in the
    target schema (public) and no target-prefixed schemas appear. A sandbox (dev) target prefixes them
    with its own schema instead (dbt_<user>_staging), as dbt does by default. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if alpha_is_sandbox() and custom_schema_name -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- else -%}
        {{ (custom_schema_name or target.schema) | trim }}
    {%- endif -%}
{%- endmacro %}
