{#- A model's +schema is the schema's real name (staging, reference): the plan's tables stay in the
    target schema (public) and no target-prefixed schemas appear. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
