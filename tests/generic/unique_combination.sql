{#-
  Fails with one row per key value that occurs more than once. A table whose primary key or unique
  constraint is exactly these columns cannot hold such a value while the constraint stands: PostgreSQL
  enforces it on every write, so the test reads the catalog instead of grouping every row (10 s at
  5 million rows). Dropped, or on other columns, or on a subquery, the rows are grouped as ever.
-#}
{% test unique_combination(model, columns) %}
{%- set constrained = execute and model is not string and alpha_has_unique_constraint(model, columns) -%}
select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
{%- if constrained %}
-- {{ model }} has a primary key or unique constraint on exactly ({{ columns | join(', ') }})
where false
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

