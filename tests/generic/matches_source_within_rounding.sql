{#-
  Each loaded value equals its SQLite source: NULL exactly where the source is NULL (the null policy of
  the nullable columns), numbers within the documented rounding bound, half a unit of `scale` plus half a
  unit in the 15th significant digit (alpha_migrate/rounding.py), integers exactly (scale 0).
  `columns` maps each model column to its source column in `staging_model`.
-#}
{% test matches_source_within_rounding(model, staging_model, key_columns, columns, scale) %}
select
    {% for key in key_columns %}target.{{ key }}, {% endfor %}
    '{{ columns | join(",") }}' as checked_columns
from {{ model }} as target
inner join {{ alpha_in_scope_of(model, staging_model, key_columns) }} as staged
    on {% for key in key_columns %}staged.{{ key }} = target.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
where
    staged.outcome = 'loaded'
    and (
        {%- for column, source_column in columns.items() %}
            (target.{{ column }} is null) != (staged.{{ source_column }} is null)
            or abs(target.{{ column }} - staged.{{ source_column }}::numeric)
            > {{ 0.5 * 10 ** (-scale) if scale else 0 }} + abs(staged.{{ source_column }}::numeric) * 5e-15
            {{- ' or' if not loop.last }}
        {%- endfor %}
    )
{% endtest %}
