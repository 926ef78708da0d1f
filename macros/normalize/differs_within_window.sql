{#- True when `column` does not hold one and the same value (NULL included) on every row of the window. -#}
{% macro differs_within_window(column, window) -%}
    (
        min({{ column }}) over {{ window }} is distinct from max({{ column }}) over {{ window }}
        or count({{ column }}) over {{ window }} not in (0, count(*) over {{ window }})
    )
{%- endmacro %}
