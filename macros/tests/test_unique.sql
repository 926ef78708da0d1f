{#-
  dbt's `unique` test, as dbt-core writes it, but for a table with a unique index (a primary key's, a
  unique constraint's or its own) on exactly the column: PostgreSQL enforces it on every write, so the
  catalog answers instead of a group by of every row (7 to 10 s at 5 million rows). Found first in the
  root project, it replaces dbt's own.
-#}
{% macro postgres__test_unique(model, column_name) %}
{%- set indexed = execute and model is not string and alpha_has_unique_index(model, [column_name]) -%}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where
    {{ column_name }} is not null
    {%- if indexed %}
    -- {{ model }} has a unique index on exactly {{ column_name }}
    and false
    {%- endif %}
group by {{ column_name }}
having count(*) > 1
{% endmacro %}
